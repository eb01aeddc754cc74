//! The command service as the UI uses it: every reply carries what changed or a translated error
//! key with its values, and refused commands change nothing.

use chrono::{Duration, TimeZone, Utc};
use patrol::domain::geofence::{Fix, LatLon};
use patrol::domain::records::{CheckInRequest, ObservationInput};
use patrol::i18n::{tf, Lang};
use patrol::service::{AppState, Change, Local as Command, Notice, Reply, Service};
use patrol::store::Store;

fn service(dir: &tempfile::TempDir) -> Service {
    Service::new(Store::open_file(&dir.path().join("p.db")).unwrap())
}

/// The whole state a reply carries (commands that change more than one entry).
fn full(r: Reply) -> AppState {
    match r.result.unwrap() {
        Change::Full { state } => *state,
        other => panic!("expected the whole state, got {other:?}"),
    }
}

/// The count waiting to sync that a reply carries, whole or as an entry.
fn pending(r: Reply) -> u64 {
    match r.result.unwrap() {
        Change::Full { state } => state.pending_sync,
        Change::Entry { pending_sync, .. } => pending_sync,
        other => panic!("no pending count in {other:?}"),
    }
}

#[test]
fn a_new_store_answers_what_a_new_phone_s_first_screen_is_drawn_from() {
    let dir = tempfile::tempdir().unwrap();
    let s = service(&dir);
    let now = Utc.with_ymd_and_hms(2026, 12, 3, 18, 45, 0).unwrap();
    let mut state = s.state(now).unwrap();
    assert!(!state.device_id.is_empty(), "a new store names its device");
    state.device_id.clear();
    assert_eq!(state, AppState::empty());
}

#[test]
fn errors_come_back_as_translation_keys_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = service(&dir);
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 13, 30, 0).unwrap();
    // Before any ward: a clear error, not a crash.
    let r = s.run(
        Command::StartShift {
            slot_code: "ca1".into(),
            members: vec!["demo-m1".into()],
        },
        now,
    );
    assert_eq!(r.result.unwrap_err().key, "err.no_ward");

    let state = full(s.run(Command::LoadDemo, now));
    assert!(state.setup.as_ref().unwrap().ward.demo);
    let tonight = state.tonight.unwrap();
    assert_eq!(tonight.night.to_string(), "2026-11-22");
    assert_eq!(
        tonight.suggested.as_deref(),
        Some("ca1"),
        "20:30 local is inside ca1"
    );

    let r = s.run(
        Command::StartShift {
            slot_code: "ca1".into(),
            members: vec!["demo-m1".into()],
        },
        now,
    );
    assert_eq!(r.notice, Some(Notice::Saved));
    assert_eq!(pending(r), 1);

    // A check-in 300 m away: refused, with the distance in the user's language.
    let far = Fix {
        pos: LatLon {
            lat: 21.03420,
            lon: 105.85310,
        },
        accuracy_m: 6.0,
    };
    let cmd = Command::CheckIn {
        checkpoint_id: "demo-cp3".into(),
        request: CheckInRequest::Gps { fix: far },
    };
    let err = s.run(cmd, now).result.unwrap_err();
    assert_eq!(err.key, "err.outside");
    let vi = tf(Lang::Vi, &err.key, &err.args);
    let en = tf(Lang::En, &err.key, &err.args);
    assert!(vi.contains("300 m") && vi.contains("40 m"), "{vi}");
    assert!(en.starts_with("You are 300 m from the checkpoint"), "{en}");

    // Overlong text names the field in the user's language.
    let long = ObservationInput {
        category: Some(patrol::domain::observation::Category::Other),
        description: "x".repeat(2001),
        ..Default::default()
    };
    let err = s
        .run(Command::Observe { input: long }, now)
        .result
        .unwrap_err();
    assert_eq!(
        tf(Lang::Vi, &err.key, &err.args),
        "Mô tả dài 2001 ký tự; tối đa 2000"
    );

    // A malformed GeoJSON import is refused and the route is unchanged.
    let err = s
        .run(
            Command::ImportCheckpoints {
                geojson: "{\"type\":\"Feature\"".into(),
            },
            now,
        )
        .result
        .unwrap_err();
    assert_eq!(err.key, "err.route_not_geojson");
    let state = full(s.run(Command::State, now));
    assert_eq!(state.setup.unwrap().checkpoints.len(), 5);
    assert_eq!(state.pending_sync, 1, "refused commands wrote no events");

    // A clock that jumped back three hours: saved, and flagged.
    let obs = ObservationInput {
        category: Some(patrol::domain::observation::Category::Drugs),
        ..Default::default()
    };
    let r = s.run(Command::Observe { input: obs }, now - Duration::hours(3));
    assert_eq!(r.notice, Some(Notice::ClockWentBack));
    assert_eq!(pending(r), 2);
}

#[test]
fn a_save_answers_with_the_entry_and_applying_it_equals_a_fresh_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = service(&dir);
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 17, 30, 0).unwrap();
    full(s.run(Command::LoadDemo, now));
    let mut ui = full(s.run(
        Command::StartShift {
            slot_code: "ca2".into(),
            members: vec!["demo-m1".into(), "demo-m2".into()],
        },
        now,
    ));
    let near = Fix {
        pos: LatLon {
            lat: 21.02880,
            lon: 105.85310,
        },
        accuracy_m: 5.0,
    };
    let cmds = vec![
        Command::CheckIn {
            checkpoint_id: "demo-cp1".into(),
            request: CheckInRequest::Manual {
                reason: "GPS yếu".into(),
                fix: Some(near),
            },
        },
        Command::Observe {
            input: ObservationInput {
                category: Some(patrol::domain::observation::Category::BrokenLightCamera),
                urgent: true,
                ..Default::default()
            },
        },
    ];
    for (i, cmd) in cmds.into_iter().enumerate() {
        let r = s.run(cmd, now + Duration::minutes(i as i64 + 1));
        match r.result.unwrap() {
            c @ Change::Entry { .. } => ui.apply(c),
            other => panic!("a save answers with its entry, not {other:?}"),
        }
    }
    // Thirty more observations: the reply stays one entry, whatever the log's length.
    for i in 0..30 {
        let r = s.run(
            Command::Observe {
                input: ObservationInput {
                    category: Some(patrol::domain::observation::Category::SuspiciousPerson),
                    ..Default::default()
                },
            },
            now + Duration::minutes(10 + i),
        );
        let change = r.result.unwrap();
        assert!(serde_json::to_string(&change).unwrap().len() < 1_000);
        ui.apply(change);
    }
    let entries = ui.active.as_ref().unwrap().entries.len();
    assert_eq!(entries, 32);
    let correction = Command::Correct {
        target_id: match &ui.active.as_ref().unwrap().entries[1] {
            patrol::store::records::LogEntry::Observation(o) => o.id.clone(),
            other => panic!("{other:?}"),
        },
        text: "Đèn ở ngõ 14, không phải ngõ 12".into(),
        new_category: None,
        photos: Default::default(),
    };
    ui.apply(
        s.run(correction, now + Duration::minutes(50))
            .result
            .unwrap(),
    );
    let fresh = full(s.run(Command::State, now + Duration::minutes(50)));
    assert_eq!(
        ui, fresh,
        "the UI's state after applying changes is what the store holds"
    );
}

#[test]
fn the_language_choice_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut s = service(&dir);
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 13, 30, 0).unwrap();
        assert_eq!(full(s.run(Command::State, now)).lang, Lang::Vi);
        assert_eq!(
            s.run(Command::SetLang { lang: Lang::En }, now)
                .result
                .unwrap(),
            Change::Lang { lang: Lang::En }
        );
    }
    let mut s = service(&dir);
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 13, 30, 0).unwrap();
    assert_eq!(full(s.run(Command::State, now)).lang, Lang::En);
}

/// Makes the store's current connection refuse writes, as a storage that failed would.
fn break_storage(s: &std::sync::Mutex<Service>) {
    s.lock()
        .unwrap()
        .store()
        .conn()
        .pragma_update(None, "query_only", true)
        .unwrap();
}

fn observation(text: &str) -> patrol::service::Command {
    Command::Observe {
        input: ObservationInput {
            category: Some(patrol::domain::observation::Category::Other),
            description: text.into(),
            ..Default::default()
        },
    }
    .into()
}

/// How many observations the database file holds, read through a fresh connection.
fn observations_in(path: &std::path::Path) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row("SELECT count(*) FROM observation", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn a_write_that_meets_failed_storage_reopens_the_database_and_is_saved_once() {
    use patrol::service::door;
    use patrol::sync::http::HttpTransport;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let s = std::sync::Mutex::new(service(&dir));
    // The door writes at the app's clock: the shift starts at that clock too, so no record looks
    // written by a clock that went back, whatever the host's date.
    let now = patrol::clock::now();
    s.lock()
        .unwrap()
        .run(Command::LoadDemo, now)
        .result
        .unwrap();
    let started = s.lock().unwrap().run(
        Command::StartShift {
            slot_code: "ca1".into(),
            members: vec!["demo-m1".into()],
        },
        now,
    );
    started.result.unwrap();

    // The storage fails; the reopened database works: the save goes through, once.
    break_storage(&s);
    let reopened = std::cell::Cell::new(0);
    let reopen = || {
        reopened.set(reopened.get() + 1);
        Store::open_file(&path)
    };
    let r = door::handle(&s, observation("một"), HttpTransport::new, reopen).await;
    assert!(r.result.is_ok(), "{:?}", r.result);
    assert_eq!(r.notice, Some(Notice::Saved));
    assert_eq!(reopened.get(), 1);
    assert_eq!(observations_in(&path), 1);

    // The reopened database fails too: the error says so in words, nothing is half-written,
    // and the next try (the member taps save again) reopens once more and saves it.
    break_storage(&s);
    let r = door::handle(&s, observation("hai"), HttpTransport::new, || {
        let store = Store::open_file(&path)?;
        store.conn().pragma_update(None, "query_only", true)?;
        Ok(store)
    })
    .await;
    let err = r.result.unwrap_err();
    assert_eq!(err.key, "err.storage");
    assert!(tf(Lang::Vi, &err.key, &err.args).contains("nội dung vẫn còn"));
    assert_eq!(observations_in(&path), 1, "nothing half-written");
    let r = door::handle(&s, observation("hai"), HttpTransport::new, || {
        Store::open_file(&path)
    })
    .await;
    assert!(r.result.is_ok(), "{:?}", r.result);
    assert_eq!(observations_in(&path), 2);

    // A reopen that cannot open the file at all leaves a stand-in that refuses writes as a
    // storage failure, so the following save reopens again instead of writing nowhere.
    break_storage(&s);
    let r = door::handle(&s, observation("ba"), HttpTransport::new, || {
        Store::open_file(&dir.path().join("missing-dir").join("p.db"))
    })
    .await;
    assert!(r.result.is_err());
    let r = door::handle(&s, observation("ba"), HttpTransport::new, || {
        Store::open_file(&path)
    })
    .await;
    assert!(r.result.is_ok(), "{:?}", r.result);
    assert_eq!(observations_in(&path), 3);
}
