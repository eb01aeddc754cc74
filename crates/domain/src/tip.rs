//! Following a tip (tin báo) to its outcome: the steps leaders and officers append to an
//! observation, the order they may come in, and the outcome shown when two leaders answered the
//! same tip at once. Every step is an appended record; nothing is ever edited: a step taken by
//! mistake is withdrawn by a later step that names it and says why.

use super::text::{self, TextError, MEDIUM_TEXT_MAX};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One step in a tip's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TipStep {
    /// Passed to the ward police (chuyển công an phường).
    Forwarded,
    /// Confirmed as a valuable tip (tin có giá trị).
    Valuable,
    /// Closed: there was nothing to it (không có cơ sở).
    Unfounded,
    /// Closed: dealt with (đã xử lý).
    Resolved,
    /// Takes back the step it follows (`after`), with a reason in its note: the tip is then as if
    /// that step had not been taken (rút lại). Not a stage of the tip, so not in [`TipStep::ALL`].
    Withdrawn,
}

impl TipStep {
    /// Every step, in rank order: a later step outranks an earlier one (see [`outcome`]).
    pub const ALL: [TipStep; 4] = [
        TipStep::Forwarded,
        TipStep::Valuable,
        TipStep::Unfounded,
        TipStep::Resolved,
    ];

    /// The stable code stored in databases and sent on the wire.
    pub fn code(self) -> &'static str {
        match self {
            TipStep::Forwarded => "forwarded",
            TipStep::Valuable => "valuable",
            TipStep::Unfounded => "unfounded",
            TipStep::Resolved => "resolved",
            TipStep::Withdrawn => "withdrawn",
        }
    }

    /// The step with `code`, or `None` for a code this build does not know.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain([TipStep::Withdrawn])
            .find(|s| s.code() == code)
    }

    /// The translation key of the step's name.
    pub fn key(self) -> String {
        format!("tip.step.{}", self.code())
    }

    /// Whether the tip is closed after this step.
    pub fn closes(self) -> bool {
        matches!(self, TipStep::Unfounded | TipStep::Resolved)
    }
}

/// Whether `next` may follow `prev` (`None`: the tip has no step yet). Steps only move forward:
/// an open tip may take any step; a forwarded one may be confirmed, resolved or closed as
/// unfounded; a valuable one may only be resolved; a closed one takes nothing more. Any step
/// may be withdrawn (a withdrawal itself may not: the step is taken again instead).
pub fn allowed(prev: Option<TipStep>, next: TipStep) -> bool {
    use TipStep::*;
    match (prev, next) {
        (Some(Withdrawn), _) | (None, Withdrawn) => false,
        (Some(_), Withdrawn) => true,
        (None, _) => true,
        (Some(Forwarded), _) => matches!(next, Valuable | Unfounded | Resolved),
        (Some(Valuable), _) => next == Resolved,
        (Some(Unfounded | Resolved), _) => false,
    }
}

/// The ids of the steps taken back (named by a withdrawal's `after`).
pub fn withdrawn_ids<'a>(steps: impl IntoIterator<Item = &'a FollowUp>) -> Vec<&'a str> {
    steps
        .into_iter()
        .filter(|f| f.step == TipStep::Withdrawn)
        .filter_map(|f| f.after.as_deref())
        .collect()
}

/// The steps that count: neither a withdrawal nor a step withdrawn (by a withdrawal naming it).
pub fn standing<'a>(steps: impl IntoIterator<Item = &'a FollowUp>) -> Vec<&'a FollowUp> {
    let steps: Vec<&FollowUp> = steps.into_iter().collect();
    let withdrawn = withdrawn_ids(steps.iter().copied());
    steps
        .into_iter()
        .filter(|f| f.step != TipStep::Withdrawn && !withdrawn.contains(&f.id.as_str()))
        .collect()
}

/// A step appended to an observation by a leader or an officer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    /// UUIDv7.
    pub id: String,
    /// The observation (its id) the tip is.
    pub observation_id: String,
    /// What was done.
    pub step: TipStep,
    /// A short note (who at the police took it, what was found).
    pub note: Option<String>,
    /// The member (leader, officer) who took the step.
    pub by: String,
    /// The step this one follows, as its author saw the tip (`None`: the tip had no step).
    pub after: Option<String>,
    /// Device clock.
    pub at: DateTime<Utc>,
}

/// Why a follow-up is refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TipError {
    /// The step it follows is not a step of this tip.
    #[error("follow-up {after} is not a step of this tip")]
    UnknownAfter {
        /// The id given.
        after: String,
    },
    /// The step may not follow the one before it (resolving twice, forwarding a closed tip).
    #[error("'{}' cannot follow '{}'", next.code(), prev.map_or("none", TipStep::code))]
    OutOfOrder {
        /// The step before, if any.
        prev: Option<TipStep>,
        /// The step refused.
        next: TipStep,
    },
    /// A step of this tip already has this id (a step is taken once).
    #[error("follow-up {id} is already a step of this tip")]
    Taken {
        /// The id given.
        id: String,
    },
    /// The note breaks a text limit.
    #[error(transparent)]
    Note(#[from] TextError),
    /// A withdrawal without a reason, or naming no step.
    #[error("a withdrawal needs a reason and the step it takes back")]
    Withdrawal,
}

/// The note as stored: trimmed, `None` when empty, at most [`MEDIUM_TEXT_MAX`] characters.
pub fn note(text: &str) -> Result<Option<String>, TipError> {
    Ok(text::optional("field.tip_note", text, MEDIUM_TEXT_MAX)?)
}

/// Checks `next` against the steps already known for its tip (`known`, any order): its id must be
/// new, the step it follows must be one of them, and its step must be allowed after that one. A
/// step that follows none may not come after a step that closed the tip.
pub fn check(known: &[FollowUp], next: &FollowUp) -> Result<(), TipError> {
    let this_tip = || {
        known
            .iter()
            .filter(|f| f.observation_id == next.observation_id)
    };
    if this_tip().any(|f| f.id == next.id) {
        return Err(TipError::Taken {
            id: next.id.clone(),
        });
    }
    let prev = match &next.after {
        None => standing(this_tip())
            .into_iter()
            .map(|f| f.step)
            .filter(|s| s.closes())
            .max(),
        Some(after) => Some(
            known
                .iter()
                .find(|f| &f.id == after && f.observation_id == next.observation_id)
                .ok_or_else(|| TipError::UnknownAfter {
                    after: after.clone(),
                })?
                .step,
        ),
    };
    if !allowed(prev, next.step) {
        return Err(TipError::OutOfOrder {
            prev,
            next: next.step,
        });
    }
    if let Some(n) = &next.note {
        note(n)?;
    }
    // Two leaders may take back the same step at once (both offline): both are kept, as two
    // answers are; the step is withdrawn either way.
    if next.step == TipStep::Withdrawn
        && (next.after.is_none() || next.note.as_deref().is_none_or(|n| n.trim().is_empty()))
    {
        return Err(TipError::Withdrawal);
    }
    Ok(())
}

/// The outcome shown for a tip with these steps, whatever order they arrived in: the step of
/// highest rank ([`TipStep::ALL`]'s order). Along one chain steps only move up in rank, so this
/// is the chain's last step; when two leaders answered the same tip at once (both offline, both
/// following the same step), both records are kept and the higher-ranked answer is shown, with
/// [`TipState::answered_twice`] set. No clock is consulted, so every phone and the server agree.
pub fn outcome<'a>(steps: impl IntoIterator<Item = &'a FollowUp>) -> TipState {
    let all: Vec<&FollowUp> = steps.into_iter().collect();
    let steps = standing(all.iter().copied());
    // A step that follows a withdrawn one follows, in effect, the step that one followed: two
    // answers to the same standing step are two answers, whoever saw the withdrawal.
    let standing_after = |mut after: Option<&'a str>| {
        for _ in 0..all.len() {
            let Some(id) = after else { break };
            if steps.iter().any(|f| f.id == id) {
                break;
            }
            after = all
                .iter()
                .find(|f| f.id == id)
                .and_then(|f| f.after.as_deref());
        }
        after
    };
    let mut afters: Vec<Option<&str>> = steps
        .iter()
        .map(|f| standing_after(f.after.as_deref()))
        .collect();
    afters.sort_unstable();
    let before = afters.len();
    afters.dedup();
    TipState {
        outcome: steps.iter().map(|f| f.step).max(),
        answered_twice: afters.len() < before,
    }
}

/// The step shown for a tip with these steps: of those of the outcome's rank ([`outcome`]), the
/// latest by device clock (then id). A new step follows it; its note is the one shown.
pub fn shown<'a>(steps: impl IntoIterator<Item = &'a FollowUp>) -> Option<&'a FollowUp> {
    let steps = standing(steps);
    let top = steps.iter().map(|f| f.step).max()?;
    steps
        .into_iter()
        .filter(|f| f.step == top)
        .max_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)))
}

/// What a tip's steps add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TipState {
    /// The step shown; `None` while no one has taken a step.
    pub outcome: Option<TipStep>,
    /// Two steps followed the same one (two leaders at once); both are kept.
    pub answered_twice: bool,
}

impl TipState {
    /// Whether the tip still waits for a decision (no step yet, or not closed).
    pub fn waiting(&self) -> bool {
        !self.outcome.is_some_and(TipStep::closes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;
    use TipStep::*;

    fn step(id: &str, s: TipStep, after: Option<&str>) -> FollowUp {
        FollowUp {
            id: id.into(),
            observation_id: "o1".into(),
            step: s,
            note: None,
            by: "leader".into(),
            after: after.map(Into::into),
            at: Utc.with_ymd_and_hms(2026, 12, 5, 15, 0, 0).unwrap(),
        }
    }

    #[test]
    fn the_order_table() {
        let rows: [(Option<TipStep>, [bool; 4]); 5] = [
            // prev          Forwarded Valuable Unfounded Resolved
            (None, [true, true, true, true]),
            (Some(Forwarded), [false, true, true, true]),
            (Some(Valuable), [false, false, false, true]),
            (Some(Unfounded), [false, false, false, false]),
            (Some(Resolved), [false, false, false, false]),
        ];
        for (prev, want) in rows {
            for (next, ok) in TipStep::ALL.into_iter().zip(want) {
                assert_eq!(allowed(prev, next), ok, "{prev:?} -> {next:?}");
            }
        }
    }

    #[test]
    fn check_refuses_a_taken_id_and_a_first_step_on_a_closed_tip() {
        let f = step("f1", Forwarded, None);
        let v = step("f2", Valuable, Some("f1"));
        assert_eq!(
            check(std::slice::from_ref(&f), &step("f1", Valuable, Some("f1"))),
            Err(TipError::Taken { id: "f1".into() })
        );
        // Following none on an open tip (two leaders at once) stays allowed...
        assert_eq!(
            check(&[f.clone(), v.clone()], &step("f3", Resolved, None)),
            Ok(())
        );
        // ...but not once a step closed it.
        let closed = [f, v, step("f3", Unfounded, Some("f1"))];
        assert_eq!(
            check(&closed, &step("f4", Forwarded, None)),
            Err(TipError::OutOfOrder {
                prev: Some(Unfounded),
                next: Forwarded
            })
        );
    }

    #[test]
    fn codes_round_trip_and_match_serde() {
        for s in TipStep::ALL {
            assert_eq!(TipStep::from_code(s.code()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.code());
        }
        assert_eq!(TipStep::from_code("closed"), None);
    }

    #[test]
    fn check_refuses_a_second_resolution_a_step_after_a_closed_tip_and_an_unknown_parent() {
        let f = step("f1", Forwarded, None);
        let r = step("f2", Resolved, Some("f1"));
        assert_eq!(check(&[], &f), Ok(()));
        assert_eq!(check(std::slice::from_ref(&f), &r), Ok(()));
        let known = [f.clone(), r.clone()];
        assert_eq!(
            check(&known, &step("f3", Resolved, Some("f2"))),
            Err(TipError::OutOfOrder {
                prev: Some(Resolved),
                next: Resolved
            })
        );
        assert_eq!(
            check(&known, &step("f3", Forwarded, Some("f2"))),
            Err(TipError::OutOfOrder {
                prev: Some(Resolved),
                next: Forwarded
            })
        );
        assert_eq!(
            check(&known, &step("f3", Valuable, Some("nope"))),
            Err(TipError::UnknownAfter {
                after: "nope".into()
            })
        );
        let mut other_tip = f.clone();
        other_tip.observation_id = "o2".into();
        assert!(matches!(
            check(&[other_tip], &step("f3", Valuable, Some("f1"))),
            Err(TipError::UnknownAfter { .. })
        ));
        let mut long = step("f3", Valuable, Some("f1"));
        long.note = Some("x".repeat(MEDIUM_TEXT_MAX + 1));
        assert!(matches!(check(&known, &long), Err(TipError::Note(_))));
    }

    #[test]
    fn two_leaders_at_once_both_kept_and_the_higher_rank_shown() {
        let f = step("f1", Forwarded, None);
        let a = step("a", Unfounded, Some("f1"));
        let b = step("b", Valuable, Some("f1"));
        let s = outcome([&f, &a, &b]);
        assert_eq!(s.outcome, Some(Unfounded));
        assert!(s.answered_twice);
        assert!(!s.waiting());
        let s = outcome([&f, &b]);
        assert_eq!(s.outcome, Some(Valuable));
        assert!(!s.answered_twice);
        assert!(s.waiting());
        assert_eq!(outcome([]), TipState::default());
        assert!(TipState::default().waiting());
    }

    proptest! {
        /// Any chain of allowed steps ends on the outcome shown, in any arrival order.
        #[test]
        fn a_chain_shows_its_last_step_whatever_the_order(picks in proptest::collection::vec(0usize..4, 1..6), rot in 0usize..6) {
            let mut chain: Vec<FollowUp> = Vec::new();
            for p in picks {
                let prev = chain.last().map(|f| f.step);
                let next = TipStep::ALL[p];
                if allowed(prev, next) {
                    let f = step(&format!("f{}", chain.len()), next, chain.last().map(|f| f.id.as_str()));
                    prop_assert_eq!(check(&chain, &f), Ok(()));
                    chain.push(f);
                }
            }
            prop_assume!(!chain.is_empty());
            let last = chain.last().unwrap().step;
            let n = chain.len();
            chain.rotate_left(rot % n);
            let s = outcome(chain.iter());
            prop_assert_eq!(s.outcome, Some(last));
            prop_assert!(!s.answered_twice);
        }
    }

    #[test]
    fn a_withdrawn_step_no_longer_counts_and_the_tip_goes_on_from_the_one_before() {
        let f = step("f1", Forwarded, None);
        let v = step("f2", Valuable, Some("f1"));
        let mut w = step("w1", Withdrawn, Some("f2"));
        // A withdrawal says why.
        assert_eq!(
            check(&[f.clone(), v.clone()], &w),
            Err(TipError::Withdrawal)
        );
        w.note = Some("Bấm nhầm".into());
        assert_eq!(check(&[f.clone(), v.clone()], &w), Ok(()));
        let known = [f.clone(), v.clone(), w.clone()];
        assert_eq!(outcome(&known).outcome, Some(Forwarded));
        assert_eq!(shown(&known).map(|s| s.id.as_str()), Some("f1"));
        // The tip goes on from the forwarded step: it may be closed, or confirmed again.
        assert_eq!(check(&known, &step("f3", Unfounded, Some("f1"))), Ok(()));
        let again = step("f3", Valuable, Some("f1"));
        assert_eq!(check(&known, &again), Ok(()));
        let s = outcome([&f, &v, &w, &again]);
        assert_eq!(
            (s.outcome, s.answered_twice),
            (Some(Valuable), false),
            "the withdrawn answer is not a second one"
        );
        // Two leaders taking back the same step at once: both kept, the step withdrawn once; a
        // withdrawal is never withdrawn; a closed tip withdrawn reopens.
        let mut twice = w.clone();
        twice.id = "w2".into();
        assert_eq!(check(&known, &twice), Ok(()));
        assert_eq!(outcome([&f, &v, &w, &twice]).outcome, Some(Forwarded));
        let mut of_withdrawal = step("w3", Withdrawn, Some("w1"));
        of_withdrawal.note = Some("x".into());
        assert!(matches!(
            check(&known, &of_withdrawal),
            Err(TipError::OutOfOrder { .. })
        ));
        let closed = step("c", Unfounded, Some("f1"));
        let mut reopen = step("w4", Withdrawn, Some("c"));
        reopen.note = Some("Có thêm tin".into());
        assert!(!outcome([&f, &closed]).waiting());
        assert!(outcome([&f, &closed, &reopen]).waiting());
        // Nothing standing: the tip is back to no step.
        let mut first = step("w5", Withdrawn, Some("f1"));
        first.note = Some("Nhầm tin".into());
        assert_eq!(outcome([&f, &first]), TipState::default());
        assert_eq!(TipStep::from_code("withdrawn"), Some(Withdrawn));
        // A withdrawal names the step it takes back.
        let mut nameless = step("w6", Withdrawn, None);
        nameless.note = Some("x".into());
        assert_eq!(
            check(&[f.clone(), closed.clone()], &nameless),
            Err(TipError::Withdrawal)
        );
        // A leader who never saw the withdrawal answers the withdrawn step; another answers the
        // step it followed: two answers to one standing step.
        let unseen = step("r", Resolved, Some("f2"));
        let s = outcome([&f, &v, &w, &again, &unseen]);
        assert_eq!((s.outcome, s.answered_twice), (Some(Resolved), true));
    }
}
