//! The server's report from its kept (team, night) figures equals the domain's report over every
//! stored record, after every push: phones offline for days, events out of order and pushed
//! twice, corrections of earlier records, tip steps arriving later, and a setup changed.

#[path = "common/year.rs"]
mod year;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use patrol::domain::period::Period;
use patrol::domain::records::Correction;
use patrol::domain::report::{report, Planned, TeamRecords};
use patrol::domain::review::TeamRecord;
use patrol::domain::ward::{Role, WardSetup};
use patrol::wire::api::{ReportQuery, ReportResponse, ReportScope};
use patrol::wire::event::{Event, EventKind};
use patrol_server::db::enrollment::DeviceAuth;
use patrol_server::db::review::team_records;
use patrol_server::db::{report, report_nights, ServerDb};
use std::collections::HashMap;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// The wards' evenings: 10 November to 5 December 2025, pulled at noon on 12 December.
fn world() -> year::Year {
    year::year(
        2,
        9,
        d(2025, 11, 10),
        d(2025, 12, 5),
        year::local(d(2025, 12, 12), 12 * 60),
    )
}

/// One phone per member, pushing straight into the database.
struct Phones {
    auth: HashMap<String, DeviceAuth>,
    seq: HashMap<String, i64>,
    n: u64,
}

impl Phones {
    fn enrol(db: &ServerDb, teams: &[&WardSetup]) -> Phones {
        let mut auth = HashMap::new();
        for s in teams {
            for m in &s.members {
                let device = format!("phone-{}", m.id);
                db.conn()
                    .execute(
                        "INSERT INTO device(id, member_id, token_hash, enrolled_at) VALUES (?1, ?2, ?1, '2025-01-01T00:00:00+00:00')",
                        [&device, &m.id],
                    )
                    .unwrap();
                auth.insert(
                    m.id.clone(),
                    DeviceAuth {
                        device_id: device,
                        member_id: m.id.clone(),
                        role: m.role,
                        team_id: s.team.id.clone(),
                        ward_id: s.ward.id.clone(),
                    },
                );
            }
        }
        Phones {
            auth,
            seq: HashMap::new(),
            n: 0,
        }
    }

    /// `r` as an event of `member`'s phone.
    fn event(&mut self, member: &str, r: &TeamRecord) -> Event {
        let (kind, id, payload, at) = match r {
            TeamRecord::Started(x) => (EventKind::ShiftStarted, &x.id, json(x), x.started_at),
            TeamRecord::Ended(x) => (
                EventKind::ShiftEnded,
                &x.id,
                json(x),
                x.ended_at.unwrap_or(x.started_at),
            ),
            TeamRecord::CheckIn(x) => (EventKind::CheckedIn, &x.id, json(x), x.at),
            TeamRecord::Observation(x) => (EventKind::Observed, &x.id, json(x), x.at),
            TeamRecord::Correction(x) => (EventKind::Corrected, &x.id, json(x), x.at),
            TeamRecord::FollowUp(x) => (EventKind::TipFollowedUp, &x.id, json(x), x.at),
        };
        let device = self.auth[member].device_id.clone();
        let seq = self.seq.entry(device.clone()).or_insert(0);
        *seq += 1;
        self.n += 1;
        Event {
            seq: *seq,
            event_id: format!("ev-{:08}", self.n),
            device_id: device,
            kind,
            entity_id: id.clone(),
            payload,
            client_time: at,
        }
    }

    fn push(&self, db: &mut ServerDb, member: &str, events: &[Event], now: DateTime<Utc>) {
        db.push(&self.auth[member], now, events, now).unwrap();
    }
}

fn json<T: serde::Serialize>(x: &T) -> serde_json::Value {
    serde_json::to_value(x).unwrap()
}

/// Who writes `r`: a step its signer, anything else the team's first member.
fn writer<'a>(r: &'a TeamRecord, s: &'a WardSetup) -> &'a str {
    match r {
        TeamRecord::FollowUp(f) => &f.by,
        _ => &s.members[0].id,
    }
}

/// The server's answer for the district over `from..=to`, checked against the domain's report
/// over every record the server stores, and checked to come from the kept nights.
fn check(db: &ServerDb, admin: &DeviceAuth, from: NaiveDate, to: NaiveDate, now: DateTime<Utc>) {
    let conn = db.conn();
    let q = ReportQuery {
        scope: ReportScope::District,
        id: None,
        from,
        to,
    };
    let got = report::answer(conn, admin, &q, now).unwrap();
    let teams = report::teams_in_scope(conn, admin, ReportScope::District, None).unwrap();
    let mut input: Vec<(WardSetup, Vec<TeamRecord>)> = Vec::new();
    for t in &teams {
        let setup = patrol_server::db::setup::team_setup(conn, t).unwrap();
        assert!(
            report_nights::kept(conn, t, &setup, d(2024, 1, 1), d(2026, 12, 31))
                .unwrap()
                .is_some(),
            "team {t}'s nights are kept and current"
        );
        input.push((setup, team_records(conn, t, "", "~").unwrap().0));
    }
    // The roster as the test reads it, on its own: night -> slots with someone assigned.
    let planned: Vec<Planned> = teams
        .iter()
        .map(|t| {
            let mut p = Planned::new();
            let mut st = conn
                .prepare("SELECT night, slot FROM roster WHERE team_id = ?1")
                .unwrap();
            let rows = st
                .query_map([t], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .unwrap();
            for row in rows {
                let (night, slot) = row.unwrap();
                p.entry(night.parse().unwrap()).or_default().insert(slot);
            }
            p
        })
        .collect();
    let input: Vec<TeamRecords<'_>> = input
        .iter()
        .zip(&planned)
        .map(|((setup, records), planned)| TeamRecords {
            setup,
            records,
            planned,
        })
        .collect();
    let period = Period::Range { from, to };
    let want = ReportResponse {
        report: report(&input, period.nights().unwrap(), now),
        before: report(&input, period.previous().unwrap().nights().unwrap(), now).total,
        year_before: report(&input, period.year_before().nights().unwrap(), now).total,
    };
    assert_eq!(got, want);
}

#[test]
fn kept_nights_equal_the_domain_report_after_late_out_of_order_and_twice_pushed_events() {
    let y = world();
    let now = y.now;
    let dir = tempfile::tempdir().unwrap();
    let mut db = ServerDb::open(dir.path()).unwrap();
    for t in &y.teams {
        db.load_setup(&t.setup).unwrap();
    }
    let setups: Vec<&WardSetup> = y.teams.iter().map(|t| &t.setup).collect();
    let mut phones = Phones::enrol(&db, &setups);
    let first = &y.teams[0].setup;
    let admin = DeviceAuth {
        device_id: "admin".into(),
        member_id: "admin".into(),
        role: Role::Admin,
        team_id: first.team.id.clone(),
        ward_id: first.ward.id.clone(),
    };
    let (from, to) = (d(2025, 11, 15), d(2025, 12, 5));
    let offline = |r: &TeamRecord| -> bool {
        // The phone that patrolled 20–22 November stayed offline: its records come days later.
        let night = match r {
            TeamRecord::Started(s) | TeamRecord::Ended(s) => Some(s.night),
            _ => None,
        };
        night.is_some_and(|n| (d(2025, 11, 20)..=d(2025, 11, 22)).contains(&n))
            || matches!(r, TeamRecord::CheckIn(c) if c.at.date_naive() >= d(2025, 11, 20) && c.at.date_naive() <= d(2025, 11, 22))
    };

    // Everything but the steps and the offline phone's records, in the generator's shuffled
    // order (check-ins before their shift's start, ends before starts), a batch at a time.
    let mut held: Vec<(String, Event)> = Vec::new();
    let mut steps: Vec<(String, TeamRecord)> = Vec::new();
    let mut sent: Vec<(String, Event)> = Vec::new();
    for t in &y.teams {
        let mut batch: Vec<Event> = Vec::new();
        let member = &t.setup.members[0].id;
        for r in &t.records {
            if let TeamRecord::FollowUp(_) = r {
                steps.push((writer(r, &t.setup).to_string(), r.clone()));
                continue;
            }
            let e = phones.event(member, r);
            if offline(r) {
                held.push((member.clone(), e));
            } else {
                batch.push(e);
            }
        }
        for chunk in batch.chunks(400) {
            phones.push(&mut db, member, chunk, now);
            sent.extend(chunk.iter().map(|e| (member.clone(), e.clone())));
        }
    }
    check(&db, &admin, from, to, now);

    // Pushed twice (a phone that never heard the answer): nothing changes.
    for (member, e) in sent.iter().step_by(7).take(300) {
        phones.push(&mut db, member, std::slice::from_ref(e), now);
    }
    check(&db, &admin, from, to, now);

    // The offline phone comes back days later, its events last first.
    held.reverse();
    for chunk in held.chunks(50) {
        phones.push(
            &mut db,
            &chunk[0].0,
            &chunk.iter().map(|h| h.1.clone()).collect::<Vec<_>>(),
            now,
        );
        check(&db, &admin, from, to, now);
    }

    // Tip steps, days after their nights, in the order they were taken (a step after one it names).
    steps.sort_by_key(|(_, r)| match r {
        TeamRecord::FollowUp(f) => (f.at, f.after.is_some()),
        _ => unreachable!(),
    });
    let valuable_before = report::answer(
        db.conn(),
        &admin,
        &ReportQuery {
            scope: ReportScope::District,
            id: None,
            from,
            to,
        },
        now,
    )
    .unwrap()
    .report
    .total
    .tips
    .with_steps();
    for chunk in steps.chunks(40) {
        for (member, r) in chunk {
            let e = phones.event(member, r);
            phones.push(&mut db, member, &[e], now);
        }
        check(&db, &admin, from, to, now);
    }
    let after = report::answer(
        db.conn(),
        &admin,
        &ReportQuery {
            scope: ReportScope::District,
            id: None,
            from,
            to,
        },
        now,
    )
    .unwrap()
    .report
    .total
    .tips;
    assert!(
        after.with_steps() > valuable_before,
        "steps arrived later count"
    );
    assert!(after.valuable > 0);

    // Corrections of earlier observations, recorded on a later shift: a category changed.
    let t = &y.teams[0];
    let later_shift = t
        .records
        .iter()
        .find_map(|r| match r {
            TeamRecord::Ended(s) if s.night == d(2025, 12, 5) => Some(s.id.clone()),
            _ => None,
        })
        .expect("a shift on the last evening");
    let earlier: Vec<&patrol::domain::records::Observation> = t
        .records
        .iter()
        .filter_map(|r| match r {
            TeamRecord::Observation(o) if o.at.date_naive() < d(2025, 11, 25) => Some(o),
            _ => None,
        })
        .take(5)
        .collect();
    assert!(!earlier.is_empty());
    let member = t.setup.members[0].id.clone();
    for (i, o) in earlier.iter().enumerate() {
        let c = TeamRecord::Correction(Correction {
            id: format!("late-correction-{i}"),
            shift_id: later_shift.clone(),
            target_id: o.id.clone(),
            text: "nhầm loại".into(),
            new_category: Some(patrol::domain::observation::Category::Drugs),
            at: year::local(d(2025, 12, 5), 21 * 60) + Duration::minutes(i as i64),
            photos_added: Vec::new(),
            photos_removed: Vec::new(),
        });
        let e = phones.event(&member, &c);
        phones.push(&mut db, &member, &[e], now);
    }
    check(&db, &admin, from, to, now);
    // The same period a day later: the kept nights do not depend on the time.
    check(&db, &admin, from, to, now + Duration::days(1));
    check(&db, &admin, d(2025, 11, 10), d(2025, 11, 20), now);
    // The pushes only marked their nights: worked out while read, until the server settles them
    // once quiet; then the kept rows alone give the same answer.
    assert!(report_nights::marked(db.conn()).unwrap() > 0);
    let quiet = now + Duration::seconds(report_nights::QUIET_SECS);
    assert_eq!(
        report_nights::settle_quiet(db.conn_mut(), now, usize::MAX).unwrap(),
        0,
        "nothing is quiet yet"
    );
    while report_nights::settle_quiet(db.conn_mut(), quiet + Duration::seconds(1), 3).unwrap() > 0 {
    }
    assert_eq!(report_nights::marked(db.conn()).unwrap(), 0);
    check(&db, &admin, from, to, now);
    check(&db, &admin, d(2025, 11, 10), d(2025, 11, 20), now);

    // The first team kept a roster for a few nights (planned then, written here as it was): those
    // nights count the rostered slots as planned, the shifts of other slots off plan.
    let t = &y.teams[0];
    let (ca1, member) = (&t.setup.team.slots[0].code, &t.setup.members[0].id);
    let without = report::answer(db.conn(), &admin, &q(from, to), now).unwrap();
    for day in 22..=28 {
        db.conn_mut()
            .execute(
                "INSERT INTO roster(team_id, night, slot, member_id) VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![t.setup.team.id, d(2025, 11, day).to_string(), ca1, member],
            )
            .unwrap();
    }
    let with = report::answer(db.conn(), &admin, &q(from, to), now).unwrap();
    let (a, b) = (&without.report.total.shifts, &with.report.total.shifts);
    assert_eq!(a.run, b.run, "the same shifts ran");
    assert!(
        b.planned < a.planned && b.off_plan > a.off_plan,
        "{a:?} then {b:?}"
    );
    check(&db, &admin, from, to, now);
    check(&db, &admin, d(2025, 11, 20), d(2025, 11, 30), now);
}

fn q(from: NaiveDate, to: NaiveDate) -> ReportQuery {
    ReportQuery {
        scope: ReportScope::District,
        id: None,
        from,
        to,
    }
}

#[test]
fn a_changed_setup_is_answered_from_the_records_until_its_nights_are_worked_out_again() {
    let y = world();
    let now = y.now;
    let dir = tempfile::tempdir().unwrap();
    let mut db = ServerDb::open(dir.path()).unwrap();
    let t = &y.teams[0];
    db.load_setup(&t.setup).unwrap();
    let mut phones = Phones::enrol(&db, &[&t.setup]);
    let member = t.setup.members[0].id.clone();
    let events: Vec<Event> = t
        .records
        .iter()
        .filter(|r| !matches!(r, TeamRecord::FollowUp(_)))
        .map(|r| phones.event(&member, r))
        .collect();
    for chunk in events.chunks(500) {
        phones.push(&mut db, &member, chunk, now);
    }
    let admin = DeviceAuth {
        device_id: "admin".into(),
        member_id: "admin".into(),
        role: Role::Admin,
        team_id: t.setup.team.id.clone(),
        ward_id: t.setup.ward.id.clone(),
    };
    let (from, to) = (d(2025, 11, 10), d(2025, 12, 5));
    check(&db, &admin, from, to, now);

    // The route loses its first checkpoint and ca1 starts an hour later.
    let mut changed = t.setup.clone();
    changed.checkpoints.remove(0);
    changed.team.slots[0].start_min += 60;
    db.load_setup(&changed).unwrap();
    let conn = db.conn();
    assert!(
        report_nights::kept(conn, &changed.team.id, &changed, from, to)
            .unwrap()
            .is_none(),
        "nights worked out with the old setup are not used"
    );
    let q = ReportQuery {
        scope: ReportScope::Team,
        id: Some(changed.team.id.clone()),
        from,
        to,
    };
    let records = team_records(conn, &changed.team.id, "", "~").unwrap().0;
    let teams = [TeamRecords {
        setup: &changed,
        records: &records,
        planned: &Planned::new(),
    }];
    let want = report(&teams, Period::Range { from, to }.nights().unwrap(), now);
    assert_eq!(report::answer(conn, &admin, &q, now).unwrap().report, want);

    // The server's next start works them out with the new setup.
    drop(db);
    let db = ServerDb::open(dir.path()).unwrap();
    check(&db, &admin, from, to, now);
    // Events written behind the server's back are not missed either: the report reads records.
    db.conn()
        .execute(
            "INSERT INTO event(event_id, device_id, seq, team_id, kind, entity_id, payload, content_hash, client_time, received_at)
             SELECT 'copy-' || event_id, device_id, seq + 100000, team_id, kind, entity_id, payload, '', client_time, received_at
               FROM event WHERE kind = 'shift_started' LIMIT 1",
            [],
        )
        .unwrap();
    assert!(report_nights::behind(db.conn()).unwrap());
    let records = team_records(db.conn(), &changed.team.id, "", "~")
        .unwrap()
        .0;
    let teams = [TeamRecords {
        setup: &changed,
        records: &records,
        planned: &Planned::new(),
    }];
    let want = report(&teams, Period::Range { from, to }.nights().unwrap(), now);
    assert_eq!(
        report::answer(db.conn(), &admin, &q, now).unwrap().report,
        want
    );
}

#[test]
fn figures_kept_for_other_categories_or_actions_are_worked_out_again_at_the_next_start() {
    let y = world();
    let now = y.now;
    let dir = tempfile::tempdir().unwrap();
    let mut db = ServerDb::open(dir.path()).unwrap();
    let t = &y.teams[0];
    db.load_setup(&t.setup).unwrap();
    let mut phones = Phones::enrol(&db, &[&t.setup]);
    let member = t.setup.members[0].id.clone();
    let events: Vec<Event> = t
        .records
        .iter()
        .filter(|r| !matches!(r, TeamRecord::FollowUp(_)))
        .map(|r| phones.event(&member, r))
        .collect();
    for chunk in events.chunks(500) {
        phones.push(&mut db, &member, chunk, now);
    }
    let admin = DeviceAuth {
        device_id: "admin".into(),
        member_id: "admin".into(),
        role: Role::Admin,
        team_id: t.setup.team.id.clone(),
        ward_id: t.setup.ward.id.clone(),
    };
    let (from, to) = (d(2025, 11, 10), d(2025, 12, 5));
    check(&db, &admin, from, to, now);
    let kept = |db: &ServerDb| -> Vec<(String, String)> {
        let mut st = db
            .conn()
            .prepare("SELECT night, figures FROM report_night ORDER BY night")
            .unwrap();
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        rows.map(Result::unwrap).collect()
    };
    let shape = |db: &ServerDb| -> Option<String> {
        db.conn()
            .query_row(
                "SELECT value FROM meta WHERE key = 'report_shape'",
                [],
                |r| r.get(0),
            )
            .ok()
    };
    let before = kept(&db);
    assert!(!before.is_empty());
    let counted = shape(&db).expect("the start wrote what the figures count");

    // A database from before the shape was written down keeps its figures and takes this build's.
    db.conn()
        .execute("DELETE FROM meta WHERE key = 'report_shape'", [])
        .unwrap();
    drop(db);
    let db = ServerDb::open(dir.path()).unwrap();
    assert_eq!(kept(&db), before);
    assert_eq!(shape(&db).as_ref(), Some(&counted));

    // Figures counted over other categories (as a build with one more would find them): every
    // night is dropped and worked out again at the next start.
    db.conn()
        .execute(
            "UPDATE meta SET value = '[[\"suspicious_person\"],[\"watched\"]]' WHERE key = 'report_shape'",
            [],
        )
        .unwrap();
    db.conn()
        .execute("UPDATE report_night SET figures = 'counted otherwise'", [])
        .unwrap();
    drop(db);
    let db = ServerDb::open(dir.path()).unwrap();
    // Worked out from the records, as a rebuild does (the rows of nights still marked before were
    // behind their records, so they are compared through the report, not byte for byte).
    let again = kept(&db);
    assert_eq!(again.len(), before.len());
    assert!(
        again.iter().all(|(_, f)| f != "counted otherwise"),
        "every night worked out again"
    );
    assert_eq!(shape(&db), Some(counted));
    check(&db, &admin, from, to, now);
}
