//! The team's roster (lịch trực): which members are due on which slot of which patrol night.
//!
//! A roster is a list of [`Assignment`]s, one per (night, slot, member). Leaders plan it one night
//! at a time ([`NightPlan`]) or as a [`WeeklyPattern`] expanded over a range of evenings. A night
//! is named by its evening's date (see [`crate::shift`]), so a pattern's weekday is the
//! evening's weekday: "Monday ca2 24:00–04:00" runs in the small hours of Tuesday.
//!
//! From a roster and the shifts actually run: who is due tonight, which planned slots were
//! [`missed`], and who has not patrolled for a long time ([`absent`]).

use super::records::Shift;
use super::shift::{current_or_next, night_of, ShiftSlot, SlotWindow};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use thiserror::Error;

/// Most nights one pattern may cover (a year and a day, so "a whole year" always fits).
pub const MAX_PATTERN_NIGHTS: i64 = 366;

/// One member due on one slot of one patrol night.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Assignment {
    /// The patrol night (the evening's date).
    pub night: NaiveDate,
    /// The slot's code, "ca1".
    pub slot: String,
    /// The member due.
    pub member_id: String,
}

/// Why a roster change is refused.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum RosterError {
    /// The team has no slot with this code.
    #[error("the team has no shift '{slot}' (night {night})")]
    UnknownSlot {
        /// The night named.
        night: NaiveDate,
        /// The code named.
        slot: String,
    },
    /// The night is over: only tonight and later nights may be planned.
    #[error("night {night} is past (tonight is {today}); only tonight and later can be planned")]
    PastNight {
        /// The night named.
        night: NaiveDate,
        /// Tonight.
        today: NaiveDate,
    },
    /// The same member is named twice for one slot of one night.
    #[error("member {member_id} is assigned twice to shift {slot} on {night}")]
    Twice {
        /// The night.
        night: NaiveDate,
        /// The slot.
        slot: String,
        /// The member named twice.
        member_id: String,
    },
    /// The member is not an active member of the team.
    #[error("{0} is not an active member of the team")]
    UnknownMember(String),
    /// The range ends before it starts, or covers too many nights.
    #[error("a range runs from {from} to {to}, at most {MAX_PATTERN_NIGHTS} nights, end not before start")]
    BadRange {
        /// First night.
        from: NaiveDate,
        /// Last night.
        to: NaiveDate,
    },
}

/// One night's plan: slot code → the members due.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NightPlan {
    /// The night.
    pub night: NaiveDate,
    /// Slot code → members. A slot left out has nobody.
    pub slots: BTreeMap<String, Vec<String>>,
}

impl NightPlan {
    /// The plan as assignments, in the order given (duplicates kept, for [`validate`] to refuse).
    pub fn assignments(&self) -> Vec<Assignment> {
        self.slots
            .iter()
            .flat_map(|(slot, members)| {
                members.iter().map(move |m| Assignment {
                    night: self.night,
                    slot: slot.clone(),
                    member_id: m.clone(),
                })
            })
            .collect()
    }
}

/// A week that repeats: for each weekday of the evening, slot code → members.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WeeklyPattern {
    /// Index 0 = Monday … 6 = Sunday ([`Weekday::num_days_from_monday`]).
    pub days: [BTreeMap<String, Vec<String>>; 7],
}

impl WeeklyPattern {
    /// Sets the members of `slot` on evenings of `weekday`.
    pub fn set(&mut self, weekday: Weekday, slot: &str, members: &[&str]) -> &mut Self {
        self.days[weekday.num_days_from_monday() as usize].insert(
            slot.to_string(),
            members.iter().map(|m| m.to_string()).collect(),
        );
        self
    }

    /// The pattern laid over every night from `from` to `to`, both included, in night order.
    /// Refuses a range that ends before it starts or covers more than [`MAX_PATTERN_NIGHTS`].
    pub fn expand(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<Assignment>, RosterError> {
        let nights = nights(from, to)?;
        Ok(nights
            .into_iter()
            .flat_map(|night| {
                NightPlan {
                    night,
                    slots: self.days[night.weekday().num_days_from_monday() as usize].clone(),
                }
                .assignments()
            })
            .collect())
    }
}

/// Every night from `from` to `to`, both included; refused as [`nights`] refuses a range.
pub fn nights(from: NaiveDate, to: NaiveDate) -> Result<Vec<NaiveDate>, RosterError> {
    let len = (to - from).num_days() + 1;
    if !(1..=MAX_PATTERN_NIGHTS).contains(&len) {
        return Err(RosterError::BadRange { from, to });
    }
    Ok((0..len).map(|i| from + Duration::days(i)).collect())
}

/// Parses a weekday as the API writes it: "mon" … "sun" (any case; full English names too).
pub fn parse_weekday(text: &str) -> Option<Weekday> {
    text.trim().parse::<Weekday>().ok()
}

/// Checks planned assignments against the team: every slot exists, no night before `today`
/// (tonight's night, see [`night_of`]), nobody twice in one slot, and every member is in
/// `members` (the team's active members). The first fault found is returned.
pub fn validate(
    assignments: &[Assignment],
    slots: &[ShiftSlot],
    members: &[String],
    today: NaiveDate,
) -> Result<(), RosterError> {
    let codes: HashSet<&str> = slots.iter().map(|s| s.code.as_str()).collect();
    let known: HashSet<&str> = members.iter().map(String::as_str).collect();
    let mut seen = HashSet::new();
    for a in assignments {
        if a.night < today {
            return Err(RosterError::PastNight {
                night: a.night,
                today,
            });
        }
        if !codes.contains(a.slot.as_str()) {
            return Err(RosterError::UnknownSlot {
                night: a.night,
                slot: a.slot.clone(),
            });
        }
        if !known.contains(a.member_id.as_str()) {
            return Err(RosterError::UnknownMember(a.member_id.clone()));
        }
        if !seen.insert(a) {
            return Err(RosterError::Twice {
                night: a.night,
                slot: a.slot.clone(),
                member_id: a.member_id.clone(),
            });
        }
    }
    Ok(())
}

/// The slots `member_id` is due on tonight (the night `now` belongs to in `tz`), in slot order.
pub fn due_tonight<'a>(
    roster: &'a [Assignment],
    member_id: &str,
    now: DateTime<Utc>,
    tz: Tz,
) -> Vec<&'a Assignment> {
    let tonight = night_of(now, tz);
    let mut out: Vec<&Assignment> = roster
        .iter()
        .filter(|a| a.night == tonight && a.member_id == member_id)
        .collect();
    out.sort();
    out
}

/// The slot to offer when a shift starts: the first slot the member is planned on tonight
/// (`planned`) that is not done and whose window has not ended; else the one under way or next.
pub fn suggest<'a>(
    windows: &'a [SlotWindow],
    planned: &[String],
    done: &[String],
    now: DateTime<Utc>,
) -> Option<&'a SlotWindow> {
    windows
        .iter()
        .filter(|w| planned.contains(&w.code) && !done.contains(&w.code) && now < w.end)
        .min_by_key(|w| w.start)
        .or_else(|| current_or_next(windows, now))
}

/// A planned slot of a night that no shift ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Missed {
    /// The night.
    pub night: NaiveDate,
    /// The slot's code.
    pub slot: String,
    /// The members who were due.
    pub member_ids: Vec<String>,
}

/// The planned (night, slot)s whose window has ended by `now` with no shift of that slot and
/// night among `shifts` (the team's shifts run), in night and slot order. A slot the team no
/// longer has is not counted (its window is unknown). A shift run by anyone counts: the slot was
/// patrolled, whoever went.
pub fn missed(
    roster: &[Assignment],
    shifts: &[Shift],
    slots: &[ShiftSlot],
    now: DateTime<Utc>,
    tz: Tz,
) -> Vec<Missed> {
    let run: HashSet<(NaiveDate, &str)> = shifts
        .iter()
        .map(|s| (s.night, s.slot_code.as_str()))
        .collect();
    let mut planned: BTreeMap<(NaiveDate, &str), BTreeSet<&str>> = BTreeMap::new();
    for a in roster {
        planned
            .entry((a.night, a.slot.as_str()))
            .or_default()
            .insert(a.member_id.as_str());
    }
    planned
        .into_iter()
        .filter(|((night, slot), _)| {
            let Some(def) = slots.iter().find(|s| s.code == *slot) else {
                return false;
            };
            def.window(*night, tz).end <= now && !run.contains(&(*night, *slot))
        })
        .map(|((night, slot), members)| Missed {
            night,
            slot: slot.to_string(),
            member_ids: members.into_iter().map(str::to_string).collect(),
        })
        .collect()
}

/// A member who has not patrolled in the last nights asked about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Absence {
    /// The member.
    pub member_id: String,
    /// Their last night on a shift, if they were ever on one.
    pub last_night: Option<NaiveDate>,
}

/// The `members` present on no shift in the last `nights` nights up to `today` (the window is
/// `today - (nights - 1) ..= today`), those never seen first, then the longest absent.
pub fn absent(members: &[String], shifts: &[Shift], today: NaiveDate, nights: u32) -> Vec<Absence> {
    let since = today - Duration::days(nights.max(1) as i64 - 1);
    let mut last: BTreeMap<&str, NaiveDate> = BTreeMap::new();
    for s in shifts.iter().filter(|s| s.night <= today) {
        for m in &s.members_present {
            let e = last.entry(m.as_str()).or_insert(s.night);
            if s.night > *e {
                *e = s.night;
            }
        }
    }
    let mut out: Vec<Absence> = members
        .iter()
        .filter(|m| last.get(m.as_str()).is_none_or(|n| *n < since))
        .map(|m| Absence {
            member_id: m.clone(),
            last_night: last.get(m.as_str()).copied(),
        })
        .collect();
    out.sort_by(|a, b| {
        a.last_night
            .cmp(&b.last_night)
            .then(a.member_id.cmp(&b.member_id))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shift::{default_slots, DEFAULT_TZ};
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn local(y: i32, mo: u32, day: u32, h: u32, mi: u32) -> DateTime<Utc> {
        DEFAULT_TZ
            .with_ymd_and_hms(y, mo, day, h, mi, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_planned_slot_is_offered_until_it_is_done_or_over() {
        let night = d(2025, 12, 5);
        let windows = crate::shift::windows_for_night(&default_slots(), night, DEFAULT_TZ);
        let code = |w: Option<&SlotWindow>| w.map(|w| w.code.clone());
        let ca2 = vec!["ca2".to_string()];
        // 21:00, during ca1: a member planned on ca2 is offered ca2, others the one under way.
        let at = local(2025, 12, 5, 21, 0);
        assert_eq!(code(suggest(&windows, &ca2, &[], at)), Some("ca2".into()));
        assert_eq!(code(suggest(&windows, &[], &[], at)), Some("ca1".into()));
        // ca2 already ended tonight: back to the one under way.
        assert_eq!(code(suggest(&windows, &ca2, &ca2, at)), Some("ca1".into()));
        // 02:00 the next morning belongs to the same night; ca2 is under way and planned.
        let late = local(2025, 12, 6, 2, 0);
        assert_eq!(code(suggest(&windows, &ca2, &[], late)), Some("ca2".into()));
        // Planned on ca1, but ca1 is over at 02:00: the one under way.
        let ca1 = vec!["ca1".to_string()];
        assert_eq!(code(suggest(&windows, &ca1, &[], late)), Some("ca2".into()));
    }

    fn shift(night: NaiveDate, slot: &str, members: &[&str]) -> Shift {
        Shift {
            id: format!("s-{night}-{slot}"),
            team_id: "t".into(),
            slot_code: slot.into(),
            night,
            started_at: Utc::now(),
            members_present: members.iter().map(|m| m.to_string()).collect(),
            ended_at: None,
            handover_note: None,
        }
    }

    fn a(night: NaiveDate, slot: &str, m: &str) -> Assignment {
        Assignment {
            night,
            slot: slot.into(),
            member_id: m.into(),
        }
    }

    fn members() -> Vec<String> {
        ["m1", "m2", "m3"].map(String::from).to_vec()
    }

    #[test]
    fn a_pattern_crosses_the_year_end_on_the_evening_weekday() {
        let mut p = WeeklyPattern::default();
        p.set(Weekday::Wed, "ca1", &["m1"])
            .set(Weekday::Thu, "ca2", &["m2", "m3"]);
        // 31 Dec 2025 is a Wednesday, 1 Jan 2026 a Thursday.
        let got = p.expand(d(2025, 12, 29), d(2026, 1, 4)).unwrap();
        assert_eq!(
            got,
            vec![
                a(d(2025, 12, 31), "ca1", "m1"),
                a(d(2026, 1, 1), "ca2", "m2"),
                a(d(2026, 1, 1), "ca2", "m3"),
            ]
        );
    }

    #[test]
    fn ranges_are_checked() {
        let p = WeeklyPattern::default();
        assert!(matches!(
            p.expand(d(2026, 1, 2), d(2026, 1, 1)),
            Err(RosterError::BadRange { .. })
        ));
        assert!(p.expand(d(2028, 1, 1), d(2028, 12, 31)).is_ok()); // 366 nights, a leap year
        assert!(p.expand(d(2028, 1, 1), d(2029, 1, 1)).is_err());
        assert_eq!(nights(d(2026, 2, 27), d(2026, 3, 2)).unwrap().len(), 4);
        assert_eq!(parse_weekday("mon"), Some(Weekday::Mon));
        assert_eq!(parse_weekday("Sunday"), Some(Weekday::Sun));
        assert_eq!(parse_weekday("t2"), None);
    }

    #[test]
    fn validation_refuses_each_fault() {
        let slots = default_slots();
        let today = d(2026, 5, 10);
        let ok = vec![a(today, "ca1", "m1"), a(today, "ca2", "m1")];
        assert_eq!(validate(&ok, &slots, &members(), today), Ok(()));
        assert_eq!(
            validate(&[a(d(2026, 5, 9), "ca1", "m1")], &slots, &members(), today),
            Err(RosterError::PastNight {
                night: d(2026, 5, 9),
                today
            })
        );
        assert!(matches!(
            validate(&[a(today, "ca9", "m1")], &slots, &members(), today),
            Err(RosterError::UnknownSlot { .. })
        ));
        assert_eq!(
            validate(&[a(today, "ca1", "x")], &slots, &members(), today),
            Err(RosterError::UnknownMember("x".into()))
        );
        let twice = NightPlan {
            night: today,
            slots: [("ca1".to_string(), vec!["m2".to_string(), "m2".to_string()])].into(),
        };
        assert!(matches!(
            validate(&twice.assignments(), &slots, &members(), today),
            Err(RosterError::Twice { .. })
        ));
    }

    #[test]
    fn due_tonight_counts_the_small_hours_as_last_night() {
        let roster = vec![
            a(d(2026, 12, 31), "ca2", "m1"),
            a(d(2026, 12, 31), "ca1", "m1"),
            a(d(2027, 1, 1), "ca1", "m1"),
            a(d(2026, 12, 31), "ca1", "m2"),
        ];
        // 02:00 on 1 Jan 2027 is still the night of 31 Dec.
        let due = due_tonight(&roster, "m1", local(2027, 1, 1, 2, 0), DEFAULT_TZ);
        assert_eq!(
            due.iter().map(|a| a.slot.as_str()).collect::<Vec<_>>(),
            ["ca1", "ca2"]
        );
        let due = due_tonight(&roster, "m1", local(2027, 1, 1, 13, 0), DEFAULT_TZ);
        assert_eq!(due, vec![&roster[2]]);
    }

    #[test]
    fn a_slot_is_missed_once_its_window_ended_without_a_shift() {
        let slots = default_slots();
        let n = d(2026, 2, 28);
        let roster = vec![
            a(n, "ca1", "m1"),
            a(n, "ca1", "m2"),
            a(n, "ca2", "m3"),
            a(d(2026, 3, 1), "ca1", "m1"),
        ];
        let run = vec![shift(n, "ca2", &["m2"])];
        // 23:00 on the night: ca1 still runs; nothing missed.
        assert!(missed(&roster, &run, &slots, local(2026, 2, 28, 23, 0), DEFAULT_TZ).is_empty());
        // Midnight exactly: ca1 (20:00–24:00) has ended and no shift of it was run.
        let at = local(2026, 3, 1, 0, 0);
        assert_eq!(
            missed(&roster, &run, &slots, at, DEFAULT_TZ),
            vec![Missed {
                night: n,
                slot: "ca1".into(),
                member_ids: vec!["m1".into(), "m2".into()]
            }]
        );
        // The next morning: ca2 was run (by someone else), the next night has not come.
        let at = local(2026, 3, 1, 8, 0);
        assert_eq!(missed(&roster, &run, &slots, at, DEFAULT_TZ).len(), 1);
        // A shift of the same slot on another night does not count.
        let other = vec![shift(d(2026, 2, 27), "ca1", &["m1"])];
        assert_eq!(missed(&roster, &other, &slots, at, DEFAULT_TZ).len(), 2);
        // A slot the team no longer has is not counted.
        let gone = vec![a(n, "ca9", "m1")];
        assert!(missed(&gone, &[], &slots, at, DEFAULT_TZ).is_empty());
    }

    #[test]
    fn absent_members_are_those_off_every_recent_shift() {
        let today = d(2026, 1, 3);
        let shifts = vec![
            shift(d(2025, 12, 20), "ca1", &["m1", "m2"]),
            shift(d(2026, 1, 1), "ca1", &["m2"]),
            shift(d(2026, 1, 9), "ca1", &["m1"]), // after today: ignored
        ];
        let got = absent(&members(), &shifts, today, 7);
        assert_eq!(
            got,
            vec![
                Absence {
                    member_id: "m3".into(),
                    last_night: None
                },
                Absence {
                    member_id: "m1".into(),
                    last_night: Some(d(2025, 12, 20))
                },
            ]
        );
        // Window of 3 nights: 1–3 Jan; m2 was out on the 1st.
        assert_eq!(absent(&members(), &shifts, today, 3).len(), 2);
        assert_eq!(absent(&members(), &shifts, today, 2).len(), 3);
    }

    proptest! {
        /// A pattern over any range (across month, year and leap-day ends) places each weekday's
        /// plan on exactly the nights of that weekday, each night once, inside the range.
        #[test]
        fn patterns_tile_the_range(start in 0i64..3650, len in 1i64..=MAX_PATTERN_NIGHTS,
                                   mask in proptest::collection::vec(0u8..4, 7)) {
            let mut p = WeeklyPattern::default();
            for (i, m) in mask.iter().enumerate() {
                let wd = Weekday::try_from(i as u8).unwrap();
                if m & 1 == 1 { p.set(wd, "ca1", &["m1"]); }
                if m & 2 == 2 { p.set(wd, "ca2", &["m2", "m3"]); }
            }
            let from = d(2024, 1, 1) + Duration::days(start);
            let to = from + Duration::days(len - 1);
            let got = p.expand(from, to).unwrap();
            let mut want = 0usize;
            let mut night = from;
            while night <= to {
                let m = mask[night.weekday().num_days_from_monday() as usize];
                want += (m & 1) as usize + 2 * ((m >> 1) & 1) as usize;
                night = night.succ_opt().unwrap();
            }
            prop_assert_eq!(got.len(), want);
            for x in &got {
                prop_assert!(from <= x.night && x.night <= to);
                let m = mask[x.night.weekday().num_days_from_monday() as usize];
                let planned = if x.slot == "ca1" { m & 1 == 1 } else { m & 2 == 2 };
                prop_assert!(planned);
            }
            let unique: HashSet<&Assignment> = got.iter().collect();
            prop_assert_eq!(unique.len(), got.len());
            prop_assert!(validate(&got, &default_slots(), &members(), from).is_ok());
        }

        /// A planned slot is missed exactly when its window is over and no shift of it ran.
        #[test]
        fn missed_is_window_over_and_not_run(day in 0i64..1500, slot in 0usize..2,
                                             run in any::<bool>(), minutes in 0i64..(3 * 24 * 60)) {
            let slots = default_slots();
            let night = d(2025, 12, 1) + Duration::days(day);
            let code = &slots[slot].code;
            let roster = vec![a(night, code, "m1")];
            let shifts = if run { vec![shift(night, code, &["m2"])] } else { vec![] };
            let now = slots[0].window(night, DEFAULT_TZ).start + Duration::minutes(minutes);
            let over = slots[slot].window(night, DEFAULT_TZ).end <= now;
            let got = missed(&roster, &shifts, &slots, now, DEFAULT_TZ);
            prop_assert_eq!(got.len(), usize::from(over && !run));
        }
    }
}
