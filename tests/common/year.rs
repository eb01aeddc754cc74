//! A realistic year of patrol records for several wards, from a seed (no wall clock, no host time
//! zone): teams with two shifts a night, missed slots, late starts, shifts never ended, a second
//! phone starting a slot already run, an extra patrol on a slot the team does not have, check-ins
//! of every kind, observations of every category and action, corrections (some changing the
//! category, some twice), tips with outcomes (two leaders at once included), records pulled
//! twice, records of shifts whose start never arrived, and everything shuffled.
//!
//! Used by tests/report.rs (against an independent computation) and benches/report.rs (at the
//! scale of a 13-ward district). Slot times are computed here with the ward's fixed UTC+7 offset
//! (Asia/Ho_Chi_Minh has no daylight saving), not with the crate's shift rules.
#![allow(dead_code)]

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use patrol::domain::geofence::{Fix, LatLon};
use patrol::domain::observation::{Action, Category};
use patrol::domain::records::{CheckIn, CheckInMethod, Correction, Observation, Shift};
use patrol::domain::review::TeamRecord;
use patrol::domain::shift::ShiftSlot;
use patrol::domain::tip::{FollowUp, TipStep};
use patrol::domain::ward::{Checkpoint, Member, Role, Team, Ward, WardSetup};

/// Hours the ward clock is ahead of UTC.
pub const UTC_OFFSET_H: i64 = 7;

/// SplitMix64: small, seeded, the same on every machine.
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0..n.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// a..=b.
    pub fn range(&mut self, a: i64, b: i64) -> i64 {
        a + self.below((b - a + 1) as u64) as i64
    }

    /// In [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One of `xs`.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    /// A UUID-shaped id, as real records carry.
    pub fn id(&mut self) -> String {
        uuid::Uuid::from_u64_pair(self.next(), self.next()).to_string()
    }
}

/// One team's setup and records.
pub struct TeamYear {
    /// Ward, team, members, route.
    pub setup: WardSetup,
    /// Its records, shuffled, some twice.
    pub records: Vec<TeamRecord>,
}

/// What the generator made sure to include (counts, for the test to assert they occur).
#[derive(Debug, Default)]
pub struct Features {
    /// Records pulled twice.
    pub duplicates: usize,
    /// Shifts whose start and end never arrived (their entries did).
    pub orphans: usize,
    /// Shifts whose `Ended` record comes before the `Started` one.
    pub ended_first: usize,
    /// Shifts whose end lists more members than their start.
    pub joined_later: usize,
    /// Shifts started exactly 30 minutes after their slot (not late) or one second more (late).
    pub on_the_boundary: usize,
    /// Shifts running at `now`.
    pub running: usize,
    /// Corrections sharing an instant with another correction of the same observation.
    pub correction_ties: usize,
}

/// The generated district.
pub struct Year {
    /// Every team, ward by ward.
    pub teams: Vec<TeamYear>,
    /// The instant the records were pulled.
    pub now: DateTime<Utc>,
    /// First night generated.
    pub first: NaiveDate,
    /// Last night generated.
    pub last: NaiveDate,
    /// What it includes.
    pub features: Features,
}

impl Year {
    /// Records across all teams.
    pub fn events(&self) -> usize {
        self.teams.iter().map(|t| t.records.len()).sum()
    }
}

/// Local wall-clock time in the ward as UTC.
pub fn local(day: NaiveDate, min: i64) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN))
        + Duration::minutes(min - UTC_OFFSET_H * 60)
}

/// A slot's start and end on `night` (a slot starting before noon starts the next morning).
fn window(slot: &ShiftSlot, night: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let day = if slot.start_min < 720 {
        night + Duration::days(1)
    } else {
        night
    };
    let start = local(day, slot.start_min as i64);
    (start, start + Duration::minutes(slot.length_min as i64))
}

fn slot(code: &str, start_min: u32) -> ShiftSlot {
    ShiftSlot {
        code: code.into(),
        start_min,
        length_min: 240,
    }
}

/// 111,320 m per degree of latitude.
const M_PER_DEG: f64 = 111_320.0;

/// A point `d` metres from `p` in direction `theta` (flat-earth offset; fine at these scales).
fn offset(p: LatLon, d: f64, theta: f64) -> LatLon {
    LatLon {
        lat: p.lat + d * theta.cos() / M_PER_DEG,
        lon: p.lon + d * theta.sin() / (M_PER_DEG * p.lat.to_radians().cos()),
    }
}

fn setup(rng: &mut Rng, w: usize, t: usize) -> WardSetup {
    let ward_id = format!("w{w}");
    let team_id = format!("w{w}-t{t}");
    let centre = LatLon {
        lat: 20.90 + 0.05 * w as f64 + 0.012 * t as f64,
        lon: 105.75 + 0.03 * w as f64,
    };
    let n_cp = rng.range(6, 10) as usize;
    // A grid 400 m apart: radii of 30–50 m times 3 never overlap, so "nearest" is unambiguous.
    let checkpoints = (0..n_cp)
        .map(|k| {
            let pos = LatLon {
                lat: centre.lat + (k / 4) as f64 * 400.0 / M_PER_DEG,
                lon: centre.lon
                    + (k % 4) as f64 * 400.0 / (M_PER_DEG * centre.lat.to_radians().cos()),
            };
            Checkpoint {
                id: format!("{team_id}-cp{}", k + 1),
                name: format!("Chốt {}", k + 1),
                // Listed out of route order on purpose.
                seq: ((k + 3) % n_cp) as u32 + 1,
                pos,
                radius_m: rng.range(30, 50) as f64,
                qr_code: format!("QR-{team_id}-{k}"),
            }
        })
        .collect();
    let members = (0..rng.range(6, 10))
        .map(|k| Member {
            id: format!("{team_id}-m{k}"),
            name: format!("Tổ viên {k}"),
            role: if k == 0 { Role::Leader } else { Role::Member },
        })
        .collect();
    // One team per ward patrols an hour earlier, with its second shift starting before midnight.
    let slots = if t == 1 {
        vec![slot("ca1", 19 * 60), slot("ca2", 23 * 60)]
    } else {
        vec![slot("ca1", 20 * 60), slot("ca2", 0)]
    };
    WardSetup {
        ward: Ward {
            id: ward_id.clone(),
            name: format!("Phường {w}"),
            tz: "Asia/Ho_Chi_Minh".into(),
            police_phone: "113".into(),
            demo: false,
            photo_keep_days: patrol::domain::ward::DEFAULT_PHOTO_KEEP_DAYS,
        },
        team: Team {
            id: team_id.clone(),
            name: format!("Tổ tuần tra {t} – phường {w}"),
            leader_phone: "0900000000".into(),
            slots,
        },
        members,
        checkpoints,
    }
}

/// How often each category comes up in the generated year; one added later, as often as "other".
fn weight(c: Category) -> u64 {
    use Category::*;
    match c {
        SuspiciousPerson => 18,
        SuspiciousVehicle => 16,
        SnatchTheft => 8,
        Robbery => 3,
        Theft => 10,
        Drugs => 6,
        Gambling => 5,
        Fighting => 7,
        FireHazard => 6,
        TrafficAccident => 5,
        BrokenLightCamera => 8,
        _ => 8,
    }
}

fn category(rng: &mut Rng) -> Category {
    let total: u64 = Category::ALL.iter().map(|&c| weight(c)).sum();
    let mut x = rng.below(total);
    for &c in Category::ALL {
        if x < weight(c) {
            return c;
        }
        x -= weight(c);
    }
    Category::Other
}

fn at_between(rng: &mut Rng, a: DateTime<Utc>, b: DateTime<Utc>) -> DateTime<Utc> {
    let span = (b - a).num_seconds().max(1);
    a + Duration::seconds(rng.range(0, span - 1))
}

/// Generates `wards` wards (2 or 3 teams each) over the nights `first..=last`, pulled at `now`.
pub fn year(
    wards: usize,
    seed: u64,
    first: NaiveDate,
    last: NaiveDate,
    now: DateTime<Utc>,
) -> Year {
    let mut rng = Rng::new(seed);
    let mut features = Features::default();
    let mut teams = Vec::new();
    for w in 1..=wards {
        let n_teams = if w % 2 == 1 { 3 } else { 2 };
        for t in 1..=n_teams {
            let setup = setup(&mut rng, w, t);
            let records = team_year(&mut rng, &setup, first, last, now, &mut features);
            teams.push(TeamYear { setup, records });
        }
    }
    Year {
        teams,
        now,
        first,
        last,
        features,
    }
}

/// The test's year: 2025-01-01 to 2026-01-15, pulled at 22:30 on the evening of 2026-01-15
/// (ca1 under way, ca2 to come).
pub fn test_year(wards: usize, seed: u64) -> Year {
    let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    year(
        wards,
        seed,
        d(2025, 1, 1),
        d(2026, 1, 15),
        local(d(2026, 1, 15), 22 * 60 + 30),
    )
}

fn team_year(
    rng: &mut Rng,
    s: &WardSetup,
    first: NaiveDate,
    last: NaiveDate,
    now: DateTime<Utc>,
    features: &mut Features,
) -> Vec<TeamRecord> {
    let team = &s.team;
    let leaders: Vec<&str> = s.members.iter().take(2).map(|m| m.id.as_str()).collect();
    let mut out: Vec<TeamRecord> = Vec::new();
    let mut night = first;
    while night <= last {
        for sl in &team.slots {
            let (slot_start, slot_end) = window(sl, night);
            if slot_start > now || rng.chance(0.05) {
                continue; // to come, or missed
            }
            let copies = if rng.chance(0.02) { 2 } else { 1 };
            for _ in 0..copies {
                shift_records(
                    rng, s, &leaders, night, &sl.code, slot_start, slot_end, now, features,
                    &mut out,
                );
            }
        }
        // Now and then an extra patrol on a slot code the team does not have.
        if rng.chance(0.003) {
            let start = local(night, 22 * 60);
            if start + Duration::hours(3) < now {
                shift_records(
                    rng,
                    s,
                    &leaders,
                    night,
                    "tang-cuong",
                    start,
                    start + Duration::hours(2),
                    now,
                    features,
                    &mut out,
                );
            }
        }
        night += Duration::days(1);
    }
    // Pulled twice now and then, then shuffled.
    let n = out.len();
    for i in 0..n {
        if rng.chance(0.02) {
            out.push(out[i].clone());
            features.duplicates += 1;
        }
    }
    for i in (1..out.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        out.swap(i, j);
    }
    // Count the shifts whose end came first after the shuffle.
    let mut started_seen = std::collections::HashSet::new();
    for r in &out {
        match r {
            TeamRecord::Started(x) => {
                started_seen.insert(x.id.clone());
            }
            TeamRecord::Ended(x) if !started_seen.contains(&x.id) => {
                features.ended_first += 1;
            }
            _ => {}
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn shift_records(
    rng: &mut Rng,
    s: &WardSetup,
    leaders: &[&str],
    night: NaiveDate,
    code: &str,
    slot_start: DateTime<Utc>,
    slot_end: DateTime<Utc>,
    now: DateTime<Utc>,
    features: &mut Features,
    out: &mut Vec<TeamRecord>,
) {
    let team = &s.team;
    let x = rng.unit();
    let start = slot_start
        + if x < 0.08 {
            Duration::minutes(rng.range(31, 90)) + Duration::seconds(rng.range(0, 59))
        } else if x < 0.09 {
            features.on_the_boundary += 1;
            Duration::minutes(30)
        } else if x < 0.10 {
            features.on_the_boundary += 1;
            Duration::minutes(30) + Duration::seconds(1)
        } else {
            Duration::minutes(rng.range(-10, 19)) + Duration::seconds(rng.range(0, 59))
        };
    if start > now {
        return;
    }
    let mut members: Vec<String> = Vec::new();
    for _ in 0..rng.range(2, 6) {
        let m = &rng.pick(&s.members).id;
        if !members.contains(m) {
            members.push(m.clone());
        }
    }
    if rng.chance(0.01) {
        members.push(members[0].clone()); // listed twice by a glitch
    }
    let planned_end =
        slot_end + Duration::minutes(rng.range(-20, 30)) + Duration::seconds(rng.range(0, 59));
    let ended = if planned_end > now {
        features.running += 1;
        None
    } else if rng.chance(0.04) {
        None
    } else {
        Some(planned_end)
    };
    let shift = Shift {
        id: rng.id(),
        team_id: team.id.clone(),
        slot_code: code.into(),
        night,
        started_at: start,
        members_present: members.clone(),
        ended_at: None,
        handover_note: None,
    };
    let orphan = rng.chance(0.003);
    if orphan {
        features.orphans += 1;
    } else {
        out.push(TeamRecord::Started(shift.clone()));
        if let Some(end) = ended {
            let mut e = shift.clone();
            e.ended_at = Some(end);
            e.handover_note = Some("Bàn giao bình thường".into());
            if rng.chance(0.05) {
                let m = rng.pick(&s.members).id.clone();
                if !e.members_present.contains(&m) {
                    e.members_present.push(m);
                    features.joined_later += 1;
                }
            }
            out.push(TeamRecord::Ended(e));
        }
    }
    let last = ended
        .unwrap_or(now.min(slot_end))
        .max(start + Duration::minutes(1));
    // Check-ins along the route.
    for cp in &s.checkpoints {
        let times = if rng.chance(0.92) {
            if rng.chance(0.03) {
                2
            } else {
                1
            }
        } else {
            0
        };
        for _ in 0..times {
            check_in(rng, &shift.id, &cp.id, Some(cp), start, last, out);
        }
    }
    if rng.chance(0.005) {
        check_in(rng, &shift.id, "old-checkpoint", None, start, last, out);
    }
    // Observations.
    let x = rng.unit();
    let n_obs = if x < 0.35 {
        0
    } else if x < 0.70 {
        1
    } else if x < 0.88 {
        2
    } else if x < 0.96 {
        3
    } else {
        4
    };
    for _ in 0..n_obs {
        observation(rng, s, leaders, &shift.id, start, last, features, out);
    }
}

fn check_in(
    rng: &mut Rng,
    shift_id: &str,
    cp_id: &str,
    cp: Option<&Checkpoint>,
    a: DateTime<Utc>,
    b: DateTime<Utc>,
    out: &mut Vec<TeamRecord>,
) {
    let x = rng.unit();
    let (method, verified) = if x < 0.58 {
        (CheckInMethod::Gps, true)
    } else if x < 0.60 {
        (CheckInMethod::Gps, false) // outside, from an older build
    } else if x < 0.84 {
        (CheckInMethod::Qr, true)
    } else if x < 0.85 {
        (CheckInMethod::Qr, false)
    } else {
        (CheckInMethod::Manual, false)
    };
    let fix = cp.filter(|_| method == CheckInMethod::Gps).map(|cp| Fix {
        pos: offset(
            cp.pos,
            rng.unit() * cp.radius_m * 0.8,
            rng.unit() * std::f64::consts::TAU,
        ),
        accuracy_m: 8.0,
    });
    let at = at_between(rng, a, b);
    let id = rng.id();
    out.push(TeamRecord::CheckIn(CheckIn {
        id: id.clone(),
        shift_id: shift_id.into(),
        checkpoint_id: cp_id.into(),
        method,
        verified,
        fix,
        distance_m: fix.map(|_| 10.0),
        reason: (method == CheckInMethod::Manual).then(|| "GPS yếu".into()),
        at,
    }));
    if rng.chance(0.02) {
        out.push(TeamRecord::Correction(Correction {
            id: rng.id(),
            shift_id: shift_id.into(),
            target_id: id,
            text: "Điểm danh nhầm chốt".into(),
            new_category: None,
            at: at + Duration::minutes(5),
            photos_added: Vec::new(),
            photos_removed: Vec::new(),
        }));
    }
}

#[allow(clippy::too_many_arguments)]
fn observation(
    rng: &mut Rng,
    s: &WardSetup,
    leaders: &[&str],
    shift_id: &str,
    a: DateTime<Utc>,
    b: DateTime<Utc>,
    features: &mut Features,
    out: &mut Vec<TeamRecord>,
) {
    let original = category(rng);
    let x = rng.unit();
    let fix = if x < 0.45 {
        // At a checkpoint.
        let cp = rng.pick(&s.checkpoints);
        Some(offset(
            cp.pos,
            rng.unit() * 0.9 * cp.radius_m,
            rng.unit() * std::f64::consts::TAU,
        ))
    } else if x < 0.60 {
        // Near one: 1.2 to 2.7 radii away, still counted there.
        let cp = rng.pick(&s.checkpoints);
        let d = (1.2 + 1.5 * rng.unit()) * cp.radius_m;
        Some(offset(cp.pos, d, rng.unit() * std::f64::consts::TAU))
    } else if x < 0.85 {
        // Elsewhere: 2–3 km south of the route.
        let cp = &s.checkpoints[0];
        Some(offset(
            cp.pos,
            2000.0 + 1000.0 * rng.unit(),
            std::f64::consts::PI,
        ))
    } else {
        None
    };
    let id = rng.id();
    let at = at_between(rng, a, b);
    let action = if rng.chance(0.2) {
        None
    } else {
        Some(*rng.pick(Action::ALL))
    };
    out.push(TeamRecord::Observation(Observation {
        id: id.clone(),
        shift_id: shift_id.into(),
        category: original,
        description: Some("Ghi nhận trong ca".into()),
        plate: rng.chance(0.3).then(|| "29A-123.45".into()),
        people: None,
        action,
        urgent: rng.chance(0.08),
        fix: fix.map(|pos| Fix {
            pos,
            accuracy_m: 10.0,
        }),
        at,
        photos: Vec::new(),
    }));
    // Corrections: some name a new category (perhaps the same), some come twice.
    if rng.chance(0.10) {
        let n = if rng.chance(0.25) { 2 } else { 1 };
        let mut t = at + Duration::minutes(rng.range(1, 30));
        for k in 0..n {
            if k == 1 {
                if rng.chance(0.2) {
                    features.correction_ties += 1; // same instant: the greater id wins
                } else {
                    t += Duration::minutes(rng.range(1, 30));
                }
            }
            out.push(TeamRecord::Correction(Correction {
                id: rng.id(),
                shift_id: shift_id.into(),
                target_id: id.clone(),
                text: "Sửa loại sự việc".into(),
                new_category: rng.chance(0.7).then(|| category(rng)),
                at: t,
                photos_added: Vec::new(),
                photos_removed: Vec::new(),
            }));
        }
    }
    // Tips: steps by the leaders, days later.
    if rng.chance(0.45) {
        let mut when = at + Duration::hours(rng.range(6, 72));
        let mut step = |rng: &mut Rng, step: TipStep, after: Option<&str>| {
            when += Duration::hours(rng.range(1, 48));
            let f = FollowUp {
                id: rng.id(),
                observation_id: id.clone(),
                step,
                // A withdrawal says why.
                note: (step == TipStep::Withdrawn).then(|| "Bấm nhầm".to_string()),
                by: rng.pick(leaders).to_string(),
                after: after.map(Into::into),
                at: when,
            };
            let fid = f.id.clone();
            out.push(TeamRecord::FollowUp(f));
            fid
        };
        use TipStep::*;
        let x = rng.unit();
        if x < 0.06 {
            step(rng, Resolved, None);
        } else {
            let f = step(rng, Forwarded, None);
            if x < 0.09 {
                // Two leaders at once, both offline, both after the forwarding.
                let a = *rng.pick(&[Valuable, Unfounded, Resolved]);
                let b = *rng.pick(&[Valuable, Unfounded, Resolved]);
                step(rng, a, Some(&f));
                step(rng, b, Some(&f));
            } else if x < 0.35 {
                // Forwarded, nothing more yet.
            } else if x < 0.55 {
                step(rng, Valuable, Some(&f));
            } else if x < 0.75 {
                let v = step(rng, Valuable, Some(&f));
                step(rng, Resolved, Some(&v));
            } else if x < 0.85 {
                step(rng, Unfounded, Some(&f));
            } else if x < 0.90 {
                // Closed as unfounded by mistake, taken back, then confirmed valuable (and, some
                // of the time, the forwarding itself taken back too).
                let u = step(rng, Unfounded, Some(&f));
                step(rng, Withdrawn, Some(&u));
                if x < 0.87 {
                    step(rng, Withdrawn, Some(&f));
                } else {
                    step(rng, Valuable, Some(&f));
                }
            } else {
                step(rng, Resolved, Some(&f));
            }
        }
    }
}
