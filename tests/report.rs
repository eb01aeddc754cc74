//! Every figure of the report (`domain::report`) against an independent computation written here,
//! over a generated year for several wards (tests/common/year.rs), for several periods (a night
//! across midnight and the year end, a month, a quarter, the year, a range across the year end,
//! the night the records were pulled) and scopes (one team, one ward, every ward).
//!
//! The independent computation reads the records its own way (the `Ended` version of a shift by
//! lookup, ordered maps), computes slot times with the ward's fixed UTC+7 offset, distances with
//! its own haversine and tip outcomes by rank; it calls nothing of `domain::report`,
//! `domain::review`, `domain::tip` or `domain::shift`.

#[path = "common/year.rs"]
mod year;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Timelike, Utc};
use patrol::domain::observation::{Action, Category};
use patrol::domain::period::{Nights, Period};
use patrol::domain::records::{CheckIn, CheckInMethod, Correction, Observation, Shift};
use patrol::domain::report::{
    report, CoverageFigures, Figures, ObservationFigures, PeopleFigures, PlaceCount, PlaceFigures,
    Planned, ShiftFigures, TeamRecords, TipFigures,
};
use patrol::domain::review::TeamRecord;
use patrol::domain::tip::{FollowUp, TipStep};
use patrol::domain::ward::WardSetup;
use std::collections::{BTreeMap, BTreeSet};
use year::{TeamYear, Year};

/// The generated teams keep no roster: every slot of every night is planned.
static NO_ROSTER: Planned = Planned::new();

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The independent computation.

/// Start and end of slot `code` on `night`, by the ward's UTC+7 clock: a slot starting before
/// noon starts on the next calendar day.
fn slot_times(
    setup: &WardSetup,
    code: &str,
    night: NaiveDate,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let slot = setup.team.slots.iter().find(|s| s.code == code)?;
    let day = if slot.start_min >= 12 * 60 {
        night
    } else {
        night.succ_opt().unwrap()
    };
    let start =
        day.and_time(NaiveTime::MIN).and_utc() + Duration::minutes(slot.start_min as i64 - 7 * 60);
    Some((start, start + Duration::minutes(slot.length_min as i64)))
}

fn haversine_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let r = 6_371_008.8;
    let (la1, la2) = (a.0.to_radians(), b.0.to_radians());
    let dla = la2 - la1;
    let dlo = (b.1 - a.1).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().asin()
}

fn rank(s: TipStep) -> u8 {
    match s {
        TipStep::Forwarded => 1,
        TipStep::Valuable => 2,
        TipStep::Unfounded => 3,
        TipStep::Resolved => 4,
        TipStep::Withdrawn => unreachable!("withdrawals are not standing steps"),
    }
}

/// One team's figures, computed without the report.
fn expected(
    setup: &WardSetup,
    records: &[TeamRecord],
    nights: Nights,
    now: DateTime<Utc>,
) -> Figures {
    let team = &setup.team;
    let in_period = |n: NaiveDate| nights.first <= n && n <= nights.last;

    // Read: the Ended version of a shift if there is one; every other record once by id.
    let mut started: BTreeMap<&str, &Shift> = BTreeMap::new();
    let mut ended: BTreeMap<&str, &Shift> = BTreeMap::new();
    let mut check_ins: BTreeMap<&str, &CheckIn> = BTreeMap::new();
    let mut observations: BTreeMap<&str, &Observation> = BTreeMap::new();
    let mut corrections: BTreeMap<&str, &Correction> = BTreeMap::new();
    let mut steps: BTreeMap<&str, &FollowUp> = BTreeMap::new();
    for r in records {
        match r {
            TeamRecord::Started(s) => {
                started.insert(&s.id, s);
            }
            TeamRecord::Ended(s) => {
                ended.insert(&s.id, s);
            }
            TeamRecord::CheckIn(c) => {
                check_ins.insert(&c.id, c);
            }
            TeamRecord::Observation(o) => {
                observations.insert(&o.id, o);
            }
            TeamRecord::Correction(c) => {
                corrections.insert(&c.id, c);
            }
            TeamRecord::FollowUp(f) => {
                steps.insert(&f.id, f);
            }
        }
    }
    let ids: BTreeSet<&str> = started.keys().chain(ended.keys()).copied().collect();
    let shifts: Vec<&Shift> = ids
        .iter()
        .map(|id| ended.get(id).or_else(|| started.get(id)).copied().unwrap())
        .filter(|s| s.team_id == team.id && in_period(s.night))
        .collect();
    let shift_ids: BTreeSet<&str> = shifts.iter().map(|s| s.id.as_str()).collect();

    // Shifts.
    let longest = team.slots.iter().map(|s| s.length_min).max().unwrap_or(720) as i64;
    let end_of = |s: &Shift| match slot_times(setup, &s.slot_code, s.night) {
        Some((_, end)) => end,
        None => s.started_at + Duration::minutes(longest),
    };
    let mut sh = ShiftFigures {
        run: shifts.len() as u64,
        ..Default::default()
    };
    for s in &shifts {
        if let Some((start, _)) = slot_times(setup, &s.slot_code, s.night) {
            if (s.started_at - start).num_seconds() > 30 * 60 {
                sh.late += 1;
            }
        }
        if s.ended_at.is_none() && now >= end_of(s) {
            sh.unended += 1;
        }
    }
    let mut over: BTreeSet<(NaiveDate, &str)> = BTreeSet::new();
    let mut night = nights.first;
    while night <= nights.last {
        for slot in &team.slots {
            if slot_times(setup, &slot.code, night).unwrap().1 <= now {
                over.insert((night, slot.code.as_str()));
            }
        }
        night = night.succ_opt().unwrap();
    }
    let mut per_slot: BTreeMap<(NaiveDate, &str), u64> = BTreeMap::new();
    for s in &shifts {
        *per_slot.entry((s.night, s.slot_code.as_str())).or_default() += 1;
    }
    let known = |code: &str| team.slots.iter().any(|s| s.code == code);
    let run_slots: BTreeSet<(NaiveDate, &str)> =
        per_slot.keys().filter(|(_, c)| known(c)).copied().collect();
    sh.planned = over.union(&run_slots).count() as u64;
    sh.not_run = over.difference(&run_slots).count() as u64;
    sh.off_plan = per_slot
        .iter()
        .map(|((_, c), n)| if known(c) { n - 1 } else { *n })
        .sum();

    // People.
    let mut people = PeopleFigures::default();
    for s in &shifts {
        let present = s.members_present.iter().collect::<BTreeSet<_>>().len() as i64;
        let end = s.ended_at.unwrap_or_else(|| end_of(s).min(now));
        people.member_shifts += present as u64;
        people.member_seconds += present * (end - s.started_at).num_seconds().max(0);
    }

    // Coverage.
    let route: BTreeSet<&str> = setup.checkpoints.iter().map(|c| c.id.as_str()).collect();
    let mut cov = CoverageFigures {
        route_stops: (route.len() * shifts.len()) as u64,
        ..Default::default()
    };
    let mut stops: BTreeSet<(&str, &str)> = BTreeSet::new();
    for c in check_ins
        .values()
        .filter(|c| shift_ids.contains(c.shift_id.as_str()))
    {
        cov.check_ins += 1;
        if c.method == CheckInMethod::Gps && c.verified {
            cov.gps_verified += 1;
        } else if c.method == CheckInMethod::Qr && c.verified {
            cov.qr_verified += 1;
        } else {
            cov.unverified += 1;
        }
        if route.contains(c.checkpoint_id.as_str()) {
            stops.insert((&c.shift_id, &c.checkpoint_id));
        }
    }
    cov.stops_visited = stops.len() as u64;

    // Observations, tips, hours, places.
    let mut ob = ObservationFigures {
        corrections: corrections
            .values()
            .filter(|c| shift_ids.contains(c.shift_id.as_str()))
            .count() as u64,
        ..Default::default()
    };
    let mut tips = TipFigures::default();
    let mut by_hour = [0u64; 24];
    let mut route_order: Vec<_> = setup.checkpoints.iter().collect();
    route_order.sort_by_key(|c| c.seq);
    let mut places = PlaceFigures {
        checkpoints: route_order
            .iter()
            .map(|c| PlaceCount {
                team_id: team.id.clone(),
                checkpoint_id: c.id.clone(),
                name: c.name.clone(),
                count: 0,
            })
            .collect(),
        ..Default::default()
    };
    for o in observations
        .values()
        .filter(|o| shift_ids.contains(o.shift_id.as_str()))
    {
        ob.total += 1;
        let latest = corrections
            .values()
            .filter(|c| c.target_id == o.id && c.new_category.is_some())
            .max_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        let cat = latest.map_or(o.category, |c| c.new_category.unwrap());
        if cat != o.category {
            ob.recategorised += 1;
        }
        let ci = Category::ALL.iter().position(|c| *c == cat).unwrap();
        ob.by_category[ci] += 1;
        match o.action {
            None => ob.no_action += 1,
            Some(a) => ob.by_action[Action::ALL.iter().position(|x| *x == a).unwrap()] += 1,
        }
        ob.urgent += o.urgent as u64;
        by_hour[((o.at + Duration::hours(7)).hour()) as usize] += 1;
        match o.fix {
            None => places.no_position += 1,
            Some(fix) => {
                let near = route_order
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        (
                            i,
                            haversine_m((c.pos.lat, c.pos.lon), (fix.pos.lat, fix.pos.lon)),
                            c.radius_m,
                        )
                    })
                    .filter(|(_, dist, r)| *dist <= 3.0 * r)
                    .min_by(|a, b| a.1.total_cmp(&b.1));
                match near {
                    Some((i, _, _)) => places.checkpoints[i].count += 1,
                    None => places.elsewhere += 1,
                }
            }
        }
        // The steps still standing: neither a withdrawal nor withdrawn by one.
        let all: Vec<&FollowUp> = steps
            .values()
            .filter(|f| f.observation_id == o.id)
            .copied()
            .collect();
        let taken_back: Vec<&str> = all
            .iter()
            .filter(|f| f.step == TipStep::Withdrawn)
            .filter_map(|f| f.after.as_deref())
            .collect();
        let mine: Vec<&FollowUp> = all
            .into_iter()
            .filter(|f| f.step != TipStep::Withdrawn && !taken_back.contains(&f.id.as_str()))
            .collect();
        if mine
            .iter()
            .any(|f| matches!(f.step, TipStep::Forwarded | TipStep::Valuable))
        {
            tips.passed_on += 1;
        }
        match mine.iter().map(|f| f.step).max_by_key(|s| rank(*s)) {
            None => tips.no_step += 1,
            Some(TipStep::Withdrawn) => unreachable!("withdrawals are not standing steps"),
            Some(TipStep::Forwarded) => tips.forwarded += 1,
            Some(TipStep::Valuable) => tips.valuable += 1,
            Some(TipStep::Unfounded) => tips.unfounded += 1,
            Some(TipStep::Resolved) => tips.resolved += 1,
        }
        let mut afters: BTreeMap<Option<&str>, usize> = BTreeMap::new();
        for f in &mine {
            *afters.entry(f.after.as_deref()).or_default() += 1;
        }
        if afters.values().any(|n| *n > 1) {
            tips.answered_twice += 1;
        }
    }
    Figures {
        shifts: sh,
        people,
        coverage: cov,
        observations: ob,
        tips,
        by_hour,
        places,
    }
}

/// The sum of teams' figures, done by hand (places: the teams' lists one after the other, as
/// their checkpoints are distinct).
fn summed<'a>(parts: impl IntoIterator<Item = &'a Figures>) -> Figures {
    let mut t = Figures::default();
    for f in parts {
        macro_rules! add {
            ($($a:ident . $b:ident),*) => { $( t.$a.$b += f.$a.$b; )* };
        }
        add!(
            shifts.planned,
            shifts.run,
            shifts.not_run,
            shifts.off_plan,
            shifts.late,
            shifts.unended,
            people.member_shifts,
            people.member_seconds,
            coverage.route_stops,
            coverage.stops_visited,
            coverage.check_ins,
            coverage.gps_verified,
            coverage.qr_verified,
            coverage.unverified,
            observations.total,
            observations.urgent,
            observations.no_action,
            observations.corrections,
            observations.recategorised,
            tips.no_step,
            tips.forwarded,
            tips.valuable,
            tips.unfounded,
            tips.resolved,
            tips.answered_twice,
            tips.passed_on,
            places.elsewhere,
            places.no_position
        );
        for i in 0..12 {
            t.observations.by_category[i] += f.observations.by_category[i];
        }
        for i in 0..5 {
            t.observations.by_action[i] += f.observations.by_action[i];
        }
        for i in 0..24 {
            t.by_hour[i] += f.by_hour[i];
        }
        t.places
            .checkpoints
            .extend(f.places.checkpoints.iter().cloned());
    }
    t
}

// ---------------------------------------------------------------------------------------------
// Comparing.

fn same(what: &str, got: &Figures, want: &Figures) {
    assert_eq!(got.shifts, want.shifts, "{what}: shifts");
    assert_eq!(got.people, want.people, "{what}: people");
    assert_eq!(got.coverage, want.coverage, "{what}: coverage");
    assert_eq!(got.observations, want.observations, "{what}: observations");
    assert_eq!(got.tips, want.tips, "{what}: tips");
    assert_eq!(got.by_hour, want.by_hour, "{what}: by hour");
    assert_eq!(got.places, want.places, "{what}: places");
    assert_eq!(got, want, "{what}");
}

fn inputs<'a>(teams: &[&'a TeamYear]) -> Vec<TeamRecords<'a>> {
    teams
        .iter()
        .map(|t| TeamRecords {
            setup: &t.setup,
            records: &t.records,
            planned: &NO_ROSTER,
        })
        .collect()
}

/// Checks every scope over `nights`; returns the figures of every ward.
fn check_period(y: &Year, what: &str, nights: Nights) -> Figures {
    let want: Vec<Figures> = y
        .teams
        .iter()
        .map(|t| expected(&t.setup, &t.records, nights, y.now))
        .collect();
    let all: Vec<&TeamYear> = y.teams.iter().collect();
    let ward_ids: BTreeSet<&str> = y.teams.iter().map(|t| t.setup.ward.id.as_str()).collect();
    // One team.
    let one = report(&inputs(&all[1..2]), nights, y.now);
    same(
        &format!("{what}, team {}", all[1].setup.team.id),
        &one.total,
        &want[1],
    );
    assert_eq!(one.teams.len(), 1);
    // Each ward.
    for w in &ward_ids {
        let idx: Vec<usize> = (0..all.len())
            .filter(|i| all[*i].setup.ward.id == *w)
            .collect();
        let teams: Vec<&TeamYear> = idx.iter().map(|i| all[*i]).collect();
        let r = report(&inputs(&teams), nights, y.now);
        let ward_want = summed(idx.iter().map(|i| &want[*i]));
        same(&format!("{what}, ward {w}"), &r.total, &ward_want);
        let wards = r.wards();
        assert_eq!(wards.len(), 1);
        assert_eq!(wards[0].figures, r.total);
    }
    // Every ward: per team, per ward, in total.
    let r = report(&inputs(&all), nights, y.now);
    assert_eq!(r.nights, nights);
    for (i, t) in r.teams.iter().enumerate() {
        assert_eq!(t.team_id, all[i].setup.team.id);
        same(
            &format!("{what}, district, team {}", t.team_id),
            &t.figures,
            &want[i],
        );
    }
    let wards = r.wards();
    assert_eq!(wards.len(), ward_ids.len());
    for w in &wards {
        let ward_want = summed(
            (0..all.len())
                .filter(|i| all[*i].setup.ward.id == w.ward_id)
                .map(|i| &want[i]),
        );
        same(
            &format!("{what}, district, ward {}", w.ward_id),
            &w.figures,
            &ward_want,
        );
    }
    let total = summed(&want);
    same(&format!("{what}, district"), &r.total, &total);
    // Identities that hold whatever the records.
    let s = &r.total.shifts;
    assert_eq!(s.run + s.not_run, s.planned + s.off_plan, "{what}");
    let c = &r.total.coverage;
    assert_eq!(
        c.check_ins,
        c.gps_verified + c.qr_verified + c.unverified,
        "{what}"
    );
    let o = &r.total.observations;
    assert_eq!(o.total, o.by_category.iter().sum::<u64>(), "{what}");
    assert_eq!(
        o.total,
        o.by_action.iter().sum::<u64>() + o.no_action,
        "{what}"
    );
    assert_eq!(o.total, r.total.by_hour.iter().sum::<u64>(), "{what}");
    assert_eq!(
        o.total,
        r.total.tips.no_step + r.total.tips.with_steps(),
        "{what}"
    );
    let p = &r.total.places;
    let placed: u64 = p.checkpoints.iter().map(|c| c.count).sum();
    assert_eq!(o.total, placed + p.elsewhere + p.no_position, "{what}");
    r.total
}

fn nights(p: Period) -> Nights {
    p.nights().unwrap()
}

#[test]
fn every_figure_matches_an_independent_computation_for_each_period_and_scope() {
    let y = year::test_year(3, 9);
    let f = &y.features;
    assert!(y.teams.len() >= 7, "3 wards of 2–3 teams");
    assert!(y.events() > 40_000, "{} events", y.events());
    assert!(f.duplicates > 0 && f.orphans > 0 && f.ended_first > 0 && f.joined_later > 0);
    assert!(
        f.on_the_boundary > 0 && f.running > 0 && f.correction_ties > 0,
        "{f:?}"
    );

    // The year: every kind of figure occurs.
    let yr = check_period(&y, "year 2025", nights(Period::Year { year: 2025 }));
    let s = &yr.shifts;
    assert!(
        s.run > 4000 && s.not_run > 0 && s.off_plan > 0 && s.late > 0 && s.unended > 0,
        "{s:?}"
    );
    assert_eq!(
        s.planned,
        365 * 2 * y.teams.len() as u64,
        "every slot of 2025 is over"
    );
    assert!(yr.people.member_shifts > 2 * s.run && yr.people.member_seconds > 0);
    let c = &yr.coverage;
    assert!(c.gps_verified > 0 && c.qr_verified > 0 && c.unverified > 0);
    assert!(
        c.stops_visited > 0 && c.stops_visited < c.route_stops && c.check_ins > c.stops_visited
    );
    let o = &yr.observations;
    assert!(o.by_category.iter().all(|n| *n > 0), "{o:?}");
    assert!(
        o.by_action.iter().all(|n| *n > 0) && o.no_action > 0,
        "{o:?}"
    );
    assert!(o.urgent > 0 && o.corrections > 0 && o.recategorised > 0);
    let t = &yr.tips;
    assert!(
        t.no_step > 0 && t.forwarded > 0 && t.valuable > 0 && t.unfounded > 0 && t.resolved > 0
    );
    assert!(t.answered_twice > 0);
    assert!(
        yr.by_hour.iter().filter(|n| **n > 0).count() >= 9,
        "{:?}",
        yr.by_hour
    );
    assert_eq!(yr.by_hour[12], 0, "no patrol at noon");
    let p = &yr.places;
    assert!(p.elsewhere > 0 && p.no_position > 0 && p.checkpoints.iter().all(|c| c.count > 0));

    // A night across midnight and the year end: ca 2 after midnight counts on 31 December.
    let nye = check_period(
        &y,
        "night 2025-12-31",
        nights(Period::Night {
            night: d(2025, 12, 31),
        }),
    );
    assert!(nye.shifts.run > 0);
    assert!(
        nye.by_hour[0..4].iter().sum::<u64>() > 0,
        "{:?}",
        nye.by_hour
    );
    // A month ending on the 30th (its last ca 2 runs on 1 December), a quarter, the first half.
    check_period(
        &y,
        "November 2025",
        nights(Period::Month {
            year: 2025,
            month: 11,
        }),
    );
    check_period(
        &y,
        "Q3 2025",
        nights(Period::Quarter {
            year: 2025,
            quarter: 3,
        }),
    );
    check_period(
        &y,
        "H1 2025",
        nights(Period::Half {
            year: 2025,
            half: 1,
        }),
    );
    // A range across the year end up to the night under way.
    check_period(
        &y,
        "2025-12-20..2026-01-15",
        nights(Period::Range {
            from: d(2025, 12, 20),
            to: d(2026, 1, 15),
        }),
    );
    // January 2026: nights after `now` are neither planned nor missed.
    let jan = check_period(
        &y,
        "January 2026",
        nights(Period::Month {
            year: 2026,
            month: 1,
        }),
    );
    assert!(jan.shifts.planned < 31 * 2 * y.teams.len() as u64);
    // The night under way (22:30): ca 1 runs, ca 2 is to come; nothing is missed or unended.
    let tonight = check_period(
        &y,
        "night 2026-01-15",
        nights(Period::Night {
            night: d(2026, 1, 15),
        }),
    );
    assert!(tonight.shifts.run > 0, "{:?}", tonight.shifts);
    assert_eq!(tonight.shifts.not_run, 0);
    assert_eq!(tonight.shifts.unended, 0);
    assert_eq!(
        tonight.shifts.planned,
        tonight.shifts.run - tonight.shifts.off_plan
    );
    // The year before: no records, every slot missed; the same function, other nights.
    let before = check_period(
        &y,
        "year 2024",
        nights(Period::Year { year: 2025 }.year_before()),
    );
    assert_eq!(before.shifts.run, 0);
    assert_eq!(before.shifts.not_run, 366 * 2 * y.teams.len() as u64);
}

#[test]
fn other_seeds_around_the_year_end() {
    for seed in 1..=4 {
        let y = year::year(
            2,
            seed,
            d(2025, 12, 1),
            d(2026, 1, 31),
            year::local(d(2026, 1, 20), 60 + 15), // ca 2 of the 19th under way
        );
        for p in [
            Period::Month {
                year: 2025,
                month: 12,
            },
            Period::Week {
                night: d(2025, 12, 31),
            },
            Period::Night {
                night: d(2026, 1, 19),
            },
            Period::Range {
                from: d(2025, 11, 1),
                to: d(2026, 3, 1),
            },
        ] {
            check_period(&y, &format!("seed {seed}, {p:?}"), nights(p));
        }
    }
}
