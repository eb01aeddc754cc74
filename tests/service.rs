//! The command service as the UI uses it: every reply carries the fresh state or a translated
//! error key with its values, and refused commands change nothing.

use chrono::{Duration, TimeZone, Utc};
use patrol::domain::geofence::{Fix, LatLon};
use patrol::domain::records::{CheckInRequest, ObservationInput};
use patrol::i18n::{tf, Lang};
use patrol::service::{Command, Notice, Service};
use patrol::store::Store;

fn service(dir: &tempfile::TempDir) -> Service {
    Service::new(Store::open_file(&dir.path().join("p.db")).unwrap())
}

#[test]
fn errors_come_back_as_translation_keys_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = service(&dir);
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 13, 30, 0).unwrap();
    // Before any ward: a clear error, not a crash.
    let r = s.handle(
        Command::StartShift {
            slot_code: "ca1".into(),
            members: vec!["demo-m1".into()],
        },
        now,
    );
    assert_eq!(r.result.unwrap_err().key, "err.no_ward");

    let state = s.handle(Command::LoadDemo, now).result.unwrap();
    assert!(state.setup.as_ref().unwrap().ward.demo);
    let tonight = state.tonight.unwrap();
    assert_eq!(tonight.night.to_string(), "2026-11-22");
    assert_eq!(
        tonight.suggested.as_deref(),
        Some("ca1"),
        "20:30 local is inside ca1"
    );

    let r = s.handle(
        Command::StartShift {
            slot_code: "ca1".into(),
            members: vec!["demo-m1".into()],
        },
        now,
    );
    assert_eq!(r.notice, Some(Notice::Saved));
    assert_eq!(r.result.unwrap().pending_sync, 1);

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
    let err = s.handle(cmd, now).result.unwrap_err();
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
        .handle(Command::Observe { input: long }, now)
        .result
        .unwrap_err();
    assert_eq!(
        tf(Lang::Vi, &err.key, &err.args),
        "Mô tả dài 2001 ký tự; tối đa 2000"
    );

    // A malformed GeoJSON import is refused and the route is unchanged.
    let err = s
        .handle(
            Command::ImportCheckpoints {
                geojson: "{\"type\":\"Feature\"".into(),
            },
            now,
        )
        .result
        .unwrap_err();
    assert_eq!(err.key, "err.file_format");
    let state = s.handle(Command::State, now).result.unwrap();
    assert_eq!(state.setup.unwrap().checkpoints.len(), 5);
    assert_eq!(state.pending_sync, 1, "refused commands wrote no events");

    // A clock that jumped back three hours: saved, and flagged.
    let obs = ObservationInput {
        category: Some(patrol::domain::observation::Category::Drugs),
        ..Default::default()
    };
    let r = s.handle(Command::Observe { input: obs }, now - Duration::hours(3));
    assert_eq!(r.notice, Some(Notice::ClockWentBack));
    assert_eq!(r.result.unwrap().pending_sync, 2);
}

#[test]
fn the_language_choice_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut s = service(&dir);
        assert_eq!(
            s.handle(Command::State, Utc::now()).result.unwrap().lang,
            "vi"
        );
        s.handle(Command::SetLang { lang: "en".into() }, Utc::now())
            .result
            .unwrap();
    }
    let mut s = service(&dir);
    assert_eq!(
        s.handle(Command::State, Utc::now()).result.unwrap().lang,
        "en"
    );
}
