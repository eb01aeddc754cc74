//! The local store against real SQLite files: migrations, refusal of bad files, the outbox's
//! gap-free sequence, and records written together with their events or not at all.

use chrono::{Duration, TimeZone, Utc};
use patrol::domain::geofence::{Fix, LatLon};
use patrol::domain::observation::{Action, Category};
use patrol::domain::records::{CheckInRequest, ObservationInput};
use patrol::domain::ward::DEMO_WARD;
use patrol::domain::ward::{Role, WardSetup, DEFAULT_PHOTO_KEEP_DAYS};
use patrol::store::records::LogEntry;
use patrol::store::{migrate, outbox, Store, StoreError};
use proptest::prelude::*;
use rusqlite::Connection;

fn demo_store(dir: &tempfile::TempDir) -> Store {
    let mut s = Store::open_file(&dir.path().join("patrol.db")).unwrap();
    s.load_setup(WardSetup::from_json(DEMO_WARD).unwrap())
        .unwrap();
    s
}

fn count(s: &Store, table: &str) -> i64 {
    s.conn()
        .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

fn seqs(s: &Store) -> Vec<i64> {
    let mut st = s
        .conn()
        .prepare("SELECT seq FROM outbox ORDER BY seq")
        .unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn theft() -> ObservationInput {
    ObservationInput {
        category: Some(Category::Theft),
        action: Some(Action::ReportedPolice),
        ..Default::default()
    }
}

#[test]
fn an_old_database_upgrades_and_keeps_its_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        // A database as version 1 of the app left it, with a shift in it.
        let mut c = Connection::open(&path).unwrap();
        assert_eq!(migrate::migrate_to(&mut c, 1).unwrap(), 1);
        c.execute_batch(
            "INSERT INTO device VALUES ('dev-old', 2, '2026-01-01T00:00:00+00:00');
             INSERT INTO shift(id, team_id, slot_code, night, started_at, members_json, log_seq)
               VALUES ('s-old', 't', 'ca1', '2026-01-01', '2026-01-01T13:00:00+00:00', '[\"m\"]', 1);
             INSERT INTO outbox VALUES (1, 'e-old', 'dev-old', 'shift_started', 's-old', '{}', '2026-01-01T13:00:00+00:00', NULL);",
        )
        .unwrap();
        assert!(
            c.prepare("SELECT * FROM correction").is_err(),
            "version 1 has no corrections table"
        );
    }
    let s = Store::open_file(&path).unwrap();
    assert_eq!(migrate::version(s.conn()).unwrap(), migrate::latest());
    assert_eq!(count(&s, "shift"), 1);
    assert_eq!(count(&s, "correction"), 0);
    assert_eq!(outbox::device_id(s.conn()).unwrap(), "dev-old");
    assert_eq!(outbox::pending_count(s.conn()).unwrap(), 1);
}

#[test]
fn a_failing_migration_leaves_the_database_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Connection::open(dir.path().join("m.db")).unwrap();
    assert_eq!(migrate::migrate_to(&mut c, 1).unwrap(), 1);
    // Two pending migrations, the second one broken: neither is applied, the version stays.
    let list = [
        migrate::MIGRATIONS[0],
        ("0002_fine", "CREATE TABLE fine(x INTEGER);"),
        (
            "0003_broken",
            "CREATE TABLE broken(x INTEGER); SELECT * FROM no_such_table;",
        ),
    ];
    assert!(migrate::run(&mut c, &list, 3).is_err());
    assert_eq!(migrate::version(&c).unwrap(), 1);
    for table in ["fine", "broken"] {
        assert!(
            c.prepare(&format!("SELECT * FROM {table}")).is_err(),
            "{table} was rolled back"
        );
    }
    // Fixed, the same list applies in full.
    let list = [
        list[0],
        list[1],
        ("0003_fixed", "CREATE TABLE fixed(x INTEGER);"),
    ];
    assert_eq!(migrate::run(&mut c, &list, 3).unwrap(), 3);
    assert!(c.prepare("SELECT * FROM fine, fixed").is_ok());
}

#[test]
fn a_ward_stored_before_photo_keeping_periods_keeps_photos_14_days() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        // A database as the app left it just before wards set a photo keeping period.
        let before = migrate::MIGRATIONS
            .iter()
            .position(|(name, _)| *name == "0008_photo_keep_days")
            .unwrap() as u32;
        let mut c = Connection::open(&path).unwrap();
        assert_eq!(migrate::migrate_to(&mut c, before).unwrap(), before);
        c.execute(
            "INSERT INTO ward(id, name, tz, police_phone, demo)
             VALUES ('w-old', 'W', 'Asia/Ho_Chi_Minh', '113', 0)",
            [],
        )
        .unwrap();
    }
    let s = Store::open_file(&path).unwrap();
    let ward = s.ward().unwrap().unwrap();
    assert_eq!(ward.photo_keep_days, DEFAULT_PHOTO_KEEP_DAYS);
    assert_eq!(ward.photo_keep(), Duration::days(14));
    // A stored period the domain refuses is a damaged row naming the ward, never a default.
    for bad in ["400", "-1"] {
        s.conn()
            .execute(&format!("UPDATE ward SET photo_keep_days = {bad}"), [])
            .unwrap();
        match s.ward() {
            Err(StoreError::CorruptRow(row)) => {
                let text = row.to_string();
                assert!(text.contains("w-old") && text.contains(bad), "{text}");
            }
            other => panic!("expected a damaged ward row, got {other:?}"),
        }
    }
}

#[test]
fn a_newer_or_corrupt_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let newer = dir.path().join("newer.db");
    Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    match Store::open_file(&newer) {
        Err(StoreError::TooNew {
            found: 99,
            supported,
        }) => assert_eq!(supported, migrate::latest()),
        other => panic!("expected TooNew, got {:?}", other.err()),
    }
    // Nothing was created in it.
    let c = Connection::open(&newer).unwrap();
    let tables: i64 = c
        .query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 0);

    let junk = dir.path().join("junk.db");
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&junk, &garbage).unwrap();
    assert!(
        matches!(Store::open_file(&junk), Err(StoreError::Corrupt)),
        "garbage must be reported as corrupt"
    );
    assert_eq!(
        std::fs::read(&junk).unwrap(),
        garbage,
        "a damaged file is never overwritten"
    );
}

#[test]
fn a_whole_shift_is_durable_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 11, 22, 13, 5, 0).unwrap(); // 20:05 in Hà Nội
    {
        let mut s = demo_store(&dir);
        s.start_shift("ca1", &["demo-m1".into(), "demo-m2".into()], t0)
            .unwrap();
        let near = Fix {
            pos: LatLon {
                lat: 21.02852,
                lon: 105.85421,
            },
            accuracy_m: 8.0,
        };
        s.check_in(
            "demo-cp1",
            &CheckInRequest::Gps { fix: near },
            t0 + Duration::minutes(5),
        )
        .unwrap();
        let far = Fix {
            pos: LatLon {
                lat: 21.0400,
                lon: 105.8700,
            },
            accuracy_m: 8.0,
        };
        assert!(matches!(
            s.check_in(
                "demo-cp2",
                &CheckInRequest::Gps { fix: far },
                t0 + Duration::minutes(9)
            ),
            Err(StoreError::Record(_))
        ));
        s.check_in(
            "demo-cp2",
            &CheckInRequest::Manual {
                reason: "GPS mất tín hiệu".into(),
                fix: None,
            },
            t0 + Duration::minutes(10),
        )
        .unwrap();
        let o = s
            .observe(&theft(), t0 + Duration::minutes(20))
            .unwrap()
            .record;
        s.correct(
            &o.id,
            "Thực ra là cướp giật",
            Some(Category::SnatchTheft),
            &Default::default(),
            t0 + Duration::minutes(25),
        )
        .unwrap();
        s.end_shift("Bàn giao: đèn ngõ 12 hỏng", t0 + Duration::hours(4))
            .unwrap();
    }
    let s = Store::open_file(&dir.path().join("patrol.db")).unwrap();
    assert!(s.active_shift().unwrap().is_none());
    let log = s.shift_log(s.last_ended_shift().unwrap().unwrap()).unwrap();
    assert_eq!(log.shift.night.to_string(), "2026-11-22");
    assert_eq!(
        log.shift.handover_note.as_deref(),
        Some("Bàn giao: đèn ngõ 12 hỏng")
    );
    let kinds: Vec<&str> = log
        .entries
        .iter()
        .map(|e| match e {
            LogEntry::CheckIn(c) if c.verified => "verified",
            LogEntry::CheckIn(_) => "unverified",
            LogEntry::Observation(_) => "observation",
            LogEntry::Correction(_) => "correction",
        })
        .collect();
    assert_eq!(
        kinds,
        ["verified", "unverified", "observation", "correction"]
    );
    assert_eq!(
        (
            log.summary.checkpoints_visited,
            log.summary.checkpoints_verified
        ),
        (2, 1)
    );
    assert_eq!(log.summary.by_category, vec![(Category::SnatchTheft, 1)]);
    // The refused check-in wrote nothing: 6 events (start, 2 check-ins, observation, correction, end).
    assert_eq!(seqs(&s), vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(outbox::pending_count(s.conn()).unwrap(), 6);
    let kinds: Vec<String> = outbox::pending(s.conn(), 100)
        .unwrap()
        .into_iter()
        .map(|e| e.kind.code().to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "shift_started",
            "checked_in",
            "checked_in",
            "observed",
            "corrected",
            "shift_ended"
        ]
    );
}

#[test]
fn a_record_and_its_event_are_written_together_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = demo_store(&dir);
    s.start_shift("ca2", &["demo-m3".into()], Utc::now())
        .unwrap();
    // The device's sequence update fails after the event was appended, as a full disk or a crash
    // mid-transaction would.
    s.conn()
        .execute_batch("CREATE TEMP TRIGGER refuse BEFORE UPDATE ON device BEGIN SELECT RAISE(ABORT, 'disk full'); END;")
        .unwrap();
    assert!(matches!(
        s.observe(&theft(), Utc::now()),
        Err(StoreError::Sqlite(_))
    ));
    assert_eq!(seqs(&s), vec![1], "the appended event must roll back");
    assert_eq!(count(&s, "observation"), 0);
    s.conn().execute_batch("DROP TRIGGER refuse;").unwrap();
    // A failing observation row (category CHECK is in the domain; break the table instead).
    s.conn()
        .execute_batch("CREATE TEMP TRIGGER refuse_obs BEFORE INSERT ON observation BEGIN SELECT RAISE(ABORT, 'io'); END;")
        .unwrap();
    assert!(s.observe(&theft(), Utc::now()).is_err());
    assert_eq!(
        seqs(&s),
        vec![1],
        "the event must roll back with its row, and no sequence number is used up"
    );
    s.conn().execute_batch("DROP TRIGGER refuse_obs;").unwrap();
    s.observe(&theft(), Utc::now()).unwrap();
    assert_eq!(seqs(&s), vec![1, 2]);
    assert_eq!(count(&s, "observation"), 1);
}

#[test]
fn bad_input_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = demo_store(&dir);
    assert!(matches!(
        s.observe(&theft(), Utc::now()),
        Err(StoreError::NoActiveShift)
    ));
    assert!(matches!(
        s.start_shift("ca1", &[], Utc::now()),
        Err(StoreError::Record(_))
    ));
    assert!(matches!(
        s.start_shift("ca9", &["demo-m1".into()], Utc::now()),
        Err(StoreError::Unknown { .. })
    ));
    assert!(matches!(
        s.start_shift("ca1", &["someone-else".into()], Utc::now()),
        Err(StoreError::Unknown { .. })
    ));
    s.start_shift("ca1", &["demo-m1".into()], Utc::now())
        .unwrap();
    assert!(matches!(
        s.start_shift("ca1", &["demo-m1".into()], Utc::now()),
        Err(StoreError::ShiftRunning)
    ));
    let bad_fix = Fix {
        pos: LatLon {
            lat: 121.0,
            lon: 105.0,
        },
        accuracy_m: 5.0,
    };
    assert!(s
        .check_in(
            "demo-cp1",
            &CheckInRequest::Gps { fix: bad_fix },
            Utc::now()
        )
        .is_err());
    let vague = Fix {
        pos: LatLon {
            lat: 21.0285,
            lon: 105.8542,
        },
        accuracy_m: 900.0,
    };
    assert!(s
        .check_in("demo-cp1", &CheckInRequest::Gps { fix: vague }, Utc::now())
        .is_err());
    assert!(s
        .check_in(
            "nope",
            &CheckInRequest::Manual {
                reason: "x".into(),
                fix: None
            },
            Utc::now()
        )
        .is_err());
    let long = ObservationInput {
        description: "đ".repeat(2001),
        ..theft()
    };
    assert!(s.observe(&long, Utc::now()).is_err());
    assert!(s
        .correct("no-such-record", "x", None, &Default::default(), Utc::now())
        .is_err());
    assert_eq!(
        count(&s, "checkin") + count(&s, "observation") + count(&s, "correction"),
        0
    );
    assert_eq!(seqs(&s), vec![1]);
}

#[test]
fn a_clock_that_jumps_back_is_flagged_but_the_record_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = demo_store(&dir);
    let t0 = Utc.with_ymd_and_hms(2026, 11, 22, 14, 0, 0).unwrap();
    assert!(
        !s.start_shift("ca1", &["demo-m1".into()], t0)
            .unwrap()
            .clock_went_back
    );
    let saved = s.observe(&theft(), t0 - Duration::hours(3)).unwrap();
    assert!(saved.clock_went_back);
    // Order follows the device sequence, not the clock.
    let later = s.observe(&theft(), t0 + Duration::minutes(1)).unwrap();
    assert!(!later.clock_went_back);
    let log = s.shift_log(s.active_shift().unwrap().unwrap()).unwrap();
    let ids: Vec<&str> = log
        .entries
        .iter()
        .map(|e| match e {
            LogEntry::Observation(o) => o.id.as_str(),
            _ => "",
        })
        .collect();
    assert_eq!(ids, [saved.record.id.as_str(), later.record.id.as_str()]);
}

/// Where a write's transaction fails, as a full disk or a crash would make it: at its first
/// statement (the outbox insert), after the event was appended (the device's next sequence
/// number), or last (the record's own row).
const FAILURE_POINTS: [&str; 3] = [
    "BEFORE INSERT ON outbox",
    "BEFORE UPDATE ON device",
    "BEFORE INSERT ON {record}",
];

/// The device's next sequence number.
fn next_seq(s: &Store) -> i64 {
    s.conn()
        .query_row("SELECT next_seq FROM device", [], |r| r.get(0))
        .unwrap()
}

/// Events whose record row is missing, plus record rows whose event is missing.
fn half_written(s: &Store) -> i64 {
    s.conn()
        .query_row(
            "SELECT (SELECT COUNT(*) FROM outbox o WHERE
                       (o.kind = 'observed' AND NOT EXISTS (SELECT 1 FROM observation r WHERE r.id = o.entity_id AND r.log_seq = o.seq))
                    OR (o.kind = 'checked_in' AND NOT EXISTS (SELECT 1 FROM checkin r WHERE r.id = o.entity_id AND r.log_seq = o.seq)))
                  + (SELECT COUNT(*) FROM observation r WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.seq = r.log_seq AND o.entity_id = r.id))
                  + (SELECT COUNT(*) FROM checkin r WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.seq = r.log_seq AND o.entity_id = r.id))",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]
    /// Any mix of accepted writes, refused writes and writes whose transaction fails midway leaves
    /// a sequence 1..=n with no gaps and every record written whole with its event or not at all.
    #[test]
    fn the_outbox_sequence_has_no_gaps(ops in proptest::collection::vec((0u8..6, 0usize..3), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = demo_store(&dir);
        s.start_shift("ca1", &["demo-m1".into()], Utc::now()).unwrap();
        let observe = |s: &mut Store, input: &ObservationInput| s.observe(input, Utc::now()).map(|_| ());
        let check_in = |s: &mut Store, code: &str| {
            s.check_in("demo-cp3", &CheckInRequest::Qr { code: code.into(), fix: None }, Utc::now()).map(|_| ())
        };
        for (op, point) in ops {
            match op {
                0 => observe(&mut s, &theft()).unwrap(),
                1 => prop_assert!(matches!(observe(&mut s, &ObservationInput::default()), Err(StoreError::Record(_)))), // no category
                2 => check_in(&mut s, "DEMO-CP3").unwrap(),
                3 => prop_assert!(check_in(&mut s, "WRONG").is_err()),
                _ => {
                    // A valid write whose transaction fails at `point`.
                    let record = if op == 4 { "observation" } else { "checkin" };
                    let when = FAILURE_POINTS[point].replace("{record}", record);
                    s.conn().execute_batch(&format!(
                        "CREATE TEMP TRIGGER fail {when} BEGIN SELECT RAISE(ABORT, 'disk full'); END;"
                    )).unwrap();
                    let state = |s: &Store| (seqs(s), next_seq(s), count(s, "observation"), count(s, "checkin"));
                    let before = state(&s);
                    let result = if op == 4 { observe(&mut s, &theft()) } else { check_in(&mut s, "DEMO-CP3") };
                    s.conn().execute_batch("DROP TRIGGER fail;").unwrap();
                    prop_assert!(matches!(result, Err(StoreError::Sqlite(_))), "{when}: {result:?}");
                    prop_assert_eq!(state(&s), before, "{}", when);
                }
            }
            prop_assert_eq!(half_written(&s), 0);
        }
        // The next write after all of them takes the next number.
        observe(&mut s, &theft()).unwrap();
        let got = seqs(&s);
        let want: Vec<i64> = (1..=got.len() as i64).collect();
        prop_assert_eq!(&got, &want);
        prop_assert_eq!(got.len() as i64, 1 + count(&s, "observation") + count(&s, "checkin"));
        prop_assert_eq!(half_written(&s), 0);
        prop_assert_eq!(next_seq(&s), got.len() as i64 + 1);
    }
}

#[test]
fn a_damaged_row_is_reported_with_its_id_and_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let mut s = Store::open_file(&path).unwrap();
    s.load_setup(
        patrol::domain::ward::WardSetup::from_json(patrol::domain::ward::DEMO_WARD).unwrap(),
    )
    .unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 14, 0, 0).unwrap();
    s.start_shift("ca1", &["demo-m1".to_string()], now).unwrap();
    let saved = s
        .observe(
            &patrol::domain::records::ObservationInput {
                category: Some(Category::Drugs),
                ..Default::default()
            },
            now,
        )
        .unwrap();
    let id = saved.record.id.clone();
    // A category this build does not know, and a time that is no time.
    s.conn()
        .execute(
            "UPDATE observation SET category = 'teleport' WHERE id = ?1",
            [&id],
        )
        .unwrap();
    let shift = s.active_shift().unwrap().unwrap();
    match s.shift_log(shift.clone()) {
        Err(patrol::store::StoreError::CorruptRow(row)) => {
            assert_eq!((row.what, row.id.as_str()), ("observation", id.as_str()));
            assert!(row.detail.contains("teleport"), "{row}");
        }
        other => panic!("expected a corrupt row, got {other:?}"),
    }
    let kept: String = s
        .conn()
        .query_row(
            "SELECT category FROM observation WHERE id = ?1",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, "teleport", "the row is not rewritten");
    s.conn()
        .execute(
            "UPDATE outbox SET client_time = 'yesterday' WHERE entity_id = ?1",
            [&id],
        )
        .unwrap();
    match outbox::pending(s.conn(), 10) {
        Err(patrol::store::StoreError::CorruptRow(row)) => assert_eq!(row.what, "outbox"),
        other => panic!("a damaged event is never sent as something else: {other:?}"),
    }
}

#[test]
fn a_failure_inside_the_transaction_uses_up_no_sequence_number() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open_file(&dir.path().join("p.db")).unwrap();
    s.load_setup(
        patrol::domain::ward::WardSetup::from_json(patrol::domain::ward::DEMO_WARD).unwrap(),
    )
    .unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 14, 0, 0).unwrap();
    s.start_shift("ca1", &["demo-m1".to_string()], now).unwrap();
    // The observation row's insert fails after its outbox event was appended in the same
    // transaction (a trigger stands in for a full disk): both roll back.
    s.conn()
        .execute_batch(
            "CREATE TRIGGER fail_once BEFORE INSERT ON observation
             WHEN (SELECT COUNT(*) FROM observation) = 0
             BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
        )
        .unwrap();
    let input = patrol::domain::records::ObservationInput {
        category: Some(Category::FireHazard),
        ..Default::default()
    };
    assert!(s.observe(&input, now).is_err());
    assert_eq!(seqs(&s), vec![1], "the failed save left no event");
    s.conn().execute_batch("DROP TRIGGER fail_once").unwrap();
    s.observe(&input, now).unwrap();
    assert_eq!(
        seqs(&s),
        vec![1, 2],
        "the next save takes the next number, no gap"
    );
}

#[test]
fn any_answer_from_the_ward_clears_an_old_sync_error() {
    use patrol::store::sync_state::SyncKey;
    use patrol::wire::api::PullResponse;
    let dir = tempfile::tempdir().unwrap();
    let mut s = demo_store(&dir);
    s.set_sync_error(Some("network")).unwrap();
    assert_eq!(
        s.sync_value(SyncKey::LastError).unwrap().as_deref(),
        Some("network")
    );
    let at = Utc.with_ymd_and_hms(2026, 12, 3, 18, 30, 0).unwrap();
    let page = PullResponse {
        epoch: "e1".into(),
        items: vec![],
        cursor: 0,
        more: false,
    };
    s.apply_pull(&page, at).unwrap();
    assert_eq!(s.sync_value(SyncKey::LastError).unwrap(), None);
    assert_eq!(
        s.sync_value(SyncKey::LastSuccess).unwrap().as_deref(),
        Some(at.to_rfc3339().as_str())
    );
}

/// A phone enrolled as `member_id` with `role` in the demo ward's setup.
fn enrolled(dir: &tempfile::TempDir, name: &str, member_id: &str, role: Role) -> Store {
    let mut s = Store::open_file(&dir.path().join(name)).unwrap();
    let response = patrol::wire::api::EnrollResponse {
        token: "t".repeat(64),
        member_id: member_id.into(),
        role,
        setup: WardSetup::from_json(DEMO_WARD).unwrap(),
        epoch: "e1".into(),
    };
    s.save_enrollment("https://ward.test", &response).unwrap();
    s
}

/// The outbox of `from` as the ward server's feed would hand it to another phone.
fn feed_of(from: &Store, first_cursor: i64) -> patrol::wire::api::PullResponse {
    let events = patrol::store::outbox::pending(from.conn(), 1000).unwrap();
    let items: Vec<patrol::wire::feed::FeedItem> = events
        .iter()
        .enumerate()
        .map(|(i, e)| patrol::wire::feed::FeedItem {
            cursor: first_cursor + i as i64,
            kind: e.kind.code().into(),
            payload: serde_json::to_value(e).unwrap(),
        })
        .collect();
    patrol::wire::api::PullResponse {
        epoch: "e1".into(),
        cursor: first_cursor + items.len() as i64 - 1,
        items,
        more: false,
    }
}

#[test]
fn a_leader_follows_a_pulled_tip_in_order_and_a_member_may_not() {
    use patrol::domain::tip::{TipError, TipStep};
    let dir = tempfile::tempdir().unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 12, 5, 14, 0, 0).unwrap();
    let mut member = enrolled(&dir, "member.db", "demo-m2", Role::Member);
    member.start_shift("ca1", &["demo-m2".into()], t0).unwrap();
    let obs = member
        .observe(&theft(), t0 + Duration::minutes(5))
        .unwrap()
        .record;

    let mut leader = enrolled(&dir, "leader.db", "demo-m1", Role::Leader);
    leader.apply_pull(&feed_of(&member, 1), t0).unwrap();
    let view = leader.team_view(t0 + Duration::hours(1)).unwrap();
    assert!(view.unreadable.is_empty());
    assert_eq!(view.log.shifts.len(), 1);
    assert_eq!(view.log.tips.len(), 1);
    assert_eq!(view.log.tips[0].observation.id, obs.id);
    assert!(view.log.tips[0].state.waiting());

    let at = t0 + Duration::minutes(30);
    let f1 = leader
        .follow_up(&obs.id, TipStep::Forwarded, "  Đã báo công an phường  ", at)
        .unwrap();
    assert_eq!(f1.after, None);
    assert_eq!(f1.by, "demo-m1");
    assert_eq!(f1.note.as_deref(), Some("Đã báo công an phường"));
    let f2 = leader
        .follow_up(&obs.id, TipStep::Valuable, "", at + Duration::minutes(1))
        .unwrap();
    assert_eq!(
        f2.after.as_deref(),
        Some(f1.id.as_str()),
        "after the step shown"
    );
    // Out of order: forwarding again, unfounded after valuable.
    for step in [TipStep::Forwarded, TipStep::Unfounded] {
        let err = leader.follow_up(&obs.id, step, "", at).unwrap_err();
        assert!(
            matches!(err, StoreError::Tip(TipError::OutOfOrder { next, .. }) if next == step),
            "{err:?}"
        );
    }
    let long = "x".repeat(501);
    assert!(matches!(
        leader.follow_up(&obs.id, TipStep::Resolved, &long, at),
        Err(StoreError::Tip(TipError::Note(_)))
    ));
    assert!(matches!(
        leader.follow_up("no-such-observation", TipStep::Forwarded, "", at),
        Err(StoreError::Unknown { .. })
    ));
    let view = leader.team_view(t0 + Duration::hours(1)).unwrap();
    assert_eq!(
        view.log.tips[0].steps.len(),
        2,
        "refused steps wrote nothing"
    );
    assert_eq!(view.log.tips[0].state.outcome, Some(TipStep::Valuable));
    // The phone's view reaches two months back; older nights are the server's to show.
    let later = leader
        .team_view(t0 + Duration::days(patrol::store::team::TEAM_VIEW_DAYS + 1))
        .unwrap();
    assert!(later.log.shifts.is_empty() && later.log.tips.is_empty());
    // The leader's two steps wait in its outbox, after nothing else.
    assert_eq!(seqs(&leader), vec![1, 2]);

    // A member may not follow up, even their own tip.
    assert!(matches!(
        member.follow_up(&obs.id, TipStep::Forwarded, "", at),
        Err(StoreError::NotReviewer)
    ));
    // The member learns the outcome when the leader's steps arrive in their feed.
    member.apply_pull(&feed_of(&leader, 10), at).unwrap();
    let outcomes = member.tip_outcomes().unwrap();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].observation_id, obs.id);
    assert_eq!(outcomes[0].state.outcome, Some(TipStep::Valuable));
}
