//! Time to build a year's report for a district of 13 wards, and one team's night-duty sheet of a
//! month (prints figures; asserts nothing).
//! The records come from the test generator (tests/common/year.rs) at district scale: 13 wards of
//! 2–3 teams, two shifts a night through 2025, about 285,000 records. The report is built from
//! records already read; then the same records are written to a ward server's database and the
//! server's whole answer is timed (the kept (team, night) figures read and added up for the
//! period, the period before and the year before), as `GET /api/v1/report?scope=district` builds
//! it, after the server's start has worked those figures out.

#[path = "../tests/common/year.rs"]
mod year;

use chrono::NaiveDate;
use patrol::domain::period::Period;
use patrol::domain::report::{report, Planned, TeamRecords};
use std::time::Instant;

/// The generated teams keep no roster: every slot of every night is planned.
static NO_ROSTER: Planned = Planned::new();

const WARDS: usize = 13;
const RUNS: usize = 7;
const ANSWERS: usize = 5;

fn main() {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let t = Instant::now();
    let y = year::year(
        WARDS,
        2025,
        d(2025, 1, 1),
        d(2025, 12, 31),
        year::local(d(2026, 1, 2), 12 * 60),
    );
    let generated = t.elapsed();
    let teams: Vec<TeamRecords> = y
        .teams
        .iter()
        .map(|t| TeamRecords {
            setup: &t.setup,
            records: &t.records,
            planned: &NO_ROSTER,
        })
        .collect();
    let nights = Period::Year { year: 2025 }.nights().unwrap();
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..RUNS {
        let t = Instant::now();
        let r = report(&teams, nights, y.now);
        times.push(t.elapsed());
        last = Some(r);
    }
    times.sort();
    let r = last.unwrap();
    let f = &r.total;
    println!(
        "district report, year 2025: {} wards, {} teams, {} events (generated in {:.0?})",
        WARDS,
        teams.len(),
        y.events(),
        generated
    );
    println!(
        "  build: p50 {:.1} ms, min {:.1} ms, max {:.1} ms over {RUNS} runs (aim: under 300 ms)",
        times[RUNS / 2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[RUNS - 1].as_secs_f64() * 1e3,
    );
    println!(
        "  shifts planned {} run {} not run {} late {} unended {}; member-shifts {} member-hours {:.0}",
        f.shifts.planned,
        f.shifts.run,
        f.shifts.not_run,
        f.shifts.late,
        f.shifts.unended,
        f.people.member_shifts,
        f.people.member_hours()
    );
    println!(
        "  check-ins {} (GPS {} QR {} unverified {}); observations {} (urgent {}); tips forwarded {} valuable {} resolved {} unfounded {}",
        f.coverage.check_ins,
        f.coverage.gps_verified,
        f.coverage.qr_verified,
        f.coverage.unverified,
        f.observations.total,
        f.observations.urgent,
        f.tips.forwarded,
        f.tips.valuable,
        f.tips.resolved,
        f.tips.unfounded
    );

    server_answer(&y);
}

/// The district's year as the ward server answers it, from its own database file.
fn server_answer(y: &year::Year) {
    use patrol::domain::review::TeamRecord;
    use patrol::domain::ward::Role;
    use patrol::wire::api::{ReportQuery, ReportScope};
    use patrol_server::db::enrollment::DeviceAuth;
    use patrol_server::db::ServerDb;
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let mut db = ServerDb::open(dir.path()).unwrap();
    let t = Instant::now();
    for team in &y.teams {
        db.load_setup(&team.setup).unwrap();
    }
    let tx = db.conn_mut().transaction().unwrap();
    {
        let mut device = tx
            .prepare("INSERT INTO device(id, member_id, token_hash, enrolled_at) VALUES (?1, ?2, ?3, ?4)")
            .unwrap();
        let mut event = tx
            .prepare(
                "INSERT INTO event(event_id, device_id, seq, team_id, kind, entity_id, payload, content_hash, client_time, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, '', ?8, ?8)",
            )
            .unwrap();
        for team in &y.teams {
            let member = &team.setup.members[0].id;
            let dev = format!("bench-{}", team.setup.team.id);
            device
                .execute(rusqlite::params![
                    dev,
                    member,
                    dev,
                    "2025-01-01T00:00:00+00:00"
                ])
                .unwrap();
            for (seq, r) in team.records.iter().enumerate() {
                let (kind, id, payload, at) = match r {
                    TeamRecord::Started(x) => (
                        "shift_started",
                        &x.id,
                        serde_json::to_string(x),
                        x.started_at,
                    ),
                    TeamRecord::Ended(x) => (
                        "shift_ended",
                        &x.id,
                        serde_json::to_string(x),
                        x.ended_at.unwrap_or(x.started_at),
                    ),
                    TeamRecord::CheckIn(x) => ("checked_in", &x.id, serde_json::to_string(x), x.at),
                    TeamRecord::Observation(x) => {
                        ("observed", &x.id, serde_json::to_string(x), x.at)
                    }
                    TeamRecord::Correction(x) => {
                        ("corrected", &x.id, serde_json::to_string(x), x.at)
                    }
                    TeamRecord::FollowUp(x) => {
                        ("tip_followed_up", &x.id, serde_json::to_string(x), x.at)
                    }
                };
                event
                    .execute(rusqlite::params![
                        uuid::Uuid::now_v7().to_string(),
                        dev,
                        seq as i64 + 1,
                        team.setup.team.id,
                        kind,
                        id,
                        payload.unwrap(),
                        at.to_rfc3339()
                    ])
                    .unwrap();
            }
        }
    }
    tx.commit().unwrap();
    let loaded = t.elapsed();
    // Written behind the server's back: its start works out every (team, night)'s figures, as
    // after the migration that keeps them (server_0005); pushes keep them current after that.
    drop(db);
    let t = Instant::now();
    let db = ServerDb::open(dir.path()).unwrap();
    let caught_up = t.elapsed();
    let first = &y.teams[0].setup;
    let admin = DeviceAuth {
        device_id: "bench-admin".into(),
        member_id: "bench-admin".into(),
        role: Role::Admin,
        team_id: first.team.id.clone(),
        ward_id: first.ward.id.clone(),
    };
    let query = ReportQuery {
        scope: ReportScope::District,
        id: None,
        from: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        to: NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
    };
    let mut times = Vec::new();
    for _ in 0..ANSWERS {
        let t = Instant::now();
        let r = patrol_server::db::report::answer(db.conn(), &admin, &query, y.now).unwrap();
        times.push(t.elapsed());
        assert!(r.report.total.observations.total > 0);
    }
    times.sort();
    println!(
        "  the server's answer (the year, the period before and the year before, from the kept nights): p50 {:.0} ms, min {:.0} ms, max {:.0} ms over {ANSWERS} runs ({} events written in {loaded:.0?}, their nights worked out at the server's start in {caught_up:.0?})",
        times[ANSWERS / 2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[ANSWERS - 1].as_secs_f64() * 1e3,
        y.events()
    );

    // A team's night-duty sheet of a month, as `GET /api/v1/team/{team}/allowance` works it out
    // from the same database (its shifts chosen by the night they name, among all the district's).
    let month = patrol::domain::allowance::YearMonth::new(2025, 6).unwrap();
    let mut times = Vec::new();
    let mut lines = 0;
    for _ in 0..ANSWERS {
        let t = Instant::now();
        let a =
            patrol_server::db::allowance::sheet(db.conn(), &admin, &first.team.id, month, y.now)
                .unwrap();
        times.push(t.elapsed());
        lines = a.sheet.lines.len();
    }
    times.sort();
    println!(
        "  a team's night-duty sheet of {month} ({lines} members): p50 {:.1} ms, min {:.1} ms, max {:.1} ms over {ANSWERS} runs",
        times[ANSWERS / 2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[ANSWERS - 1].as_secs_f64() * 1e3,
    );
}
