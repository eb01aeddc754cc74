//! The night-duty allowance (tiền bồi dưỡng trực đêm) and its monthly sheet (bảng chấm công trực
//! đêm): which nights each member was on duty inside the ward's window, each night counted once
//! however many shifts, capped per month, times the rate per night.
//!
//! The rules are the ward's settings ([`AllowanceRules`]); Hồ Chí Minh City's figures of late 2025
//! are the default (150,000 VND a night on duty between 22:00 and 06:00, at most 10 nights a
//! month; a monthly support of 6.5 / 6.3 / 6.0 million VND for leader / deputy / member). Where
//! each rule comes from: docs/domain-rules.md.
//!
//! A night is named by its evening, as patrol nights are ([`crate::shift`]): the window of
//! 22:00–06:00 on the evening of 8 December ends at 06:00 on the 9th, so a shift from 00:00 to
//! 04:00 on the 9th counts for the 8th, and for December even when the 9th is in January.

use super::report::{read, LONGEST_SLOT_MIN};
use super::report_nights::slot_end_of;
use super::review::TeamRecord;
use super::shift::ShiftSlot;
use super::ward::{Role, Team};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// Most VND a ward may pay for one night.
pub const MAX_RATE_VND: u64 = 10_000_000;
/// Most VND of monthly support for one role.
pub const MAX_SUPPORT_VND: u64 = 100_000_000;
/// Longest reason of a leader's mark, in characters.
pub const MAX_REASON_CHARS: usize = 300;

/// A calendar month of evenings, "2026-12" on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    year: i32,
    month: u32,
}

impl YearMonth {
    /// The month `year`-`month`, for years 2000 to 2200.
    pub fn new(year: i32, month: u32) -> Result<Self, AllowanceError> {
        if !(2000..=2200).contains(&year) || !(1..=12).contains(&month) {
            return Err(AllowanceError::Month(format!("{year}-{month:02}")));
        }
        Ok(Self { year, month })
    }

    /// The month holding evening `night`.
    pub fn of(night: NaiveDate) -> Self {
        Self {
            year: night.year(),
            month: night.month(),
        }
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// 1–12.
    pub fn month(self) -> u32 {
        self.month
    }

    /// Its first evening.
    pub fn first(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a checked month has a 1st")
    }

    /// Its last evening.
    pub fn last(self) -> NaiveDate {
        let (y, m) = if self.month == 12 {
            (self.year + 1, 1)
        } else {
            (self.year, self.month + 1)
        };
        NaiveDate::from_ymd_opt(y, m, 1)
            .and_then(|d| d.pred_opt())
            .expect("a checked month has a last day")
    }

    /// Whether evening `night` is in this month.
    pub fn contains(self, night: NaiveDate) -> bool {
        Self::of(night) == self
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for YearMonth {
    type Err = AllowanceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || AllowanceError::Month(s.chars().take(20).collect());
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        Self::new(year, month).map_err(|_| bad())
    }
}

impl Serialize for YearMonth {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for YearMonth {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The monthly support by role, in VND (mức hỗ trợ hằng tháng).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthlySupport {
    /// Tổ trưởng.
    pub leader_vnd: u64,
    /// Tổ phó.
    pub deputy_vnd: u64,
    /// Tổ viên.
    pub member_vnd: u64,
}

impl MonthlySupport {
    /// The support of `role`; officers and admins are not paid by the team's sheet.
    pub fn of(&self, role: Role) -> u64 {
        match role {
            Role::Leader => self.leader_vnd,
            Role::Deputy => self.deputy_vnd,
            Role::Member => self.member_vnd,
            Role::Officer | Role::Admin => 0,
        }
    }
}

/// A ward's allowance rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowanceRules {
    /// Start of the window, minutes after local midnight (22:00 is 1320).
    pub window_start_min: u32,
    /// End of the window, minutes after local midnight; on the next day when not after the start.
    pub window_end_min: u32,
    /// Least minutes of duty inside the window for a night to count.
    pub min_minutes: u32,
    /// Most nights paid in a month.
    pub cap_nights: u32,
    /// VND for each night paid.
    pub rate_vnd: u64,
    /// The monthly supports.
    pub support: MonthlySupport,
}

impl Default for AllowanceRules {
    /// Hồ Chí Minh City's figures (late 2025), with one hour inside the window as the minimum.
    fn default() -> Self {
        Self {
            window_start_min: 22 * 60,
            window_end_min: 6 * 60,
            min_minutes: 60,
            cap_nights: 10,
            rate_vnd: 150_000,
            support: MonthlySupport {
                leader_vnd: 6_500_000,
                deputy_vnd: 6_300_000,
                member_vnd: 6_000_000,
            },
        }
    }
}

impl AllowanceRules {
    /// The window's length in minutes (1 to 1439).
    pub fn window_minutes(&self) -> u32 {
        if self.window_end_min > self.window_start_min {
            self.window_end_min - self.window_start_min
        } else {
            self.window_end_min + 24 * 60 - self.window_start_min
        }
    }

    /// Checks every figure, naming the first out of range.
    pub fn validate(self) -> Result<Self, AllowanceError> {
        let day = 24 * 60;
        if self.window_start_min >= day
            || self.window_end_min >= day
            || self.window_start_min == self.window_end_min
        {
            return Err(AllowanceError::Window);
        }
        if self.min_minutes == 0 || self.min_minutes > self.window_minutes() {
            return Err(AllowanceError::Minimum {
                min: self.min_minutes,
                window: self.window_minutes(),
            });
        }
        if !(1..=31).contains(&self.cap_nights) {
            return Err(AllowanceError::Cap(self.cap_nights));
        }
        if self.rate_vnd > MAX_RATE_VND {
            return Err(AllowanceError::Rate(self.rate_vnd));
        }
        let s = self.support;
        if [s.leader_vnd, s.deputy_vnd, s.member_vnd]
            .iter()
            .any(|v| *v > MAX_SUPPORT_VND)
        {
            return Err(AllowanceError::Support);
        }
        Ok(self)
    }

    /// The window of evening `night` in `tz`, as instants: placed as a shift slot of the same
    /// times is (one starting before noon, 00:00–06:00, on the morning after the evening).
    pub fn window(&self, night: NaiveDate, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let w = ShiftSlot {
            code: String::new(),
            start_min: self.window_start_min,
            length_min: self.window_minutes(),
        }
        .window(night, tz);
        (w.start, w.end)
    }

    /// Whether `month`'s last night is over at `now`: then its sheet may be closed.
    pub fn month_over(&self, month: YearMonth, tz: Tz, now: DateTime<Utc>) -> bool {
        now >= self.window(month.last(), tz).1
    }
}

/// Why allowance rules, a month or a mark are refused.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum AllowanceError {
    /// Not a month of 2000–2200 written YYYY-MM.
    #[error("'{0}' is not a month (YYYY-MM)")]
    Month(String),
    /// The window starts and ends at the same time, or a time is not of the day.
    #[error("the allowance window must start and end at different times of the day")]
    Window,
    /// The minimum is 0 or longer than the window.
    #[error("the minimum time inside the window must be 1 to {window} minutes, not {min}")]
    Minimum {
        /// The minimum asked for.
        min: u32,
        /// The window's length.
        window: u32,
    },
    /// A cap outside 1–31 nights.
    #[error("the monthly cap must be 1 to 31 nights, not {0}")]
    Cap(u32),
    /// A rate above [`MAX_RATE_VND`].
    #[error("the rate per night must be at most {MAX_RATE_VND} VND, not {0}")]
    Rate(u64),
    /// A monthly support above [`MAX_SUPPORT_VND`].
    #[error("a monthly support must be at most {MAX_SUPPORT_VND} VND")]
    Support,
    /// A mark without a reason, or with one longer than [`MAX_REASON_CHARS`].
    #[error("a change to the sheet needs a reason of 1 to {MAX_REASON_CHARS} characters")]
    Reason,
    /// A mark for a night outside the month it is made on.
    #[error("night {night} is not in {month}")]
    NightOutside {
        /// The night.
        night: NaiveDate,
        /// The month.
        month: YearMonth,
    },
}

/// One member's time on one shift, as an interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duty {
    /// The member.
    pub member_id: String,
    /// The shift.
    pub shift_id: String,
    /// When the shift started.
    pub start: DateTime<Utc>,
    /// When it ended, or (not ended) its slot's end, or the time asked about if earlier.
    pub end: DateTime<Utc>,
    /// False for a shift with no end recorded.
    pub ended: bool,
}

/// The duties of `team`'s shifts in `records` (read as the report reads them: each shift as its
/// latest record has it; each member present once per shift), as of `now`: a shift not ended
/// counts up to its slot's end (or `now`, if earlier), as the report counts it; a slot the team
/// does not have counts as its longest one. No shift counts more than [`LONGEST_SLOT_MIN`] after
/// its start: one ended days later (forgotten, or a wrong clock) is cut there and flagged as a
/// shift not ended, for the leader to look at.
pub fn duties(records: &[TeamRecord], team: &Team, tz: Tz, now: DateTime<Utc>) -> Vec<Duty> {
    let slots = &team.slots;
    let mut out = Vec::new();
    for s in read(records).shifts.into_values() {
        if s.team_id != team.id {
            continue;
        }
        let cut = s.started_at + Duration::minutes(i64::from(LONGEST_SLOT_MIN));
        let (end, ended) = match s.ended_at {
            Some(end) if end <= cut => (end, true),
            Some(_) => (cut, false),
            None => (
                slot_end_of(slots, s, tz)
                    .min(now.max(s.started_at))
                    .min(cut),
                false,
            ),
        };
        let members: BTreeSet<&str> = s.members_present.iter().map(String::as_str).collect();
        for m in members {
            out.push(Duty {
                member_id: m.to_string(),
                shift_id: s.id.clone(),
                start: s.started_at,
                end,
                ended,
            });
        }
    }
    out
}

/// A leader's change to one member's night, appended (never edited): the last made for a night wins.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::VariantArray,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum MarkKind {
    /// Count the night although the records do not show it (a member on duty without a phone).
    Add,
    /// Do not count the night although the records show it.
    Remove,
}

coded!(MarkKind, "allowance.kind");

/// A leader's mark on the sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// The member.
    pub member_id: String,
    /// The evening.
    pub night: NaiveDate,
    /// Add or remove.
    pub kind: MarkKind,
    /// Why, as the leader wrote it.
    pub reason: String,
    /// Who made it (member id).
    pub by: String,
    /// When the server stored it.
    pub at: DateTime<Utc>,
}

/// Checks a mark's reason and night against `month`; the reason comes back trimmed.
pub fn check_mark(
    month: YearMonth,
    night: NaiveDate,
    reason: &str,
) -> Result<String, AllowanceError> {
    if !month.contains(night) {
        return Err(AllowanceError::NightOutside { night, month });
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(AllowanceError::Reason);
    }
    Ok(reason.to_string())
}

/// How one night of a member stands on the sheet.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::VariantArray,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum NightStatus {
    /// Counted and paid.
    Paid,
    /// Counted, but beyond the month's cap: shown, not paid.
    OverCap,
    /// Less time inside the window than the minimum.
    BelowMinimum,
    /// Taken off by a leader's mark.
    Removed,
}

coded!(NightStatus, "allowance.status");

/// One night of one member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DutyNight {
    /// The evening.
    pub night: NaiveDate,
    /// Minutes on duty inside the window (overlapping shifts counted once).
    pub minutes: u32,
    /// The shifts it came from, each once.
    pub shifts: Vec<String>,
    /// True when one of them has no end recorded.
    pub unended: bool,
    /// The leader's latest mark on it, if any.
    pub mark: Option<Mark>,
    /// How it stands.
    pub status: NightStatus,
}

/// A member as the sheet lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetMember {
    /// Stable id.
    pub id: String,
    /// Full name.
    pub name: String,
    /// Role in the team.
    pub role: Role,
    /// True for a member who has left the team (they keep the nights they did; no support).
    pub left: bool,
}

/// One member's line on the sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberLine {
    /// The member.
    pub member: SheetMember,
    /// Every night with duty inside the window or a mark, in date order.
    pub nights: Vec<DutyNight>,
    /// Nights paid (at most the cap).
    pub paid: u32,
    /// Nights counted beyond the cap.
    pub over_cap: u32,
    /// Nights below the minimum.
    pub below_minimum: u32,
    /// `paid` × the rate.
    pub allowance_vnd: u64,
    /// The role's monthly support (0 for a member who left).
    pub support_vnd: u64,
}

impl MemberLine {
    /// The allowance and the monthly support together.
    pub fn total_vnd(&self) -> u64 {
        self.allowance_vnd + self.support_vnd
    }
}

/// A team's sheet for a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sheet {
    /// The month.
    pub month: YearMonth,
    /// The rules it was worked out with.
    pub rules: AllowanceRules,
    /// One line per member, in the order given, then members found only in the records.
    pub lines: Vec<MemberLine>,
    /// Nights paid, all members.
    pub paid: u32,
    /// Nights over the cap, all members.
    pub over_cap: u32,
    /// Allowances, all members.
    pub allowance_vnd: u64,
    /// Monthly supports, all members.
    pub support_vnd: u64,
}

/// The sheet of `month` from `duties` (any order; duplicates, overlaps and several teams allowed:
/// a member's night is counted once) and the leaders' `marks` in the order they were made (the
/// last per night wins, whatever the clocks said; marks of other months are ignored), for `members` (their lines first, in that order). Members found
/// in the records or marks only are listed after them, by id, with the id as their name.
pub fn sheet(
    rules: &AllowanceRules,
    tz: Tz,
    month: YearMonth,
    members: &[SheetMember],
    duties: &[Duty],
    marks: &[Mark],
) -> Sheet {
    #[derive(Default)]
    struct Acc<'a> {
        spans: Vec<(DateTime<Utc>, DateTime<Utc>)>,
        shifts: BTreeSet<&'a str>,
        unended: bool,
    }
    let mut acc: BTreeMap<(&str, NaiveDate), Acc> = BTreeMap::new();
    let month_start = rules.window(month.first(), tz).0;
    let month_end = rules.window(month.last(), tz).1;
    for d in duties {
        if d.end <= d.start {
            continue;
        }
        // The part inside the month's windows (so any instant, year 1 or 9999, is safe to place),
        // and the evenings whose window it can touch.
        let (start, end) = (d.start.max(month_start), d.end.min(month_end));
        if start >= end {
            continue;
        }
        let first = start.with_timezone(&tz).date_naive().pred_opt();
        let last = end.with_timezone(&tz).date_naive().min(month.last());
        let Some(mut night) = first.map(|f| f.max(month.first())) else {
            continue;
        };
        while night <= last {
            let (ws, we) = rules.window(night, tz);
            let (s, e) = (d.start.max(ws), d.end.min(we));
            if s < e {
                let a = acc.entry((d.member_id.as_str(), night)).or_default();
                a.spans.push((s, e));
                a.shifts.insert(d.shift_id.as_str());
                a.unended |= !d.ended;
            }
            let Some(next) = night.succ_opt() else { break };
            night = next;
        }
    }
    let mut latest: BTreeMap<(&str, NaiveDate), &Mark> = BTreeMap::new();
    for m in marks.iter().filter(|m| month.contains(m.night)) {
        latest.insert((m.member_id.as_str(), m.night), m);
    }

    let mut order: Vec<SheetMember> = members.to_vec();
    let listed: BTreeSet<&str> = members.iter().map(|m| m.id.as_str()).collect();
    let extra: BTreeSet<&str> = acc
        .keys()
        .chain(latest.keys())
        .map(|(m, _)| *m)
        .filter(|m| !listed.contains(m))
        .collect();
    order.extend(extra.into_iter().map(|id| SheetMember {
        id: id.to_string(),
        name: id.to_string(),
        role: Role::Member,
        left: true,
    }));

    let mut out = Sheet {
        month,
        rules: *rules,
        lines: Vec::with_capacity(order.len()),
        paid: 0,
        over_cap: 0,
        allowance_vnd: 0,
        support_vnd: 0,
    };
    for member in order {
        let id_owned = member.id.clone();
        let id = id_owned.as_str();
        let mut nights: BTreeSet<NaiveDate> = acc
            .range((id, NaiveDate::MIN)..=(id, NaiveDate::MAX))
            .map(|((_, n), _)| *n)
            .collect();
        nights.extend(
            latest
                .range((id, NaiveDate::MIN)..=(id, NaiveDate::MAX))
                .map(|((_, n), _)| *n),
        );
        let mut line = MemberLine {
            support_vnd: if member.left {
                0
            } else {
                rules.support.of(member.role)
            },
            member,
            nights: Vec::with_capacity(nights.len()),
            paid: 0,
            over_cap: 0,
            below_minimum: 0,
            allowance_vnd: 0,
        };
        for night in nights {
            let a = acc.get(&(id, night));
            let minutes = a.map_or(0, |a| union_minutes(&a.spans));
            let mark = latest.get(&(id, night)).map(|m| (*m).clone());
            let counts = match mark.as_ref().map(|m| m.kind) {
                Some(MarkKind::Add) => Some(true),
                Some(MarkKind::Remove) => None,
                None => Some(minutes >= rules.min_minutes),
            };
            let status = match counts {
                None => NightStatus::Removed,
                Some(false) => {
                    line.below_minimum += 1;
                    NightStatus::BelowMinimum
                }
                Some(true) if line.paid < rules.cap_nights => {
                    line.paid += 1;
                    NightStatus::Paid
                }
                Some(true) => {
                    line.over_cap += 1;
                    NightStatus::OverCap
                }
            };
            line.nights.push(DutyNight {
                night,
                minutes,
                shifts: a.map_or_else(Vec::new, |a| {
                    a.shifts.iter().map(|s| s.to_string()).collect()
                }),
                unended: a.is_some_and(|a| a.unended),
                mark,
                status,
            });
        }
        line.allowance_vnd = u64::from(line.paid) * rules.rate_vnd;
        out.paid += line.paid;
        out.over_cap += line.over_cap;
        out.allowance_vnd += line.allowance_vnd;
        out.support_vnd += line.support_vnd;
        out.lines.push(line);
    }
    out
}

impl Sheet {
    /// Allowances and monthly supports together, all members.
    pub fn total_vnd(&self) -> u64 {
        self.allowance_vnd + self.support_vnd
    }
}

/// Whole minutes covered by the union of `spans`.
fn union_minutes(spans: &[(DateTime<Utc>, DateTime<Utc>)]) -> u32 {
    let mut sorted = spans.to_vec();
    sorted.sort();
    let mut seconds = 0i64;
    let mut cur: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    for (s, e) in sorted {
        cur = match cur {
            Some((cs, ce)) if s <= ce => Some((cs, ce.max(e))),
            Some((cs, ce)) => {
                seconds += (ce - cs).num_seconds();
                Some((s, e))
            }
            None => Some((s, e)),
        };
    }
    if let Some((cs, ce)) = cur {
        seconds += (ce - cs).num_seconds();
    }
    u32::try_from(seconds / 60).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Shift;
    use chrono::TimeZone;
    use proptest::prelude::*;

    const TZ: Tz = chrono_tz::Asia::Ho_Chi_Minh;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// Local Hà Nội time `day` `h`:`min` as an instant.
    fn at(day: NaiveDate, h: u32, min: u32) -> DateTime<Utc> {
        TZ.from_local_datetime(&day.and_hms_opt(h, min, 0).unwrap())
            .unwrap()
            .with_timezone(&Utc)
    }

    fn duty(member: &str, shift: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> Duty {
        Duty {
            member_id: member.into(),
            shift_id: shift.into(),
            start,
            end,
            ended: true,
        }
    }

    fn member(id: &str, role: Role) -> SheetMember {
        SheetMember {
            id: id.into(),
            name: format!("Name {id}"),
            role,
            left: false,
        }
    }

    /// Team "t" with the default slots (ca1 20:00–24:00, ca2 24:00–04:00).
    fn team() -> Team {
        Team {
            id: "t".into(),
            name: "T".into(),
            leader_phone: String::new(),
            slots: crate::shift::default_slots(),
        }
    }

    fn dec() -> YearMonth {
        YearMonth::new(2026, 12).unwrap()
    }

    #[test]
    fn months_read_and_print_as_yyyy_mm() {
        let m: YearMonth = "2026-12".parse().unwrap();
        assert_eq!(m, dec());
        assert_eq!(m.to_string(), "2026-12");
        assert_eq!(m.first(), d(2026, 12, 1));
        assert_eq!(m.last(), d(2026, 12, 31));
        assert_eq!(
            "2028-02".parse::<YearMonth>().unwrap().last(),
            d(2028, 2, 29)
        );
        for bad in [
            "2026-13", "2026-1", "26-12", "2026/12", "", "1999-12", "+2026-12",
        ] {
            assert!(bad.parse::<YearMonth>().is_err(), "{bad}");
        }
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"2026-12\"");
        assert!(serde_json::from_str::<YearMonth>("\"2026-00\"").is_err());
    }

    #[test]
    fn the_default_rules_are_the_citys_and_valid() {
        let r = AllowanceRules::default().validate().unwrap();
        assert_eq!(r.window_minutes(), 8 * 60);
        assert_eq!((r.cap_nights, r.rate_vnd), (10, 150_000));
        let (s, e) = r.window(d(2026, 12, 8), TZ);
        assert_eq!(
            (s, e),
            (at(d(2026, 12, 8), 22, 0), at(d(2026, 12, 9), 6, 0))
        );
    }

    #[test]
    fn rules_out_of_range_are_refused_with_the_reason() {
        let ok = AllowanceRules::default();
        let with = |f: &dyn Fn(&mut AllowanceRules)| {
            let mut r = ok;
            f(&mut r);
            r.validate()
        };
        assert_eq!(
            with(&|r| r.window_end_min = r.window_start_min),
            Err(AllowanceError::Window)
        );
        assert_eq!(
            with(&|r| r.window_start_min = 1440),
            Err(AllowanceError::Window)
        );
        assert_eq!(
            with(&|r| r.min_minutes = 481),
            Err(AllowanceError::Minimum {
                min: 481,
                window: 480
            })
        );
        assert!(matches!(
            with(&|r| r.min_minutes = 0),
            Err(AllowanceError::Minimum { .. })
        ));
        assert_eq!(with(&|r| r.cap_nights = 0), Err(AllowanceError::Cap(0)));
        assert_eq!(with(&|r| r.cap_nights = 32), Err(AllowanceError::Cap(32)));
        assert_eq!(
            with(&|r| r.rate_vnd = MAX_RATE_VND + 1),
            Err(AllowanceError::Rate(MAX_RATE_VND + 1))
        );
        assert_eq!(
            with(&|r| r.support.deputy_vnd = u64::MAX),
            Err(AllowanceError::Support)
        );
        // A window within one day is fine too.
        assert!(with(&|r| {
            r.window_start_min = 19 * 60;
            r.window_end_min = 23 * 60;
        })
        .is_ok());
    }

    #[test]
    fn a_shift_after_midnight_counts_for_its_evening() {
        let r = AllowanceRules::default();
        // 00:00–04:00 on the 9th: the night of the 8th, 240 minutes.
        let s = sheet(
            &r,
            TZ,
            dec(),
            &[member("a", Role::Member)],
            &[duty(
                "a",
                "s2",
                at(d(2026, 12, 9), 0, 0),
                at(d(2026, 12, 9), 4, 0),
            )],
            &[],
        );
        let n = &s.lines[0].nights;
        assert_eq!(n.len(), 1);
        assert_eq!(
            (n[0].night, n[0].minutes, n[0].status),
            (d(2026, 12, 8), 240, NightStatus::Paid)
        );
        // 20:00–24:00: only 22:00–24:00 is inside the window.
        let s = sheet(
            &r,
            TZ,
            dec(),
            &[],
            &[duty(
                "a",
                "s1",
                at(d(2026, 12, 8), 20, 0),
                at(d(2026, 12, 9), 0, 0),
            )],
            &[],
        );
        assert_eq!(s.lines[0].nights[0].minutes, 120);
        // The night of 31 December ends in January and is December's; that of 30 November,
        // ending on 1 December, is November's.
        let s = sheet(
            &r,
            TZ,
            dec(),
            &[],
            &[
                duty("a", "x", at(d(2026, 12, 1), 1, 0), at(d(2026, 12, 1), 4, 0)),
                duty("a", "y", at(d(2027, 1, 1), 1, 0), at(d(2027, 1, 1), 4, 0)),
            ],
            &[],
        );
        let nights: Vec<NaiveDate> = s.lines[0].nights.iter().map(|n| n.night).collect();
        assert_eq!(nights, vec![d(2026, 12, 31)]);
    }

    #[test]
    fn a_night_counts_once_however_many_shifts() {
        let r = AllowanceRules::default();
        let n8 = d(2026, 12, 8);
        let s = sheet(
            &r,
            TZ,
            dec(),
            &[member("a", Role::Member)],
            &[
                duty("a", "ca1", at(n8, 20, 0), at(d(2026, 12, 9), 0, 0)),
                duty(
                    "a",
                    "ca2",
                    at(d(2026, 12, 9), 0, 0),
                    at(d(2026, 12, 9), 4, 0),
                ),
                // The same shift twice (two phones), overlapping the others.
                duty(
                    "a",
                    "ca2",
                    at(d(2026, 12, 9), 0, 0),
                    at(d(2026, 12, 9), 4, 0),
                ),
            ],
            &[],
        );
        let l = &s.lines[0];
        assert_eq!(l.nights.len(), 1);
        assert_eq!(l.nights[0].minutes, 120 + 240);
        assert_eq!(
            l.nights[0].shifts,
            vec!["ca1".to_string(), "ca2".to_string()]
        );
        assert_eq!((l.paid, l.allowance_vnd), (1, 150_000));
    }

    #[test]
    fn twelve_nights_pay_ten_and_show_two_over_the_cap_and_short_nights_apart() {
        let r = AllowanceRules::default();
        let mut duties = Vec::new();
        for day in 1..=12 {
            duties.push(duty(
                "a",
                &format!("s{day}"),
                at(d(2026, 12, day), 22, 0),
                at(d(2026, 12, day + 1), 2, 0),
            ));
        }
        // Two nights with 30 minutes inside the window: below the 60-minute minimum.
        for day in 20..=21 {
            duties.push(duty(
                "a",
                &format!("s{day}"),
                at(d(2026, 12, day), 20, 0),
                at(d(2026, 12, day), 22, 30),
            ));
        }
        let s = sheet(&r, TZ, dec(), &[member("a", Role::Deputy)], &duties, &[]);
        let l = &s.lines[0];
        assert_eq!((l.paid, l.over_cap, l.below_minimum), (10, 2, 2));
        assert_eq!(l.allowance_vnd, 1_500_000);
        assert_eq!(l.support_vnd, 6_300_000);
        assert_eq!(l.nights[10].status, NightStatus::OverCap);
        assert_eq!(l.nights[10].night, d(2026, 12, 11));
        assert_eq!(l.nights[12].status, NightStatus::BelowMinimum);
        assert_eq!(
            (s.paid, s.over_cap, s.allowance_vnd, s.support_vnd),
            (10, 2, 1_500_000, 6_300_000)
        );
    }

    #[test]
    fn a_leaders_marks_add_and_remove_nights_and_the_latest_wins() {
        let r = AllowanceRules::default();
        let mark = |night, kind, minute| Mark {
            member_id: "a".into(),
            night,
            kind,
            reason: "reason".into(),
            by: "leader".into(),
            at: at(d(2027, 1, 2), 8, minute),
        };
        let duties = [duty(
            "a",
            "s",
            at(d(2026, 12, 3), 22, 0),
            at(d(2026, 12, 4), 2, 0),
        )];
        let marks = [
            // Added: on duty without a phone.
            mark(d(2026, 12, 5), MarkKind::Add, 0),
            // Removed, then put back: the last made counts, even with a clock that went back.
            mark(d(2026, 12, 3), MarkKind::Remove, 2),
            mark(d(2026, 12, 3), MarkKind::Add, 1),
            // Another month: ignored.
            mark(d(2026, 11, 30), MarkKind::Add, 0),
        ];
        let s = sheet(&r, TZ, dec(), &[member("a", Role::Member)], &duties, &marks);
        let l = &s.lines[0];
        assert_eq!(l.paid, 2);
        assert_eq!(l.nights[0].mark.as_ref().unwrap().kind, MarkKind::Add);
        assert_eq!(
            (l.nights[1].minutes, l.nights[1].status),
            (0, NightStatus::Paid)
        );
        let s = sheet(
            &r,
            TZ,
            dec(),
            &[],
            &duties,
            &[mark(d(2026, 12, 3), MarkKind::Remove, 0)],
        );
        assert_eq!(
            (s.lines[0].paid, s.lines[0].nights[0].status),
            (0, NightStatus::Removed)
        );
    }

    #[test]
    fn a_shift_never_ended_counts_to_its_slots_end_and_is_flagged() {
        let r = AllowanceRules::default();
        let shift = Shift {
            id: "s".into(),
            team_id: "t".into(),
            slot_code: "ca2".into(),
            night: d(2026, 12, 8),
            started_at: at(d(2026, 12, 9), 0, 0),
            members_present: vec!["a".into(), "b".into(), "a".into()],
            ended_at: None,
            handover_note: None,
        };
        let later = at(d(2026, 12, 20), 12, 0);
        let records = [TeamRecord::Started(shift)];
        let ds = duties(&records, &team(), TZ, later);
        assert_eq!(ds.len(), 2, "a member listed twice is on duty once");
        let s = sheet(&r, TZ, dec(), &[], &ds, &[]);
        let n = &s.lines[0].nights[0];
        assert_eq!(
            (n.minutes, n.unended, n.status),
            (240, true, NightStatus::Paid)
        );
        // Asked about at 01:00, while it runs: one hour so far.
        let ds = duties(&records, &team(), TZ, at(d(2026, 12, 9), 1, 0));
        assert_eq!(
            sheet(&r, TZ, dec(), &[], &ds, &[]).lines[0].nights[0].minutes,
            60
        );
    }

    #[test]
    fn a_window_after_midnight_belongs_to_the_evening_before() {
        let r = AllowanceRules {
            window_start_min: 0,
            window_end_min: 6 * 60,
            ..AllowanceRules::default()
        };
        assert_eq!(r.window(d(2026, 12, 31), TZ).0, at(d(2027, 1, 1), 0, 0));
        // 00:00–04:00 on 1 January is the night of 31 December: December's.
        let s = sheet(
            &r,
            TZ,
            dec(),
            &[],
            &[duty(
                "a",
                "s",
                at(d(2027, 1, 1), 0, 0),
                at(d(2027, 1, 1), 4, 0),
            )],
            &[],
        );
        assert_eq!(
            (s.lines[0].nights[0].night, s.lines[0].nights[0].minutes),
            (d(2026, 12, 31), 240)
        );
    }

    #[test]
    fn a_shift_ended_days_later_counts_twelve_hours_and_is_flagged() {
        let shift = Shift {
            id: "s".into(),
            team_id: "t".into(),
            slot_code: "ca1".into(),
            night: d(2026, 12, 8),
            started_at: at(d(2026, 12, 8), 20, 0),
            members_present: vec!["a".into()],
            ended_at: Some(at(d(2026, 12, 11), 7, 0)),
            handover_note: None,
        };
        let ds = duties(
            &[TeamRecord::Ended(shift)],
            &team(),
            TZ,
            at(d(2026, 12, 20), 0, 0),
        );
        assert_eq!((ds[0].end, ds[0].ended), (at(d(2026, 12, 9), 8, 0), false));
        let s = sheet(&AllowanceRules::default(), TZ, dec(), &[], &ds, &[]);
        let nights: Vec<(NaiveDate, u32, bool)> = s.lines[0]
            .nights
            .iter()
            .map(|n| (n.night, n.minutes, n.unended))
            .collect();
        assert_eq!(nights, vec![(d(2026, 12, 8), 480, true)]);
        // A shift from year 1 to year 9999 costs two evenings' work, not millions.
        let forged = Duty {
            start: DateTime::<Utc>::MIN_UTC,
            end: DateTime::<Utc>::MAX_UTC,
            ..duty("a", "f", at(d(2026, 12, 1), 0, 0), at(d(2026, 12, 1), 1, 0))
        };
        let s = sheet(&AllowanceRules::default(), TZ, dec(), &[], &[forged], &[]);
        assert_eq!(s.lines[0].nights.len(), 31);
    }

    #[test]
    fn a_member_who_left_keeps_the_nights_without_support() {
        let r = AllowanceRules::default();
        let mut gone = member("a", Role::Leader);
        gone.left = true;
        let duties = [duty(
            "a",
            "s",
            at(d(2026, 12, 3), 22, 0),
            at(d(2026, 12, 4), 2, 0),
        )];
        let s = sheet(
            &r,
            TZ,
            dec(),
            &[gone, member("b", Role::Leader)],
            &duties,
            &[],
        );
        assert_eq!((s.lines[0].paid, s.lines[0].support_vnd), (1, 0));
        assert_eq!((s.lines[1].paid, s.lines[1].support_vnd), (0, 6_500_000));
    }

    #[test]
    fn marks_need_a_reason_and_a_night_of_the_month() {
        assert_eq!(
            check_mark(dec(), d(2026, 12, 3), "  quên điện thoại "),
            Ok("quên điện thoại".into())
        );
        assert_eq!(
            check_mark(dec(), d(2026, 12, 3), "   "),
            Err(AllowanceError::Reason)
        );
        assert_eq!(
            check_mark(dec(), d(2026, 12, 3), &"x".repeat(301)),
            Err(AllowanceError::Reason)
        );
        assert!(matches!(
            check_mark(dec(), d(2027, 1, 1), "x"),
            Err(AllowanceError::NightOutside { .. })
        ));
    }

    /// Random duties of three members in December, from two teams.
    fn arb_duties() -> impl Strategy<Value = Vec<Duty>> {
        prop::collection::vec(
            (0usize..3, 0u32..31, 0u32..1440, 1u32..600, 0usize..2),
            0..40,
        )
        .prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (m, day, start, len, team))| {
                    let s =
                        at(d(2026, 12, 1), 0, 0) + Duration::minutes(i64::from(day * 1440 + start));
                    duty(
                        ["a", "b", "c"][m],
                        &format!("t{team}-s{i}"),
                        s,
                        s + Duration::minutes(i64::from(len)),
                    )
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn nights_are_counted_once_capped_and_priced(duties in arb_duties(), cap in 1u32..12, min in 1u32..200) {
            let r = AllowanceRules { cap_nights: cap, min_minutes: min, ..AllowanceRules::default() };
            let s = sheet(&r, TZ, dec(), &[], &duties, &[]);
            for l in &s.lines {
                let nights: BTreeSet<NaiveDate> = l.nights.iter().map(|n| n.night).collect();
                prop_assert_eq!(nights.len(), l.nights.len());
                prop_assert!(l.paid <= cap);
                prop_assert!(l.over_cap == 0 || l.paid == cap);
                let counted = l.nights.iter().filter(|n| n.minutes >= min).count() as u32;
                prop_assert_eq!(l.paid + l.over_cap, counted);
                prop_assert_eq!(l.allowance_vnd, u64::from(l.paid) * r.rate_vnd);
                for n in &l.nights {
                    prop_assert!(n.minutes <= r.window_minutes());
                    prop_assert!(dec().contains(n.night));
                }
            }
            prop_assert_eq!(s.paid, s.lines.iter().map(|l| l.paid).sum::<u32>());
        }

        #[test]
        fn order_duplicates_and_splits_change_nothing(duties in arb_duties(), cut in 1i64..600) {
            let r = AllowanceRules::default();
            let base = sheet(&r, TZ, dec(), &[], &duties, &[]);
            // Reversed and each duty given twice (two phones, two teams).
            let mut again: Vec<Duty> = duties.iter().rev().cloned().collect();
            again.extend(duties.iter().cloned());
            let twice = sheet(&r, TZ, dec(), &[], &again, &[]);
            prop_assert_eq!(&base, &twice);
            // Each duty cut in two at the same instant, as two shifts of the same id: the
            // minutes stay (a cut at a whole minute loses no seconds).
            let mut split = Vec::new();
            for x in &duties {
                let mid = x.start + Duration::minutes(cut);
                if mid < x.end {
                    split.push(Duty { end: mid, ..x.clone() });
                    split.push(Duty { start: mid, ..x.clone() });
                } else {
                    split.push(x.clone());
                }
            }
            prop_assert_eq!(&base, &sheet(&r, TZ, dec(), &[], &split, &[]));
        }
    }
}
