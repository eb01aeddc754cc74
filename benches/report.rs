//! Time to build a year's report for a district of 13 wards (prints figures; asserts nothing).
//! The records come from the test generator (tests/common/year.rs) at district scale: 13 wards of
//! 2–3 teams, two shifts a night through 2025, about 285,000 records. The report is built from
//! records already read (the server's SQL selection and JSON parsing are not in the figure).

#[path = "../tests/common/year.rs"]
mod year;

use chrono::NaiveDate;
use patrol::domain::period::Period;
use patrol::domain::report::{report, TeamRecords};
use std::time::Instant;

const WARDS: usize = 13;
const RUNS: usize = 7;

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
}
