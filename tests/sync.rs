//! Phones sync with a real ward server through the sync engine: every record arrives once, lost
//! replies and a restored server cause re-sends but no copies, refusals never block the queue.

mod common;

use chrono::{Duration, Utc};
use common::start;
use patrol::domain::observation::Category;
use patrol::domain::records::ObservationInput;
use patrol::store::{outbox, Store};
use patrol::sync::engine::{enroll, sync_once, SyncError};
use patrol::sync::http::HttpTransport;
use std::cell::RefCell;
use std::collections::BTreeSet;

struct Phone {
    store: RefCell<Store>,
    net: HttpTransport,
    _dir: tempfile::TempDir,
}

/// A phone enrolled with the server at `url` by `code`.
async fn enrolled(url: &str, code: &str) -> Phone {
    let dir = tempfile::tempdir().unwrap();
    let store = RefCell::new(Store::open_file(&dir.path().join("phone.db")).unwrap());
    let net = HttpTransport::new(url);
    enroll(&store, &net, url, code).await.unwrap();
    Phone {
        store,
        net,
        _dir: dir,
    }
}

async fn phone(server: &common::Server, member: &str) -> Phone {
    enrolled(&server.url, &server.code(member, Duration::hours(1)).await).await
}

fn patrol(p: &mut Phone, observations: usize) {
    let mut store = p.store.borrow_mut();
    if store.active_shift().unwrap().is_none() {
        let me = store
            .sync_value(patrol::store::sync_state::SyncKey::MemberId)
            .unwrap()
            .unwrap();
        store.start_shift("ca1", &[me], Utc::now()).unwrap();
    }
    for i in 0..observations {
        let input = ObservationInput {
            category: Some(Category::ALL[i % Category::COUNT]),
            description: format!("ghi nhận {i}"),
            ..Default::default()
        };
        store.observe(&input, Utc::now()).unwrap();
    }
}

async fn sync(p: &mut Phone) -> Result<patrol::sync::engine::Report, SyncError> {
    sync_once(&p.store, &p.net, Utc::now).await
}

/// Lost replies, then `ward-server backup` while the server serves, more events pushed after it,
/// and `ward-server restore` of that older copy (server stopped, restored, started again on the
/// same data directory and address): the phone re-sends what the copy lacks, and the server ends
/// with every event the phone recorded exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_arrives_once_even_when_replies_are_lost_or_the_server_is_restored() {
    let data = tempfile::tempdir().unwrap();
    common::seed(data.path());
    let ward_db = data.path().join(patrol_server::db::DB_FILE);
    let server = common::run(data.path()).await;
    let mut a = enrolled(&server.url, &server.code("demo-m2").await).await;
    assert_eq!(
        a.store.borrow().setup().unwrap().unwrap().team.id,
        "demo-team-1"
    );
    patrol(&mut a, 450); // more than two batches
    let report = sync(&mut a).await.unwrap();
    assert_eq!(report.sent, 451);
    assert_eq!(outbox::pending_count(a.store.borrow().conn()).unwrap(), 0);
    assert_eq!(
        server.shared.write(|db| db.event_counts()).await.unwrap(),
        (451, 451)
    );

    // The replies were lost: the phone thinks nothing was sent and sends it all again.
    outbox::unmark_sent_after(a.store.borrow().conn(), 0).unwrap();
    assert_eq!(sync(&mut a).await.unwrap().sent, 451);
    assert_eq!(
        server.shared.write(|db| db.event_counts()).await.unwrap(),
        (451, 451),
        "no copies"
    );

    // A backup, as `ward-server backup` takes it: its own connection while the server serves.
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("ward-backup.db");
    let (d, f) = (data.path().to_path_buf(), file.clone());
    tokio::task::spawn_blocking(move || {
        let mut db = patrol_server::db::ServerDb::open(&d).unwrap();
        patrol_server::admin::run(
            &mut db,
            patrol_server::admin::AdminCommand::Backup {
                file: f,
                force: false,
            },
        )
    })
    .await
    .unwrap()
    .unwrap();
    let in_backup = common::recorded(&a.store.borrow());
    assert_eq!(
        common::compare(common::stored(&file), &in_backup),
        (451, 0, 0)
    );

    // After it: 30 more pushed (the copy lacks them), 5 more still on the phone at the restore.
    patrol(&mut a, 30);
    assert_eq!(sync(&mut a).await.unwrap().sent, 30);
    let acknowledged = common::recorded(&a.store.borrow());
    let lacking: BTreeSet<String> = acknowledged.difference(&in_backup).cloned().collect();
    assert_eq!(lacking.len(), 30);
    assert_eq!(
        common::compare(common::stored(&ward_db), &acknowledged),
        (481, 0, 0)
    );
    patrol(&mut a, 5);

    // `ward-server restore`: the server stopped, the older copy restored, a new server started
    // on the same data directory and address.
    let addr = server.url.trim_start_matches("http://").to_string();
    server.stop().await;
    patrol_server::db::backup::restore(&ward_db, &file, Utc::now()).unwrap();
    assert_eq!(
        common::compare(common::stored(&ward_db), &in_backup),
        (451, 0, 0),
        "the restored database is the older copy"
    );
    let server = common::run_on(data.path(), &addr).await;

    // The phone learns of the new epoch and re-sends all it holds; only what the copy lacked is
    // new to the server.
    let report = sync(&mut a).await.unwrap();
    assert_eq!(
        report.requeued, 481,
        "every acknowledged event is queued again"
    );
    assert_eq!(report.sent, 486);
    assert_eq!(outbox::pending_count(a.store.borrow().conn()).unwrap(), 0);
    let everything = common::recorded(&a.store.borrow());
    assert_eq!(everything.len(), 486);
    assert_eq!(
        common::compare(common::stored(&ward_db), &everything),
        (486, 0, 0),
        "every event exactly once: nothing missing, nothing extra"
    );
    assert_eq!(
        server.shared.write(|db| db.event_counts()).await.unwrap(),
        (486, 486)
    );
    server.stop().await;
}

#[tokio::test]
async fn demo_records_stay_on_the_phone_and_real_ones_start_at_one() {
    let server = start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = RefCell::new(Store::open_file(&dir.path().join("phone.db")).unwrap());
    {
        // The member tries the app on the demo ward first.
        let mut s = store.borrow_mut();
        s.load_setup(
            patrol::domain::ward::WardSetup::from_json(patrol::domain::ward::DEMO_WARD).unwrap(),
        )
        .unwrap();
        s.start_shift("ca1", &["demo-m1".into()], Utc::now())
            .unwrap();
        s.observe(
            &ObservationInput {
                category: Some(Category::Other),
                description: "thử".into(),
                ..Default::default()
            },
            Utc::now(),
        )
        .unwrap();
    }
    let net = HttpTransport::new(&server.url);
    let code = server.code("w2-m1", Duration::hours(1)).await;
    enroll(&store, &net, &server.url, &code).await.unwrap();
    assert_eq!(
        outbox::pending_count(store.borrow().conn()).unwrap(),
        0,
        "demo records are not sent"
    );
    assert!(store.borrow().active_shift().unwrap().is_none());
    let mut phone = Phone {
        store,
        net,
        _dir: dir,
    };
    patrol(&mut phone, 2);
    let seqs: Vec<i64> = outbox::pending(phone.store.borrow().conn(), 10)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, [1, 2, 3]);
    sync(&mut phone).await.unwrap();
    assert_eq!(
        outbox::pending_count(phone.store.borrow().conn()).unwrap(),
        0
    );
    assert_eq!(
        server.shared.write(|db| db.event_counts()).await.unwrap(),
        (3, 3)
    );
}

#[tokio::test]
async fn leaders_pull_the_team_log_and_members_get_route_changes() {
    let server = start().await;
    let mut member = phone(&server, "demo-m2").await;
    let mut leader = phone(&server, "demo-m1").await;
    patrol(&mut member, 3);
    sync(&mut member).await.unwrap();
    let r = sync(&mut leader).await.unwrap();
    assert!(r.pulled >= 4);
    assert_eq!(
        leader.store.borrow().team_event_count().unwrap(),
        4,
        "shift start + 3 observations"
    );
    assert_eq!(member.store.borrow().team_event_count().unwrap(), 0);

    // The ward changes the route: the member's phone picks it up on its next sync.
    let route =
        patrol::domain::route_file::checkpoints_from_csv("name,lat,lon\nChốt mới,21.029,105.853\n")
            .unwrap();
    server
        .shared
        .write(move |db| db.set_route("demo-team-1", &route))
        .await
        .unwrap();
    sync(&mut member).await.unwrap();
    let cps = member.store.borrow().setup().unwrap().unwrap().checkpoints;
    assert_eq!(
        cps.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["Chốt mới"]
    );
}

#[tokio::test]
async fn a_refused_event_is_parked_and_the_queue_goes_on() {
    let server = start().await;
    let mut a = phone(&server, "demo-m2").await;
    patrol(&mut a, 1);
    // An event the server will refuse: a payload over its size limit.
    let big = format!(
        "{{\"note\": \"{}\"}}",
        "x".repeat(patrol::wire::api::MAX_PAYLOAD_BYTES)
    );
    a.store
        .borrow()
        .conn()
        .execute("UPDATE device SET next_seq = next_seq + 1;", [])
        .unwrap();
    a.store
        .borrow()
        .conn()
        .execute(
            "INSERT INTO outbox(seq, event_id, device_id, kind, entity_id, payload, client_time)
             SELECT next_seq - 1, 'odd-event', id, 'observed', 'x', ?1, '2026-11-22T13:00:00+00:00' FROM device",
            [big],
        )
        .unwrap();
    patrol(&mut a, 2);
    let report = sync(&mut a).await.unwrap();
    assert_eq!(report.refused, 1);
    assert_eq!(
        outbox::pending_count(a.store.borrow().conn()).unwrap(),
        0,
        "the queue is not blocked"
    );
    let refused = outbox::refused(a.store.borrow().conn()).unwrap();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].code, patrol::wire::api::RefusalCode::TooLarge);
    assert_eq!(
        server.shared.write(|db| db.event_counts()).await.unwrap(),
        (4, 4)
    );
}

#[tokio::test]
async fn a_revoked_phone_is_told_and_keeps_its_records() {
    let server = start().await;
    let mut a = phone(&server, "demo-m2").await;
    patrol(&mut a, 2);
    let id = outbox::device_id(a.store.borrow().conn()).unwrap();
    server
        .shared
        .write(move |db| db.revoke(&id, Utc::now()))
        .await
        .unwrap();
    let err = sync(&mut a).await.unwrap_err();
    assert!(
        matches!(err, SyncError::Server { status: 403, .. }),
        "{err}"
    );
    assert!(!err.retryable());
    assert_eq!(
        outbox::pending_count(a.store.borrow().conn()).unwrap(),
        3,
        "nothing is dropped"
    );
    assert!(a
        .store
        .borrow()
        .sync_value(patrol::store::sync_state::SyncKey::LastError)
        .unwrap()
        .unwrap()
        .contains("revoked"));
    assert_eq!(
        a.store
            .borrow()
            .sync_value(patrol::store::sync_state::SyncKey::LastError)
            .unwrap()
            .as_deref(),
        Some("revoked")
    );

    // No server at all: a retryable network error, recorded for the UI.
    let mut lonely = Phone {
        store: RefCell::new(Store::open_file(&a._dir.path().join("x.db")).unwrap()),
        net: HttpTransport::new("http://127.0.0.1:9"),
        _dir: tempfile::tempdir().unwrap(),
    };
    assert!(matches!(
        sync(&mut lonely).await,
        Err(SyncError::NotEnrolled)
    ));
    let err = enroll(&lonely.store, &lonely.net, "http://127.0.0.1:9", "ABC")
        .await
        .unwrap_err();
    assert!(err.retryable(), "{err}");
}

#[tokio::test]
async fn a_feed_item_the_phone_cannot_read_is_recorded_and_never_stops_the_pulls() {
    let server = start().await;
    let mut leader = phone(&server, "demo-m1").await;
    sync(&mut leader).await.unwrap();
    // A real change first (a new setup replaces the team's earlier one in the feed); then a kind
    // this build does not know (as a newer server might send), and a setup that is no setup at
    // all; then a member's record after them.
    let mut ward = leader.store.borrow().setup().unwrap().unwrap().ward;
    ward.police_phone = "0243777888".into();
    server
        .shared
        .write(move |db| db.upsert_ward(&ward))
        .await
        .unwrap();
    server
        .shared
        .write(|db| {
            db.conn().execute_batch(
                "INSERT INTO feed(team_id, kind, leaders, payload) VALUES ('demo-team-1', 'photo_added', 0, '{\"photo\": 1}');
                 INSERT INTO feed(team_id, kind, leaders, payload) VALUES ('demo-team-1', 'setup', 0, '{\"ward\": 1}');",
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let mut member = phone(&server, "demo-m2").await;
    patrol(&mut member, 0);
    sync(&mut member).await.unwrap();
    let report = sync(&mut leader).await.unwrap();
    assert_eq!(report.rejected, 2);
    assert_eq!(
        report.pulled, 2,
        "the setup before and the member's shift after the bad items arrived"
    );
    {
        let store = leader.store.borrow();
        assert_eq!(
            store.setup().unwrap().unwrap().ward.police_phone,
            "0243777888"
        );
        let rejected = store.feed_rejected().unwrap();
        assert_eq!(rejected.len(), 2);
        assert!(rejected[0].1.contains("photo_added"), "{rejected:?}");
        assert!(rejected[1].0 > rejected[0].0);
    }
    // The next round starts after them: nothing again, no error.
    let report = sync(&mut leader).await.unwrap();
    assert_eq!((report.pulled, report.rejected), (0, 0));
}

#[tokio::test]
async fn the_leaders_phone_and_the_server_read_one_team_log_through_one_function() {
    use patrol::domain::tip::TipStep;
    let server = start().await;
    let mut member = phone(&server, "demo-m2").await;
    let mut leader = phone(&server, "demo-m1").await;
    patrol(&mut member, 3);
    sync(&mut member).await.unwrap();
    sync(&mut leader).await.unwrap();
    let tip = {
        let view = leader.store.borrow().team_view(Utc::now()).unwrap();
        assert_eq!(view.log.tips.len(), 3, "the member's three observations");
        view.log.tips[0].observation.id.clone()
    };
    leader
        .store
        .borrow_mut()
        .follow_up(&tip, TipStep::Forwarded, "đã báo", Utc::now())
        .unwrap();
    sync(&mut leader).await.unwrap();
    // The member corrects nothing and ends nothing: the shift is still running on both sides.
    let on_phone = leader.store.borrow().team_view(Utc::now()).unwrap();
    let on_server = server
        .shared
        .write(|db| db.team_view("demo-team-1"))
        .await
        .unwrap();
    assert!(on_phone.unreadable.is_empty() && on_server.unreadable.is_empty());
    assert_eq!(on_phone.log.shifts.len(), 1);
    assert_eq!(
        on_phone, on_server,
        "one log, read the same way on both sides"
    );
    let forwarded = on_server
        .log
        .tips
        .iter()
        .find(|t| t.observation.id == tip)
        .unwrap();
    assert_eq!(forwarded.state.outcome, Some(TipStep::Forwarded));

    // The administrator's text shows the same: three observations, one tip forwarded.
    let text = server
        .shared
        .write(|db| {
            patrol_server::admin::team_log_text(db, "demo-team-1", None, Utc::now())
                .map_err(|e| patrol_server::error::ServerError::NotFound(e.to_string()))
        })
        .await
        .unwrap();
    assert_eq!(text.matches(" observation ").count(), 3, "{text}");
    assert!(text.contains("forwarded by Nguyễn Văn An"), "{text}");
    assert!(
        text.contains("3 tips waiting"),
        "forwarded is not closed: {text}"
    );
}
