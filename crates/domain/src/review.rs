//! A team's nights read back from its records: the shift logs, the route's gaps and the tips with
//! their outcome. One function over plain records, used by the leader's phone (over the events it
//! pulled) and by the server (over the events it stores).

use super::records::{CheckIn, Correction, LogEntry, Observation, Shift, ShiftLog};
use super::shift::ShiftSlot;
use super::tip::{outcome, FollowUp, TipState};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One record of a team, as its event carried it.
#[derive(Debug, Clone, PartialEq)]
pub enum TeamRecord {
    /// A shift started (the shift as it was then).
    Started(Shift),
    /// A check-in.
    CheckIn(CheckIn),
    /// An observation.
    Observation(Observation),
    /// A correction of an earlier entry.
    Correction(Correction),
    /// A shift ended (the shift with its end and handover note).
    Ended(Shift),
    /// A step on a tip.
    FollowUp(FollowUp),
}

/// A tip: an observation with the steps taken on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tip {
    /// The observation.
    pub observation: Observation,
    /// The night of its shift.
    pub night: NaiveDate,
    /// Its shift's slot code.
    pub slot_code: String,
    /// The steps, oldest first by device clock.
    pub steps: Vec<FollowUp>,
    /// The photos it shows now (its own, after its corrections' additions and removals).
    #[serde(default)]
    pub photos: Vec<super::photo::PhotoRef>,
    /// What they add up to.
    pub state: TipState,
}

/// A team's shifts and tips.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TeamLog {
    /// Every shift, newest first, with its entries in device-clock order.
    pub shifts: Vec<ShiftLog>,
    /// Every observation as a tip: waiting ones first (urgent first among them), newest first.
    pub tips: Vec<Tip>,
}

/// A team event that does not parse as its kind's record: kept where it is, and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unreadable {
    /// The event's id.
    pub event_id: String,
    /// Why it does not parse.
    pub detail: String,
}

/// A team's log as one side holds it (a reviewer's phone, the server), and what could not be
/// read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TeamView {
    /// Shifts and tips.
    pub log: TeamLog,
    /// Events that do not parse, each named.
    pub unreadable: Vec<Unreadable>,
}

/// Builds the team's log from its records, in any order. A record of a shift that never arrived
/// (its start event not pulled yet) is left out until it does; a record seen twice counts once.
pub fn team_log(records: impl IntoIterator<Item = TeamRecord>, route_len: usize) -> TeamLog {
    let mut shifts: HashMap<String, Shift> = HashMap::new();
    let mut entries: HashMap<String, Vec<LogEntry>> = HashMap::new();
    let mut steps: HashMap<String, Vec<FollowUp>> = HashMap::new();
    let mut seen = std::collections::HashSet::new();
    for r in records {
        match r {
            TeamRecord::Started(s) => {
                // An end seen first is kept: it holds everything the start does, and more.
                shifts.entry(s.id.clone()).or_insert(s);
            }
            TeamRecord::Ended(s) => {
                shifts.insert(s.id.clone(), s);
            }
            TeamRecord::CheckIn(c) if seen.insert(c.id.clone()) => entries
                .entry(c.shift_id.clone())
                .or_default()
                .push(LogEntry::CheckIn(c)),
            TeamRecord::Observation(o) if seen.insert(o.id.clone()) => entries
                .entry(o.shift_id.clone())
                .or_default()
                .push(LogEntry::Observation(o)),
            TeamRecord::Correction(c) if seen.insert(c.id.clone()) => entries
                .entry(c.shift_id.clone())
                .or_default()
                .push(LogEntry::Correction(c)),
            TeamRecord::FollowUp(f) if seen.insert(f.id.clone()) => {
                steps.entry(f.observation_id.clone()).or_default().push(f)
            }
            _ => {}
        }
    }
    let mut logs: Vec<ShiftLog> = shifts
        .into_values()
        .map(|shift| {
            let mut e = entries.remove(&shift.id).unwrap_or_default();
            e.sort_by(|a, b| (entry_at(a), entry_id(a)).cmp(&(entry_at(b), entry_id(b))));
            ShiftLog::new(shift, e, route_len)
        })
        .collect();
    logs.sort_by(|a, b| (b.shift.started_at, &b.shift.id).cmp(&(a.shift.started_at, &a.shift.id)));
    let mut tips: Vec<Tip> = logs
        .iter()
        .flat_map(|log| {
            log.entries.iter().filter_map(move |e| match e {
                LogEntry::Observation(o) => Some((log, o)),
                _ => None,
            })
        })
        .map(|(log, o)| {
            let mut s = steps.remove(&o.id).unwrap_or_default();
            s.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
            let photos = super::photo::shown(
                &o.photos,
                log.entries.iter().filter_map(|e| match e {
                    LogEntry::Correction(c) if c.target_id == o.id => {
                        Some((c.photos_added.as_slice(), c.photos_removed.as_slice()))
                    }
                    _ => None,
                }),
            );
            Tip {
                state: outcome(&s),
                photos,
                observation: o.clone(),
                night: log.shift.night,
                slot_code: log.shift.slot_code.clone(),
                steps: s,
            }
        })
        .collect();
    tips.sort_by(|a, b| {
        (
            b.state.waiting(),
            b.observation.urgent,
            b.observation.at,
            &b.observation.id,
        )
            .cmp(&(
                a.state.waiting(),
                a.observation.urgent,
                a.observation.at,
                &a.observation.id,
            ))
    });
    TeamLog { shifts: logs, tips }
}

fn entry_at(e: &LogEntry) -> DateTime<Utc> {
    match e {
        LogEntry::CheckIn(c) => c.at,
        LogEntry::Observation(o) => o.at,
        LogEntry::Correction(c) => c.at,
    }
}

fn entry_id(e: &LogEntry) -> &str {
    match e {
        LogEntry::CheckIn(c) => &c.id,
        LogEntry::Observation(o) => &o.id,
        LogEntry::Correction(c) => &c.id,
    }
}

/// Longest stretch inside a shift with nothing recorded before it is flagged.
pub const QUIET_MINUTES: i64 = 60;

/// Something a leader should look at in a shift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Gap {
    /// A checkpoint of the route with no check-in.
    NeverVisited {
        /// The checkpoint's id.
        checkpoint_id: String,
    },
    /// More than [`QUIET_MINUTES`] with nothing recorded.
    Quiet {
        /// Last record before the stretch (or the start).
        from: DateTime<Utc>,
        /// First record after it (or the end, or now).
        to: DateTime<Utc>,
    },
    /// The shift was never ended, and its slot is over.
    NotEnded,
}

/// When the slot of `shift` ends on its night, in the ward's zone `tz` (a slot code the team no
/// longer has: the shift's start, so it reads as over).
pub fn slot_end(slots: &[ShiftSlot], shift: &Shift, tz: Tz) -> DateTime<Utc> {
    slots
        .iter()
        .find(|s| s.code == shift.slot_code)
        .map_or(shift.started_at, |s| s.window(shift.night, tz).end)
}

/// The gaps of `log` against the route's checkpoint ids, at time `now`, for a shift whose slot
/// ends at `slot_end` (a running shift before its slot's end is not "never ended").
pub fn gaps(
    log: &ShiftLog,
    route: &[String],
    slot_end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<Gap> {
    let mut out: Vec<Gap> = route
        .iter()
        .filter(|cp| {
            !log.entries
                .iter()
                .any(|e| matches!(e, LogEntry::CheckIn(c) if &&c.checkpoint_id == cp))
        })
        .map(|cp| Gap::NeverVisited {
            checkpoint_id: cp.clone(),
        })
        .collect();
    let end = log.shift.ended_at.unwrap_or(now.min(slot_end));
    let mut times: Vec<DateTime<Utc>> = log.entries.iter().map(entry_at).collect();
    times.push(log.shift.started_at);
    times.push(end);
    times.sort();
    for w in times.windows(2) {
        if w[1] - w[0] > Duration::minutes(QUIET_MINUTES) {
            out.push(Gap::Quiet {
                from: w[0],
                to: w[1],
            });
        }
    }
    if log.shift.ended_at.is_none() && now > slot_end {
        out.push(Gap::NotEnded);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::Category;
    use crate::records::CheckInMethod;
    use crate::tip::TipStep;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        // 2026-12-05 evening in Hà Nội is 13:00 UTC onward.
        Utc.with_ymd_and_hms(2026, 12, 5, h, m, 0).unwrap()
    }

    fn shift(id: &str, start: DateTime<Utc>, end: Option<DateTime<Utc>>) -> Shift {
        Shift {
            id: id.into(),
            team_id: "t1".into(),
            slot_code: "ca1".into(),
            night: NaiveDate::from_ymd_opt(2026, 12, 5).unwrap(),
            started_at: start,
            members_present: vec!["m1".into()],
            ended_at: end,
            handover_note: end.map(|_| "ổn".into()),
        }
    }

    fn checkin(id: &str, shift: &str, cp: &str, at: DateTime<Utc>) -> CheckIn {
        CheckIn {
            id: id.into(),
            shift_id: shift.into(),
            checkpoint_id: cp.into(),
            method: CheckInMethod::Manual,
            verified: false,
            fix: None,
            distance_m: None,
            reason: Some("GPS yếu".into()),
            at,
        }
    }

    fn obs(id: &str, shift: &str, urgent: bool, at: DateTime<Utc>) -> Observation {
        Observation {
            id: id.into(),
            shift_id: shift.into(),
            category: Category::Theft,
            description: Some("mất xe".into()),
            plate: None,
            people: None,
            action: None,
            urgent,
            fix: None,
            at,
            photos: Vec::new(),
        }
    }

    fn step(id: &str, o: &str, s: TipStep, after: Option<&str>) -> FollowUp {
        FollowUp {
            id: id.into(),
            observation_id: o.into(),
            step: s,
            note: None,
            by: "leader".into(),
            after: after.map(Into::into),
            at: t(16, 0),
        }
    }

    #[test]
    fn records_in_any_order_make_the_same_log() {
        let records = vec![
            TeamRecord::Started(shift("s1", t(13, 0), None)),
            TeamRecord::CheckIn(checkin("c1", "s1", "cp1", t(13, 10))),
            TeamRecord::Observation(obs("o1", "s1", false, t(13, 20))),
            TeamRecord::Observation(obs("o2", "s1", true, t(13, 30))),
            TeamRecord::FollowUp(step("f1", "o1", TipStep::Forwarded, None)),
            TeamRecord::FollowUp(step("f2", "o1", TipStep::Resolved, Some("f1"))),
            TeamRecord::Ended(shift("s1", t(13, 0), Some(t(16, 50)))),
            TeamRecord::Started(shift("s0", t(9, 0), None)),
        ];
        let a = team_log(records.clone(), 3);
        let mut reversed = records.clone();
        reversed.reverse();
        reversed.push(records[2].clone()); // a record pulled twice
        let b = team_log(reversed, 3);
        assert_eq!(a, b);
        assert_eq!(a.shifts.len(), 2);
        assert_eq!(a.shifts[0].shift.id, "s1", "newest first");
        assert_eq!(a.shifts[0].shift.ended_at, Some(t(16, 50)), "the end wins");
        assert_eq!(a.shifts[0].entries.len(), 3);
        assert_eq!(a.shifts[0].summary.checkpoints_total, 3);
        // Waiting tips first, the urgent one first among them; the resolved one last.
        let order: Vec<&str> = a.tips.iter().map(|t| t.observation.id.as_str()).collect();
        assert_eq!(order, ["o2", "o1"]);
        assert_eq!(a.tips[1].state.outcome, Some(TipStep::Resolved));
        assert_eq!(a.tips[1].steps.len(), 2);
        assert!(a.tips[0].state.waiting());
    }

    #[test]
    fn records_of_a_shift_not_pulled_yet_wait_for_it() {
        let log = team_log(
            vec![TeamRecord::CheckIn(checkin("c1", "sX", "cp1", t(13, 0)))],
            3,
        );
        assert!(log.shifts.is_empty());
        assert!(log.tips.is_empty());
    }

    #[test]
    fn gaps_name_checkpoints_never_visited_quiet_stretches_and_a_shift_never_ended() {
        let route: Vec<String> = ["cp1", "cp2", "cp3"].map(String::from).to_vec();
        let running = team_log(
            vec![
                TeamRecord::Started(shift("s1", t(13, 0), None)),
                TeamRecord::CheckIn(checkin("c1", "s1", "cp1", t(13, 10))),
                TeamRecord::CheckIn(checkin("c2", "s1", "cp2", t(14, 40))),
            ],
            3,
        )
        .shifts
        .remove(0);
        // While the slot runs (until 17:00 UTC), it is not "never ended".
        let g = gaps(&running, &route, t(17, 0), t(15, 0));
        assert_eq!(
            g,
            vec![
                Gap::NeverVisited {
                    checkpoint_id: "cp3".into()
                },
                Gap::Quiet {
                    from: t(13, 10),
                    to: t(14, 40)
                },
            ]
        );
        // At 18:00 the slot is over: the stretch since the last check-in and the missing end.
        let g = gaps(&running, &route, t(17, 0), t(18, 0));
        assert!(g.contains(&Gap::NotEnded));
        assert!(g.contains(&Gap::Quiet {
            from: t(14, 40),
            to: t(17, 0)
        }));
    }
}
