//! The figures a ward and a district ask for, from the shift logs: one pure function over the
//! teams' setups and records (plain data in, figures out), used for every scope and period.
//!
//! - Scope: the caller passes the teams it wants (one team, a ward's teams, every ward's teams);
//!   figures are counted per team and every total is the exact sum of the teams' figures
//!   ([`Figures::add`], [`Report::wards`], [`Report::total`]).
//! - Period: a range of evenings ([`Nights`]); everything belongs to the night of its shift
//!   (the evening's date), so ca 2 (24:00–04:00) counts on the evening before, across month and
//!   year ends.
//! - Comparison with the same period a year or a month earlier is the same function over another
//!   `Nights` (`Period::year_before()`, `Period::previous()`); no other code is needed.
//!
//! Records are read the way [`super::review::team_log`] reads them: in any order, a record seen
//! twice counts once, the `Ended` version of a shift wins over its `Started` one, and the
//! records of a shift that never arrived are left out. The function does not build the team log
//! (it reads the records by reference in one pass, for speed) but follows the same rules.

use super::geofence::LatLon;
use super::observation::{Action, Category};
use super::period::Nights;
use super::records::{CheckIn, Correction, Observation, Shift};
use super::review::TeamRecord;
use super::tip::{FollowUp, TipStep};
use super::ward::{Checkpoint, WardSetup};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A shift started more than this many minutes after its slot's start was run late.
pub const LATE_AFTER_MINUTES: i64 = 30;

/// An observation is placed at the nearest route checkpoint whose radius, times this, reaches
/// its fix; otherwise "elsewhere".
pub const CLUSTER_RADII: f64 = 3.0;

/// Longest a slot may be (minutes): the end assumed for a shift whose slot code the team no
/// longer has, when the team has no slots at all.
pub const LONGEST_SLOT_MIN: u32 = 720;

/// The slots a team's roster plans, night by night (the evening's date → slot codes with someone
/// assigned). A night in it is planned from the roster; a night not in it from the team's slots.
pub type Planned = BTreeMap<NaiveDate, BTreeSet<String>>;

/// One team's input: its setup (ward time zone, slots, route) and its records, as the events
/// carry them (any order, duplicates allowed). The server reads them with
/// `team_setup(team_id)` and `wire::event::records_of` over the team's stored events.
#[derive(Debug, Clone, Copy)]
pub struct TeamRecords<'a> {
    /// The team's ward, team, members and route.
    pub setup: &'a WardSetup,
    /// The team's records. Shifts of another team (`team_id`) are ignored.
    pub records: &'a [TeamRecord],
    /// The nights its roster plans (empty when the team keeps no roster).
    pub planned: &'a Planned,
}

/// Shifts planned and run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftFigures {
    /// Slots of the period that are over by `now`, plus slots not over yet that a shift was
    /// started for: every slot of the team on every evening, or on an evening its roster plans,
    /// the slots with someone assigned. A slot still to come, or under way with no shift yet, is
    /// not counted: it is not missed yet.
    pub planned: u64,
    /// Shifts started for a night of the period (each shift once).
    pub run: u64,
    /// Planned slots with no shift started for them.
    pub not_run: u64,
    /// Shifts run beyond the plan: a second shift for a slot already run, a shift whose slot
    /// code the team does not have, or one for a slot the night's roster left empty. Always
    /// `run - (planned - not_run)`.
    pub off_plan: u64,
    /// Shifts started more than [`LATE_AFTER_MINUTES`] after their slot's start.
    pub late: u64,
    /// Shifts never ended although their slot is over by `now`.
    pub unended: u64,
}

/// People mobilised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeopleFigures {
    /// Members present summed over the shifts run (a member listed twice counts once).
    pub member_shifts: u64,
    /// Shift duration times members present, in seconds. A shift runs from its start to its
    /// end; an unended shift to its slot's end (or `now`, if earlier); a shift ended before it
    /// started counts nothing.
    pub member_seconds: i64,
}

impl PeopleFigures {
    /// Member-hours.
    pub fn member_hours(&self) -> f64 {
        self.member_seconds as f64 / 3600.0
    }
}

/// Checkpoint coverage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageFigures {
    /// Route checkpoints times shifts run: the stops the route asked for.
    pub route_stops: u64,
    /// Stops made: distinct route checkpoints checked in at, summed over the shifts run.
    pub stops_visited: u64,
    /// Check-ins made (each once, repeats at a checkpoint and checkpoints off the route
    /// included) = `gps_verified + qr_verified + unverified`.
    pub check_ins: u64,
    /// Check-ins by GPS inside the geofence.
    pub gps_verified: u64,
    /// Check-ins by the checkpoint's QR code.
    pub qr_verified: u64,
    /// Manual check-ins, or any not verified.
    pub unverified: u64,
}

/// Observations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservationFigures {
    /// Observations recorded, each once.
    pub total: u64,
    /// Urgent ones.
    pub urgent: u64,
    /// By category, in [`Category::ALL`] order, each observation once with its category after
    /// corrections (the latest correction naming a category wins, by device clock then id).
    pub by_category: [u64; Category::COUNT],
    /// By action taken, in [`Action::ALL`] order.
    pub by_action: [u64; Action::COUNT],
    /// Observations with no action recorded.
    pub no_action: u64,
    /// Corrections appended in the period's shifts (of observations or check-ins).
    pub corrections: u64,
    /// Observations counted under another category than the one recorded.
    pub recategorised: u64,
}

impl ObservationFigures {
    /// The count of `c`.
    pub fn category(&self, c: Category) -> u64 {
        self.by_category[c.index()]
    }

    /// The count of `a`.
    pub fn action(&self, a: Action) -> u64 {
        self.by_action[a.index()]
    }
}

/// Tips: every observation is a tip; each counts once, in its outcome ([`super::tip::outcome`]:
/// the highest-ranked step taken, whoever took it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TipFigures {
    /// No step taken yet.
    pub no_step: u64,
    /// Forwarded to the ward police, no later step yet.
    pub forwarded: u64,
    /// Confirmed valuable, not closed yet.
    pub valuable: u64,
    /// Closed as unfounded.
    pub unfounded: u64,
    /// Closed as resolved.
    pub resolved: u64,
    /// Tips two leaders answered at once (also counted in their outcome).
    pub answered_twice: u64,
    /// Tips passed to the ward police at some point, whatever came after: a forwarded or a
    /// valuable step among their steps (a tip is confirmed valuable by the police it went to).
    #[serde(default)]
    pub passed_on: u64,
}

impl TipFigures {
    /// Tips with at least one step: forwarded, valuable, unfounded or resolved.
    pub fn with_steps(&self) -> u64 {
        self.forwarded + self.valuable + self.unfounded + self.resolved
    }

    /// The count of tips whose outcome is `step`.
    pub fn outcome(&self, step: TipStep) -> u64 {
        match step {
            TipStep::Forwarded => self.forwarded,
            TipStep::Valuable => self.valuable,
            TipStep::Unfounded => self.unfounded,
            TipStep::Resolved => self.resolved,
            // Never an outcome: a withdrawal takes a step back.
            TipStep::Withdrawn => 0,
        }
    }
}

/// Observations placed at one route checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceCount {
    /// The team (checkpoint ids are unique within a team).
    pub team_id: String,
    /// The checkpoint.
    pub checkpoint_id: String,
    /// Its name.
    pub name: String,
    /// Observations placed there.
    pub count: u64,
}

/// Where observations cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceFigures {
    /// Every route checkpoint of the teams (zero counts included), teams in input order,
    /// checkpoints in route order.
    pub checkpoints: Vec<PlaceCount>,
    /// Observations with a fix near no route checkpoint.
    pub elsewhere: u64,
    /// Observations without a fix.
    pub no_position: u64,
}

/// The figures of one team, or the sum of several.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    /// Shifts planned and run.
    pub shifts: ShiftFigures,
    /// People mobilised.
    pub people: PeopleFigures,
    /// Checkpoint coverage.
    pub coverage: CoverageFigures,
    /// Observations.
    pub observations: ObservationFigures,
    /// Tips and their outcomes.
    pub tips: TipFigures,
    /// Observations by hour of the local clock (ward time zone, device clock of the
    /// observation): index 0 is 00:00–00:59.
    pub by_hour: [u64; 24],
    /// Where observations cluster.
    pub places: PlaceFigures,
}

impl Figures {
    /// Adds `o`'s figures to these (places merge by team and checkpoint).
    pub fn add(&mut self, o: &Figures) {
        let s = &mut self.shifts;
        s.planned += o.shifts.planned;
        s.run += o.shifts.run;
        s.not_run += o.shifts.not_run;
        s.off_plan += o.shifts.off_plan;
        s.late += o.shifts.late;
        s.unended += o.shifts.unended;
        self.people.member_shifts += o.people.member_shifts;
        self.people.member_seconds += o.people.member_seconds;
        let c = &mut self.coverage;
        c.route_stops += o.coverage.route_stops;
        c.stops_visited += o.coverage.stops_visited;
        c.check_ins += o.coverage.check_ins;
        c.gps_verified += o.coverage.gps_verified;
        c.qr_verified += o.coverage.qr_verified;
        c.unverified += o.coverage.unverified;
        let b = &mut self.observations;
        b.total += o.observations.total;
        b.urgent += o.observations.urgent;
        add_all(&mut b.by_category, &o.observations.by_category);
        add_all(&mut b.by_action, &o.observations.by_action);
        b.no_action += o.observations.no_action;
        b.corrections += o.observations.corrections;
        b.recategorised += o.observations.recategorised;
        let t = &mut self.tips;
        t.no_step += o.tips.no_step;
        t.forwarded += o.tips.forwarded;
        t.valuable += o.tips.valuable;
        t.unfounded += o.tips.unfounded;
        t.resolved += o.tips.resolved;
        t.answered_twice += o.tips.answered_twice;
        t.passed_on += o.tips.passed_on;
        add_all(&mut self.by_hour, &o.by_hour);
        let p = &mut self.places;
        p.elsewhere += o.places.elsewhere;
        p.no_position += o.places.no_position;
        for q in &o.places.checkpoints {
            match p
                .checkpoints
                .iter_mut()
                .find(|x| x.team_id == q.team_id && x.checkpoint_id == q.checkpoint_id)
            {
                Some(x) => x.count += q.count,
                None => p.checkpoints.push(q.clone()),
            }
        }
    }
}

impl<'a> std::iter::Sum<&'a Figures> for Figures {
    fn sum<I: Iterator<Item = &'a Figures>>(iter: I) -> Self {
        let mut total = Figures::default();
        for f in iter {
            total.add(f);
        }
        total
    }
}

fn add_all<const N: usize>(to: &mut [u64; N], from: &[u64; N]) {
    for (a, b) in to.iter_mut().zip(from) {
        *a += b;
    }
}

/// One team's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamReport {
    /// The ward.
    pub ward_id: String,
    /// The ward's name.
    pub ward_name: String,
    /// The team.
    pub team_id: String,
    /// The team's name.
    pub team_name: String,
    /// Its figures.
    pub figures: Figures,
}

/// One ward's figures: the sum of its teams'.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WardReport {
    /// The ward.
    pub ward_id: String,
    /// The ward's name.
    pub ward_name: String,
    /// The sum of its teams' figures.
    pub figures: Figures,
}

/// The figures of a scope over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The evenings covered.
    pub nights: Nights,
    /// The instant the report was made for: slots not over by then are not missed.
    pub now: DateTime<Utc>,
    /// Each team given, in input order.
    pub teams: Vec<TeamReport>,
    /// The sum of every team's figures.
    pub total: Figures,
}

impl Report {
    /// Each ward of the teams, in order of first appearance, with the sum of its teams.
    pub fn wards(&self) -> Vec<WardReport> {
        let mut out: Vec<WardReport> = Vec::new();
        for t in &self.teams {
            match out.iter_mut().find(|w| w.ward_id == t.ward_id) {
                Some(w) => w.figures.add(&t.figures),
                None => out.push(WardReport {
                    ward_id: t.ward_id.clone(),
                    ward_name: t.ward_name.clone(),
                    figures: t.figures.clone(),
                }),
            }
        }
        out
    }
}

/// The report of `teams` over the evenings `nights`, as of `now` (slots not over by `now` are
/// not missed, and an unended shift still running counts its time up to `now`).
///
/// For the same period a year or a month before, call it again with `Period::year_before()` or
/// `Period::previous()`'s nights: the comparison is the same function over other nights.
pub fn report(teams: &[TeamRecords<'_>], nights: Nights, now: DateTime<Utc>) -> Report {
    let teams: Vec<TeamReport> = teams
        .iter()
        .map(|t| TeamReport {
            ward_id: t.setup.ward.id.clone(),
            ward_name: t.setup.ward.name.clone(),
            team_id: t.setup.team.id.clone(),
            team_name: t.setup.team.name.clone(),
            figures: team_figures(t.setup, t.records, t.planned, nights, now),
        })
        .collect();
    let total = teams.iter().map(|t| &t.figures).sum();
    Report {
        nights,
        now,
        teams,
        total,
    }
}

/// A fast hasher for the ids of one team's records (FxHash's word-at-a-time mix): the report
/// hashes every record's id and its shift's id, and SipHash took a third of its time. Not
/// resistant to crafted collisions; ids are the UUIDs of the team's own phones.
#[derive(Default, Clone, Copy)]
pub(super) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0xf135_7aea_2e62_a9c5;
        let mut h = self.0;
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            h = h
                .wrapping_add(u64::from_le_bytes(w.try_into().expect("8 bytes")))
                .wrapping_mul(K);
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            h = h.wrapping_add(u64::from_le_bytes(b)).wrapping_mul(K);
        }
        self.0 = h;
    }

    fn write_u8(&mut self, i: u8) {
        self.write_u64(i as u64);
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = self.0.wrapping_add(i).wrapping_mul(0xf135_7aea_2e62_a9c5);
    }

    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

pub(super) type Map<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;
pub(super) type Set<K> = HashSet<K, BuildHasherDefault<IdHasher>>;

/// The records of a team, deduplicated, by reference.
#[derive(Default)]
pub(super) struct Read<'a> {
    pub(super) shifts: Map<&'a str, &'a Shift>,
    pub(super) check_ins: Vec<&'a CheckIn>,
    pub(super) observations: Vec<&'a Observation>,
    pub(super) corrections: Vec<&'a Correction>,
    pub(super) steps: Map<&'a str, Vec<&'a FollowUp>>,
}

pub(super) fn read(records: &[TeamRecord]) -> Read<'_> {
    let mut r = Read::default();
    let mut seen: Set<&str> = Set::with_capacity_and_hasher(records.len(), Default::default());
    for rec in records {
        match rec {
            TeamRecord::Started(s) => {
                // An end seen first is kept: it holds everything the start does, and more.
                r.shifts.entry(s.id.as_str()).or_insert(s);
            }
            TeamRecord::Ended(s) => {
                r.shifts.insert(s.id.as_str(), s);
            }
            TeamRecord::CheckIn(c) => {
                if seen.insert(&c.id) {
                    r.check_ins.push(c);
                }
            }
            TeamRecord::Observation(o) => {
                if seen.insert(&o.id) {
                    r.observations.push(o);
                }
            }
            TeamRecord::Correction(c) => {
                if seen.insert(&c.id) {
                    r.corrections.push(c);
                }
            }
            TeamRecord::FollowUp(f) => {
                if seen.insert(&f.id) {
                    r.steps
                        .entry(f.observation_id.as_str())
                        .or_default()
                        .push(f);
                }
            }
        }
    }
    r
}

/// One team's figures over `nights` as of `now`: its records summed night by night
/// ([`super::report_nights::by_night`]) and finished for `now` ([`super::report_nights::finish`]),
/// the same steps the server takes over the nights it keeps.
pub fn team_figures(
    setup: &WardSetup,
    records: &[TeamRecord],
    planned: &Planned,
    nights: Nights,
    now: DateTime<Utc>,
) -> Figures {
    let by_night = super::report_nights::by_night(setup, records, |n| nights.contains(n));
    super::report_nights::finish(setup, nights, by_night.values(), planned, now)
}

/// The route checkpoint an observation at `pos` is placed at: the nearest whose radius times
/// [`CLUSTER_RADII`] reaches it (the first in route order on a tie).
pub fn place_of(route: &[&Checkpoint], pos: LatLon) -> Option<usize> {
    let mut best: Option<(f64, usize)> = None;
    for (i, cp) in route.iter().enumerate() {
        let d = cp.pos.distance_m(pos);
        if d <= CLUSTER_RADII * cp.radius_m && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, i));
        }
    }
    best.map(|(_, i)| i)
}

pub(super) fn distinct(ids: &[String]) -> usize {
    ids.iter()
        .enumerate()
        .filter(|(i, id)| !ids[..*i].contains(id))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geofence::Fix;
    use crate::shift::default_slots;
    use crate::tip::TipStep;
    use crate::ward::{Team, Ward};
    use chrono::{Duration, NaiveDate, TimeZone};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// Hà Nội local time (UTC+7) as UTC.
    fn local(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, day, h, min, 0).unwrap() - Duration::hours(7)
    }

    fn cp(id: &str, seq: u32, lat: f64, radius_m: f64) -> Checkpoint {
        Checkpoint {
            id: id.into(),
            name: format!("Chốt {id}"),
            seq,
            pos: LatLon { lat, lon: 105.85 },
            radius_m,
            qr_code: format!("QR-{id}"),
        }
    }

    fn setup(ward: &str, team: &str) -> WardSetup {
        WardSetup {
            ward: Ward {
                id: ward.into(),
                name: format!("Phường {ward}"),
                tz: "Asia/Ho_Chi_Minh".into(),
                police_phone: "113".into(),
                demo: false,
                photo_keep_days: crate::ward::DEFAULT_PHOTO_KEEP_DAYS,
            },
            team: Team {
                id: team.into(),
                name: format!("Tổ {team}"),
                leader_phone: "0900000000".into(),
                slots: default_slots(),
            },
            members: vec![],
            // 0.001° of latitude is about 111 m.
            checkpoints: vec![cp("b", 2, 21.001, 40.0), cp("a", 1, 21.0, 40.0)],
        }
    }

    fn shift(
        id: &str,
        team: &str,
        slot: &str,
        night: NaiveDate,
        start: DateTime<Utc>,
        end: Option<DateTime<Utc>>,
        members: &[&str],
    ) -> Shift {
        Shift {
            id: id.into(),
            team_id: team.into(),
            slot_code: slot.into(),
            night,
            started_at: start,
            members_present: members.iter().map(|m| m.to_string()).collect(),
            ended_at: end,
            handover_note: None,
        }
    }

    fn obs(id: &str, shift: &str, at: DateTime<Utc>, lat: Option<f64>) -> Observation {
        Observation {
            id: id.into(),
            shift_id: shift.into(),
            category: Category::Theft,
            description: None,
            plate: None,
            people: None,
            action: Some(Action::ReportedPolice),
            urgent: false,
            fix: lat.map(|lat| Fix {
                pos: LatLon { lat, lon: 105.85 },
                accuracy_m: 5.0,
            }),
            at,
            photos: Vec::new(),
        }
    }

    #[test]
    fn ca2_after_midnight_on_new_year_counts_on_the_evening_before() {
        let s = setup("w1", "t1");
        let night = d(2026, 12, 31);
        let ca2 = shift(
            "s2",
            "t1",
            "ca2",
            night,
            local(2027, 1, 1, 0, 5),
            None,
            &["m1", "m2", "m1"],
        );
        let records = vec![
            TeamRecord::Started(ca2.clone()),
            TeamRecord::Observation(obs("o1", "s2", local(2027, 1, 1, 1, 30), Some(21.0))),
        ];
        let teams = [TeamRecords {
            setup: &s,
            records: &records,
            planned: &Planned::new(),
        }];
        let now = local(2027, 1, 2, 12, 0);
        let dec = report(
            &teams,
            Nights {
                first: d(2026, 12, 1),
                last: night,
            },
            now,
        )
        .total;
        assert_eq!(dec.shifts.run, 1);
        assert_eq!(dec.observations.total, 1);
        assert_eq!(dec.by_hour[1], 1);
        assert_eq!(dec.people.member_shifts, 2, "m1 listed twice counts once");
        // The shift was never ended (only its start arrived): it counts to its slot's end.
        assert_eq!(dec.shifts.unended, 1);
        assert_eq!(dec.people.member_seconds, 2 * (4 * 3600 - 5 * 60));
        // December has 31 × 2 slots; 61 not run.
        assert_eq!((dec.shifts.planned, dec.shifts.not_run), (62, 61));
        let jan = report(
            &teams,
            Nights {
                first: d(2027, 1, 1),
                last: d(2027, 1, 1),
            },
            now,
        )
        .total;
        assert_eq!((jan.shifts.run, jan.observations.total), (0, 0));
        assert_eq!((jan.shifts.planned, jan.shifts.not_run), (2, 2));
    }

    #[test]
    fn late_is_more_than_thirty_minutes_and_a_slot_not_over_is_not_missed() {
        let s = setup("w1", "t1");
        let night = d(2026, 6, 10);
        let on_the_dot = local(2026, 6, 10, 20, 30);
        let records = vec![
            TeamRecord::Started(shift("a", "t1", "ca1", night, on_the_dot, None, &["m1"])),
            TeamRecord::Ended(shift(
                "a",
                "t1",
                "ca1",
                night,
                on_the_dot,
                Some(local(2026, 6, 11, 0, 0)),
                &["m1", "m2"],
            )),
            TeamRecord::Started(shift(
                "b",
                "t1",
                "ca1",
                night,
                on_the_dot + Duration::seconds(1),
                None,
                &["m3"],
            )),
        ];
        let teams = [TeamRecords {
            setup: &s,
            records: &records,
            planned: &Planned::new(),
        }];
        let one = Nights {
            first: night,
            last: night,
        };
        // 23:00: ca1 runs (two shifts for it, one off plan); ca2 not begun.
        let f = report(&teams, one, local(2026, 6, 10, 23, 0)).total;
        assert_eq!(f.shifts.late, 1);
        assert_eq!(
            (f.shifts.planned, f.shifts.run, f.shifts.not_run),
            (1, 2, 0)
        );
        assert_eq!(f.shifts.off_plan, 1);
        assert_eq!(f.shifts.unended, 0, "b still runs");
        // The end wins: two members; b counts to now.
        assert_eq!(f.people.member_shifts, 3);
        assert_eq!(
            f.people.member_seconds,
            2 * (3 * 3600 + 30 * 60) + (2 * 3600 + 29 * 60 + 59)
        );
        // Next noon: ca2 was missed, b never ended.
        let f = report(&teams, one, local(2026, 6, 11, 12, 0)).total;
        assert_eq!((f.shifts.planned, f.shifts.not_run), (2, 1));
        assert_eq!(f.shifts.unended, 1);

        // A roster that plans only ca2 that night: both ca1 shifts are off plan, and ca2 was
        // missed; a night the roster does not plan still counts every slot.
        let planned: Planned = [(night, ["ca2".to_string()].into())].into();
        let rostered = [TeamRecords {
            planned: &planned,
            ..teams[0]
        }];
        let f = report(&rostered, one, local(2026, 6, 11, 12, 0)).total;
        assert_eq!(
            (
                f.shifts.planned,
                f.shifts.run,
                f.shifts.not_run,
                f.shifts.off_plan
            ),
            (1, 2, 1, 2)
        );
        let elsewhere: Planned = [(
            night + chrono::Duration::days(1),
            ["ca2".to_string()].into(),
        )]
        .into();
        let other_night = [TeamRecords {
            planned: &elsewhere,
            ..teams[0]
        }];
        let noon = local(2026, 6, 11, 12, 0);
        assert_eq!(
            report(&other_night, one, noon).total,
            report(&teams, one, noon).total
        );
    }

    #[test]
    fn observations_cluster_at_the_nearest_checkpoint_within_three_radii() {
        let s = setup("w1", "t1");
        let route: Vec<&Checkpoint> = vec![&s.checkpoints[1], &s.checkpoints[0]];
        let at = |lat: f64| {
            place_of(
                &route,
                LatLon {
                    lat: 21.0 + lat,
                    lon: 105.85,
                },
            )
        };
        assert_eq!(at(0.0002), Some(0)); // 22 m from a
        assert_eq!(at(0.0006), Some(1)); // 67 m from a, 44 m from b: both reach it, b is nearer
        assert_eq!(at(-0.0012), None); // 133 m from a: beyond 3 × 40 m
        assert_eq!(at(-0.001), Some(0)); // 111 m
    }

    #[test]
    fn corrections_tips_and_sums() {
        let (s1, s2) = (setup("w1", "t1"), setup("w2", "t2"));
        let night = d(2026, 3, 31);
        let start = local(2026, 3, 31, 20, 0);
        let end = Some(local(2026, 4, 1, 0, 0));
        let corr = |id: &str, at_min: i64, cat: Option<Category>| Correction {
            id: id.into(),
            shift_id: "s".into(),
            target_id: "o1".into(),
            text: "sửa".into(),
            new_category: cat,
            at: start + Duration::minutes(at_min),
            photos_added: Vec::new(),
            photos_removed: Vec::new(),
        };
        let step = |id: &str, step: TipStep, after: Option<&str>| FollowUp {
            id: id.into(),
            observation_id: "o1".into(),
            step,
            note: None,
            by: "leader".into(),
            after: after.map(Into::into),
            at: start,
        };
        let o1 = obs("o1", "s", start + Duration::minutes(10), Some(21.0));
        let records = vec![
            TeamRecord::Ended(shift("s", "t1", "ca1", night, start, end, &["m1"])),
            TeamRecord::Observation(o1.clone()),
            TeamRecord::Observation(o1),
            TeamRecord::Correction(corr("c2", 30, Some(Category::Robbery))),
            TeamRecord::Correction(corr("c1", 20, Some(Category::Drugs))),
            TeamRecord::Correction(corr("c3", 40, None)),
            TeamRecord::FollowUp(step("f1", TipStep::Forwarded, None)),
            TeamRecord::FollowUp(step("f2", TipStep::Valuable, Some("f1"))),
            TeamRecord::FollowUp(step("f3", TipStep::Unfounded, Some("f1"))),
            // A record of a shift that never arrived.
            TeamRecord::Observation(obs("o9", "gone", start, None)),
        ];
        let other = vec![
            TeamRecord::Started(shift("x", "t2", "ca1", night, start, end, &["n1"])),
            TeamRecord::Observation(obs("o2", "x", start, None)),
        ];
        let teams = [
            TeamRecords {
                setup: &s1,
                records: &records,
                planned: &Planned::new(),
            },
            TeamRecords {
                setup: &s2,
                records: &other,
                planned: &Planned::new(),
            },
        ];
        let r = report(
            &teams,
            Nights {
                first: night,
                last: night,
            },
            local(2026, 4, 2, 0, 0),
        );
        let t1 = &r.teams[0].figures;
        assert_eq!(t1.observations.total, 1);
        assert_eq!(t1.observations.category(Category::Robbery), 1);
        assert_eq!(t1.observations.recategorised, 1);
        assert_eq!(t1.observations.corrections, 3);
        assert_eq!(t1.tips.unfounded, 1);
        assert_eq!(t1.tips.answered_twice, 1);
        // Forwarded, then closed as unfounded: it was passed to the police all the same.
        assert_eq!((t1.tips.forwarded, t1.tips.passed_on), (0, 1));
        assert_eq!(t1.places.checkpoints[0].checkpoint_id, "a");
        assert_eq!(t1.places.checkpoints[0].count, 1);
        let t2 = &r.teams[1].figures;
        assert_eq!((t2.tips.no_step, t2.places.no_position), (1, 1));
        assert_eq!(t2.tips.passed_on, 0);
        assert_eq!(r.total.observations.total, 2);
        assert_eq!(
            r.total.places.checkpoints.len(),
            4,
            "checkpoint ids per team"
        );
        let wards = r.wards();
        assert_eq!(wards.len(), 2);
        assert_eq!(&wards[0].figures, t1);
        let sum: Figures = wards.iter().map(|w| &w.figures).sum();
        assert_eq!(sum, r.total);
    }
}
