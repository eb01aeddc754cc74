//! A team's figures night by night: what each night's shifts come to whatever the time
//! ([`NightFigures`], from [`by_night`]), and the figures of a period as of an instant, from
//! those nights and the team's slots ([`finish`]). [`super::report::team_figures`] is the two in
//! a row; the ward server keeps each (team, night)'s [`NightFigures`] and adds them up, so its
//! answer is the same function's.
//!
//! A night's figures depend only on its shifts' records, the corrections and tip steps on their
//! observations, and the team's setup (zone, slots, route); never on the time. What does depend
//! on the time (slots planned and missed, shifts not ended, their member-seconds) is kept apart
//! as the slots run and the shifts still open, and counted by [`finish`].

use super::period::Nights;
use super::records::{CheckInMethod, Shift};
use super::report::{
    distinct, place_of, read, Figures, Map, PlaceCount, Planned, Set, LATE_AFTER_MINUTES,
    LONGEST_SLOT_MIN,
};
use super::review::TeamRecord;
use super::shift::ShiftSlot;
use super::tip::{outcome, standing, TipStep};
use super::ward::{Checkpoint, WardSetup};
use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A shift of the night with no end recorded: it counts up to its slot's end, or the time asked
/// about if earlier, and is "unended" once its slot is over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenShift {
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Its slot's end (or its start plus the longest slot, for a slot the team does not have).
    pub slot_end: DateTime<Utc>,
    /// Members present (each once).
    pub present: u64,
}

/// What one night's shifts of a team come to, whatever the time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NightFigures {
    /// The evening.
    pub night: NaiveDate,
    /// Every figure of the night's shifts except those [`finish`] counts: `planned`, `not_run`,
    /// `off_plan` and `unended` are 0, member-seconds are the ended shifts' only, and
    /// `places.checkpoints` is empty (see `at_checkpoints`).
    pub fixed: Figures,
    /// Observations placed at each route checkpoint, in route order.
    pub at_checkpoints: Vec<u64>,
    /// The slot codes shifts were started for, each once.
    pub run_slots: Vec<String>,
    /// The shifts not ended.
    pub open: Vec<OpenShift>,
}

/// Where a shift not ended stops counting: its slot's end on its night, or, for a slot code the
/// team does not have, its start plus the team's longest slot (or [`LONGEST_SLOT_MIN`]).
pub fn slot_end_of(slots: &[ShiftSlot], shift: &Shift, tz: Tz) -> DateTime<Utc> {
    match slots.iter().find(|slot| slot.code == shift.slot_code) {
        Some(slot) => slot.window(shift.night, tz).end,
        None => {
            let longest = slots
                .iter()
                .map(|s| s.length_min)
                .max()
                .unwrap_or(LONGEST_SLOT_MIN);
            shift.started_at + Duration::minutes(i64::from(longest))
        }
    }
}

/// The team's route: its checkpoints by `seq`.
fn route(setup: &WardSetup) -> Vec<&Checkpoint> {
    let mut cps: Vec<&Checkpoint> = setup.checkpoints.iter().collect();
    cps.sort_by_key(|c| c.seq);
    cps
}

/// The nights of `setup`'s team that `keep` keeps, from its `records` (any order, duplicates
/// allowed, read as [`super::report`] reads them), each with what its shifts come to. A night
/// with no shift of the team is left out: it has nothing but its planned slots.
pub fn by_night(
    setup: &WardSetup,
    records: &[TeamRecord],
    keep: impl Fn(NaiveDate) -> bool,
) -> BTreeMap<NaiveDate, NightFigures> {
    let tz = setup.ward.time_zone();
    let team = &setup.team;
    let r = read(records);
    let route = route(setup);
    let mut out: BTreeMap<NaiveDate, NightFigures> = BTreeMap::new();

    // Shifts, people, lateness and ends.
    let slot_of: Map<&str, &ShiftSlot> = team.slots.iter().map(|s| (s.code.as_str(), s)).collect();
    let mut in_period: Map<&str, (usize, NaiveDate)> = Map::default();
    for s in r.shifts.values() {
        if s.team_id != team.id || !keep(s.night) {
            continue;
        }
        in_period.insert(s.id.as_str(), (in_period.len(), s.night));
        let n = out.entry(s.night).or_insert_with(|| NightFigures {
            night: s.night,
            fixed: Figures::default(),
            at_checkpoints: vec![0; route.len()],
            run_slots: Vec::new(),
            open: Vec::new(),
        });
        let f = &mut n.fixed;
        f.shifts.run += 1;
        f.coverage.route_stops += route.len() as u64;
        if !n.run_slots.contains(&s.slot_code) {
            n.run_slots.push(s.slot_code.clone());
        }
        let window = slot_of
            .get(s.slot_code.as_str())
            .map(|slot| slot.window(s.night, tz));
        let slot_end = slot_end_of(&team.slots, s, tz);
        if let Some(w) = &window {
            if s.started_at > w.start + Duration::minutes(LATE_AFTER_MINUTES) {
                f.shifts.late += 1;
            }
        }
        let present = distinct(&s.members_present) as u64;
        f.people.member_shifts += present;
        match s.ended_at {
            Some(end) => {
                let seconds = (end - s.started_at).num_seconds().max(0);
                f.people.member_seconds += present as i64 * seconds;
            }
            None => n.open.push(OpenShift {
                started_at: s.started_at,
                slot_end,
                present,
            }),
        }
    }

    // Coverage.
    let route_index: Map<&str, usize> = route
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let mut stops: Set<(usize, usize)> = Set::default();
    for c in &r.check_ins {
        let Some(&(shift, night)) = in_period.get(c.shift_id.as_str()) else {
            continue;
        };
        let cov = &mut out
            .get_mut(&night)
            .expect("a night of a shift")
            .fixed
            .coverage;
        cov.check_ins += 1;
        match (c.method, c.verified) {
            (CheckInMethod::Gps, true) => cov.gps_verified += 1,
            (CheckInMethod::Qr, true) => cov.qr_verified += 1,
            _ => cov.unverified += 1,
        }
        if let Some(&cp) = route_index.get(c.checkpoint_id.as_str()) {
            if stops.insert((shift, cp)) {
                cov.stops_visited += 1;
            }
        }
    }

    // Corrections: counted in their shift's night; the latest naming a category recategorises
    // its target, whichever shift carries it.
    let mut recat: Map<&str, (DateTime<Utc>, &str, super::observation::Category)> = Map::default();
    for c in &r.corrections {
        if let Some(&(_, night)) = in_period.get(c.shift_id.as_str()) {
            out.get_mut(&night)
                .expect("a night of a shift")
                .fixed
                .observations
                .corrections += 1;
        }
        if let Some(cat) = c.new_category {
            let e = recat
                .entry(c.target_id.as_str())
                .or_insert((c.at, &c.id, cat));
            if (c.at, c.id.as_str()) > (e.0, e.1) {
                *e = (c.at, &c.id, cat);
            }
        }
    }

    // Observations, tips, hours, places.
    for o in &r.observations {
        let Some(&(_, night)) = in_period.get(o.shift_id.as_str()) else {
            continue;
        };
        let n = out.get_mut(&night).expect("a night of a shift");
        let f = &mut n.fixed;
        let b = &mut f.observations;
        b.total += 1;
        let cat = recat.get(o.id.as_str()).map_or(o.category, |e| e.2);
        if cat != o.category {
            b.recategorised += 1;
        }
        b.by_category[cat.index()] += 1;
        match o.action {
            Some(a) => b.by_action[a.index()] += 1,
            None => b.no_action += 1,
        }
        if o.urgent {
            b.urgent += 1;
        }
        f.by_hour[o.at.with_timezone(&tz).hour() as usize] += 1;
        match o.fix {
            None => f.places.no_position += 1,
            Some(fix) => match place_of(&route, fix.pos) {
                Some(i) => n.at_checkpoints[i] += 1,
                None => f.places.elsewhere += 1,
            },
        }
        let steps = r.steps.get(o.id.as_str());
        let state = outcome(steps.into_iter().flatten().copied());
        let t = &mut f.tips;
        match state.outcome {
            // A withdrawal is never an outcome (only standing steps are read).
            None | Some(TipStep::Withdrawn) => t.no_step += 1,
            Some(TipStep::Forwarded) => t.forwarded += 1,
            Some(TipStep::Valuable) => t.valuable += 1,
            Some(TipStep::Unfounded) => t.unfounded += 1,
            Some(TipStep::Resolved) => t.resolved += 1,
        }
        if state.answered_twice {
            t.answered_twice += 1;
        }
        if standing(steps.into_iter().flatten().copied())
            .iter()
            .any(|f| matches!(f.step, TipStep::Forwarded | TipStep::Valuable))
        {
            t.passed_on += 1;
        }
    }
    out
}

/// The figures of `setup`'s team over `nights` as of `now`, from what its nights came to
/// (`each`; nights outside `nights` are skipped): their sum, plus the slots planned (by the
/// roster where `planned` has the night, else every slot) and missed by `now`, and the shifts
/// not ended counted up to their slot's end or `now`.
pub fn finish<'a>(
    setup: &WardSetup,
    nights: Nights,
    each: impl IntoIterator<Item = &'a NightFigures>,
    planned: &Planned,
    now: DateTime<Utc>,
) -> Figures {
    let tz = setup.ward.time_zone();
    let route = route(setup);
    let mut f = Figures::default();
    f.places.checkpoints = route
        .iter()
        .map(|c| PlaceCount {
            team_id: setup.team.id.clone(),
            checkpoint_id: c.id.clone(),
            name: c.name.clone(),
            count: 0,
        })
        .collect();
    let mut run_slots: Set<(NaiveDate, &str)> = Set::default();
    for n in each {
        if !nights.contains(n.night) {
            continue;
        }
        f.add(&n.fixed);
        for (p, c) in f.places.checkpoints.iter_mut().zip(&n.at_checkpoints) {
            p.count += c;
        }
        for code in &n.run_slots {
            run_slots.insert((n.night, code.as_str()));
        }
        for s in &n.open {
            if s.slot_end <= now {
                f.shifts.unended += 1;
            }
            let seconds = (s.slot_end.min(now) - s.started_at).num_seconds().max(0);
            f.people.member_seconds += s.present as i64 * seconds;
        }
    }

    // Planned slots (the roster's where it plans the night): over by now, or run.
    let mut covered = 0;
    for night in nights.iter() {
        let rostered = planned.get(&night);
        for slot in setup
            .team
            .slots
            .iter()
            .filter(|s| rostered.is_none_or(|r| r.contains(&s.code)))
        {
            if run_slots.contains(&(night, slot.code.as_str())) {
                f.shifts.planned += 1;
                covered += 1;
            } else if slot.window(night, tz).end <= now {
                f.shifts.planned += 1;
                f.shifts.not_run += 1;
            }
        }
    }
    f.shifts.off_plan = f.shifts.run - covered;
    f
}
