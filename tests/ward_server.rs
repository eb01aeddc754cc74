//! A real ward server on 127.0.0.1 with a temporary data directory, and real device stores pushing
//! their outbox to it: enrollment, push, pull, revocation, other wards' ids, bad input.

mod common;

use chrono::{Duration, Utc};
use common::{start, Server};
use patrol::domain::observation::Category;
use patrol::domain::records::ObservationInput;
use patrol::store::{outbox, Store};
use patrol::wire::api::{
    CodeRefusal, EnrollResponse, ErrorBody, PullResponse, PushRequest, PushResponse,
};
use patrol::wire::feed::FeedItem;
use reqwest::StatusCode;
use serde_json::json;

/// A phone: its own store, enrolled with the server.
struct Phone {
    store: Store,
    token: String,
    _dir: tempfile::TempDir,
}

/// POST /api/v1/enroll with `code` for `device_id`.
async fn post_enroll(server: &Server, code: &str, device_id: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/v1/enroll", server.url))
        .json(&json!({ "code": code, "device_id": device_id }))
        .send()
        .await
        .unwrap()
}

async fn enroll(server: &Server, member: &str) -> Phone {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_file(&dir.path().join("phone.db")).unwrap();
    let device_id = outbox::device_id(store.conn()).unwrap();
    let code = server.code(member, Duration::hours(1)).await;
    let resp = post_enroll(server, &code, &device_id).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let e: EnrollResponse = resp.json().await.unwrap();
    assert_eq!(e.token.len(), 64, "a 256-bit token as hex");
    store.load_setup(e.setup).unwrap();
    Phone {
        store,
        token: e.token,
        _dir: dir,
    }
}

async fn push(
    server: &Server,
    token: &str,
    events: &[patrol::wire::event::Event],
) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/v1/push", server.url))
        .bearer_auth(token)
        .json(&PushRequest {
            sent_at: Utc::now(),
            events: events.to_vec(),
        })
        .send()
        .await
        .unwrap()
}

/// Pushes what `phone` still has to send (at most 100 events).
async fn push_pending(server: &Server, phone: &Phone) -> reqwest::Response {
    push(
        server,
        &phone.token,
        &outbox::pending(phone.store.conn(), 100).unwrap(),
    )
    .await
}

async fn pull(server: &Server, token: &str, after: i64) -> PullResponse {
    let resp = reqwest::Client::new()
        .get(format!("{}/api/v1/pull?after={after}&limit=3", server.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

/// Pages through the feed after `after` (3 items a page): every item, and the last cursor.
async fn pull_all(server: &Server, token: &str, mut after: i64) -> (Vec<FeedItem>, i64) {
    let mut items = Vec::new();
    loop {
        let page = pull(server, token, after).await;
        assert!(page.items.iter().all(|i| i.cursor > after));
        items.extend(page.items);
        after = page.cursor;
        if !page.more {
            return (items, after);
        }
    }
}

fn observe(phone: &mut Phone, n: usize) {
    if phone.store.active_shift().unwrap().is_none() {
        let member = phone.store.setup().unwrap().unwrap().members[0].id.clone();
        phone
            .store
            .start_shift("ca1", &[member], Utc::now())
            .unwrap();
    }
    for _ in 0..n {
        let input = ObservationInput {
            category: Some(Category::FireHazard),
            description: "Dây điện chập chờn".into(),
            ..Default::default()
        };
        phone.store.observe(&input, Utc::now()).unwrap();
    }
}

#[tokio::test]
async fn enrollment_codes_work_once_and_expire() {
    let server = start().await;
    let phone = enroll(&server, "demo-m2").await;
    assert_eq!(phone.store.setup().unwrap().unwrap().checkpoints.len(), 5);

    let client = reqwest::Client::new();
    let code = server.code("demo-m3", Duration::hours(1)).await;
    let first = client
        .post(format!("{}/api/v1/enroll", server.url))
        .json(&json!({"code": code, "device_id": "dev-a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let replay = client
        .post(format!("{}/api/v1/enroll", server.url))
        .json(&json!({"code": code, "device_id": "dev-b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    let body: ErrorBody = replay.json().await.unwrap();
    assert_eq!(body.message, "the enrollment code is already used");
    assert_eq!(body.reason, Some(CodeRefusal::Used));
    // The phone says why in its own words: Vietnamese, with nothing of the server's English.
    let said = |body: ErrorBody| {
        let e = patrol::service::error::ApiError::from(patrol::sync::engine::SyncError::Server {
            status: 400,
            body,
        });
        patrol::i18n::tf(patrol::i18n::Lang::Vi, &e.key, &e.args)
    };
    let words = said(body);
    assert!(words.contains("đã được dùng"), "{words}");
    assert!(!words.contains("already"), "{words}");

    let expired = server.code("demo-m3", Duration::seconds(-1)).await;
    let r = client
        .post(format!("{}/api/v1/enroll", server.url))
        .json(&json!({"code": expired, "device_id": "dev-c"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = r.json::<ErrorBody>().await.unwrap();
    assert_eq!(body.message, "the enrollment code is expired");
    assert_eq!(body.reason, Some(CodeRefusal::Expired));
    assert!(said(body).contains("hết hạn"));
    let unknown = post_enroll(&server, "ZZZZZZZZZZ", "dev-d").await;
    let body = unknown.json::<ErrorBody>().await.unwrap();
    assert_eq!(body.reason, Some(CodeRefusal::Unknown));
    assert!(said(body).contains("không đúng"));
    // A reason a newer server gives: the phone's general words, still its own.
    let newer: ErrorBody = serde_json::from_str(
        r#"{"error":"bad_code","message":"the code is paused","reason":"paused"}"#,
    )
    .unwrap();
    assert_eq!(newer.reason, Some(CodeRefusal::Other));
    let words = said(newer);
    assert!(
        words.contains("không dùng được") && !words.contains("paused"),
        "{words}"
    );
}

#[tokio::test]
async fn push_is_idempotent_and_conflicts_keep_the_original() {
    let server = start().await;
    let mut phone = enroll(&server, "demo-m2").await;
    observe(&mut phone, 4);
    let events = outbox::pending(phone.store.conn(), 100).unwrap();
    assert_eq!(events.len(), 5);

    let r: PushResponse = push(&server, &phone.token, &events)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (r.stored.len(), r.refused.len(), r.stored_through),
        (5, 0, 5)
    );
    // The same batch again (a lost reply): accepted, no second copy.
    let again: PushResponse = push(&server, &phone.token, &events)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((again.stored.len(), again.stored_through), (5, 5));
    assert_eq!(
        server.shared.write(|db| db.event_counts()).await.unwrap(),
        (5, 5)
    );

    // The same id with other content: refused as a conflict, the original kept.
    let mut forged = events[2].clone();
    forged.payload = json!({"category": "drugs"});
    let r: PushResponse = push(&server, &phone.token, &[forged])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r.refused.len(), 1);
    assert_eq!(r.refused[0].code, patrol::wire::api::RefusalCode::Conflict);
    assert_eq!(
        server.shared.write(|db| db.event_counts()).await.unwrap(),
        (5, 5)
    );

    // A gap: events 7 and 8 arrive before 6; stored_through stays at 5 until 6 comes.
    observe(&mut phone, 3);
    let more = outbox::pending(phone.store.conn(), 100).unwrap();
    let later: Vec<_> = more.iter().filter(|e| e.seq > 6).cloned().collect();
    let r: PushResponse = push(&server, &phone.token, &later)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r.stored_through, 5);
    let six: Vec<_> = more.iter().filter(|e| e.seq == 6).cloned().collect();
    let r: PushResponse = push(&server, &phone.token, &six)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r.stored_through, 8);
}

#[tokio::test]
async fn pull_gives_members_the_setup_and_leaders_the_logs() {
    let server = start().await;
    let mut member = enroll(&server, "demo-m2").await;
    let leader = enroll(&server, "demo-m1").await;
    observe(&mut member, 2);
    let events = outbox::pending(member.store.conn(), 100).unwrap();
    push(&server, &member.token, &events).await;

    // Page through the leader's feed 3 at a time: the setup snapshots, then the 3 events.
    let (items, leader_cursor) = pull_all(&server, &leader.token, 0).await;
    let kinds: Vec<String> = items.into_iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k != "setup")
            .cloned()
            .collect::<Vec<_>>(),
        ["shift_started", "observed", "observed"]
    );
    assert!(
        !kinds.iter().any(|k| k == "setup"),
        "the enrollment answer carried the setup; it is not pulled again"
    );
    // A plain member sees no one's events, and has its setup already.
    let (items, _) = pull_all(&server, &member.token, 0).await;
    assert!(items.is_empty(), "{items:?}");
    // Nothing new since the leader's last page: no items, and the cursor stays.
    let empty = pull(&server, &leader.token, leader_cursor).await;
    assert!(empty.items.is_empty() && !empty.more);
    assert_eq!(empty.cursor, leader_cursor);
}

#[tokio::test]
async fn revoked_devices_and_other_wards_are_refused() {
    let server = start().await;
    let mut a = enroll(&server, "demo-m2").await;
    let mut b = enroll(&server, "w2-m1").await;
    observe(&mut b, 1);
    let b_events = outbox::pending(b.store.conn(), 100).unwrap();
    // Device A pushes ward 2's events with its own token: refused per event, nothing stored.
    let r: PushResponse = push(&server, &a.token, &b_events)
        .await
        .json()
        .await
        .unwrap();
    assert!(!b_events.is_empty());
    assert_eq!(
        r.refused
            .iter()
            .map(|x| (x.event_id.as_str(), x.code))
            .collect::<Vec<_>>(),
        b_events
            .iter()
            .map(|e| (
                e.event_id.as_str(),
                patrol::wire::api::RefusalCode::BadDevice
            ))
            .collect::<Vec<_>>(),
        "every event refused, each for its device"
    );
    assert!(r.stored.is_empty());
    assert_eq!(
        server.shared.write(|db| db.event_counts()).await.unwrap(),
        (0, 0)
    );
    // Ward 2's device never sees the demo team's feed.
    observe(&mut a, 1);
    push_pending(&server, &a).await;
    // A change of ward 2's team since b enrolled: b pulls it, and nothing of the demo team.
    server
        .shared
        .write(|db| db.set_slots("t2", &patrol::domain::shift::default_slots()))
        .await
        .unwrap();
    let page = pull(&server, &b.token, 0).await;
    assert!(
        !page.items.is_empty(),
        "ward 2's device receives its own setup"
    );
    assert!(
        page.items.iter().all(|i| i.payload["team"]["id"] == "t2"),
        "{:?}",
        page.items
    );

    let device = outbox::device_id(a.store.conn()).unwrap();
    server
        .shared
        .write(move |db| db.revoke(&device, Utc::now()))
        .await
        .unwrap();
    let r = push_pending(&server, &a).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.json::<ErrorBody>().await.unwrap().error, "revoked");
}

#[tokio::test]
async fn bad_requests_get_clear_4xx_and_store_nothing() {
    let server = start().await;
    let phone = enroll(&server, "demo-m2").await;
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/push", server.url);

    let no_token = client
        .post(&url)
        .json(&json!({"sent_at": Utc::now(), "events": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    let junk = client
        .post(&url)
        .bearer_auth("nope")
        .json(&json!({"sent_at": Utc::now(), "events": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(junk.status(), StatusCode::UNAUTHORIZED);

    let cases: Vec<(&str, String)> = vec![
        ("malformed", "{\"sent_at\": ".into()),
        ("wrong shape", "{\"sent_at\": 5, \"events\": \"x\"}".into()),
        (
            "unknown field",
            format!(
                "{{\"sent_at\": \"{}\", \"events\": [], \"ward_id\": \"w2\"}}",
                Utc::now().to_rfc3339()
            ),
        ),
        (
            "deeply nested",
            // A well-formed event whose payload nests 10,000 levels deep.
            format!(
                "{{\"sent_at\": \"{now}\", \"events\": [{{\"seq\": 1, \"event_id\": \"e1\", \"device_id\": \"d\", \
                 \"kind\": \"observed\", \"entity_id\": \"x\", \"client_time\": \"{now}\", \"payload\": {}{}}}]}}",
                "[".repeat(10_000),
                "]".repeat(10_000),
                now = Utc::now().to_rfc3339()
            ),
        ),
        (
            "oversized",
            format!("{{\"x\": \"{}\"}}", "a".repeat(3 * 1024 * 1024)),
        ),
    ];
    for (what, body) in cases {
        let r = client
            .post(&url)
            .bearer_auth(&phone.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{what}: {}", r.status());
        let e: ErrorBody = r
            .json()
            .await
            .unwrap_or_else(|_| panic!("{what}: error body is JSON"));
        assert!(!e.message.is_empty(), "{what}");
        if what == "deeply nested" {
            assert!(
                e.message.contains("recursion limit"),
                "refused for its depth: {}",
                e.message
            );
        }
    }
    let too_many: Vec<_> = (0..501)
        .map(|i| json!({"seq": i + 1, "event_id": format!("e{i}"), "device_id": "d", "kind": "observed", "entity_id": "x", "payload": {}, "client_time": Utc::now()}))
        .collect();
    let r = client
        .post(&url)
        .bearer_auth(&phone.token)
        .json(&json!({"sent_at": Utc::now(), "events": too_many}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let bad_query = client
        .get(format!("{}/api/v1/pull?after=abc", server.url))
        .bearer_auth(&phone.token)
        .send()
        .await
        .unwrap();
    assert_eq!(bad_query.status(), StatusCode::BAD_REQUEST);
    let unknown = client
        .get(format!("{}/api/v2/pull", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        server.shared.write(|db| db.event_counts()).await.unwrap(),
        (0, 0)
    );
}

#[tokio::test]
async fn enrollment_is_rate_limited() {
    let server = start().await;
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for i in 0..15 {
        let r = client
            .post(format!("{}/api/v1/enroll", server.url))
            .json(&json!({"code": format!("WRONG{i}"), "device_id": "x"}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(&statuses[..10], &[400; 10], "wrong codes are refused");
    assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");
}

#[tokio::test]
async fn a_code_never_takes_over_another_members_device() {
    let server = start().await;
    let mut victim = enroll(&server, "demo-m2").await;
    let victim_id = outbox::device_id(victim.store.conn()).unwrap();
    // The attacker holds a valid code of their own and has seen the victim's device id.
    let code = server.code("w2-m1", Duration::hours(1)).await;
    let resp = post_enroll(&server, &code, &victim_id).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let body: ErrorBody = resp.json().await.unwrap();
    assert_eq!(body.error, "device_taken");
    // The victim's device still belongs to the victim, and its token still works.
    observe(&mut victim, 1);
    let events = outbox::pending(victim.store.conn(), 10).unwrap();
    let resp = push(&server, &victim.token, &events).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let r: PushResponse = resp.json().await.unwrap();
    assert_eq!(r.stored.len(), events.len());
    let devices = server
        .shared
        .write(|db| db.devices("demo-ward"))
        .await
        .unwrap();
    let row = devices.iter().find(|d| d.id == victim_id).unwrap();
    assert_eq!(row.member, "Trần Thị Bình");
    // The same member re-enrolling the same device gets a new token; the old one stops working.
    let code = server.code("demo-m2", Duration::hours(1)).await;
    let again: EnrollResponse = post_enroll(&server, &code, &victim_id)
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(again.token, victim.token);
    assert_eq!(
        push(&server, &victim.token, &[]).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_ward_change_reaches_every_phone_of_its_teams() {
    let server = start().await;
    let phone = enroll(&server, "demo-m2").await;
    let (_, after) = pull_all(&server, &phone.token, 0).await;
    let mut ward = phone.store.setup().unwrap().unwrap().ward;
    assert_ne!(ward.police_phone, "0243999111");
    ward.police_phone = "0243999111".into();
    server
        .shared
        .write(move |db| db.upsert_ward(&ward))
        .await
        .unwrap();
    let page = pull(&server, &phone.token, after).await;
    assert_eq!(page.items.len(), 1, "one new setup for the phone's team");
    match page.items[0].body().unwrap() {
        patrol::wire::feed::FeedBody::Setup(s) => assert_eq!(s.ward.police_phone, "0243999111"),
        other => panic!("expected a setup, got {other:?}"),
    }
    // The other ward's phones hear nothing of it.
    let other = enroll(&server, "w2-m1").await;
    assert_eq!(
        other.store.setup().unwrap().unwrap().ward.police_phone,
        "0241"
    );
    let (items, _) = pull_all(&server, &other.token, 0).await;
    assert!(items.is_empty(), "{items:?}");
}

/// The feed carries a team's newest setup only, and not to a phone whose enrollment answer carried
/// it (issue 23: 300 members added left 300 whole setups, 7.9 MB for a new phone on prepaid data).
#[tokio::test]
async fn a_new_phone_after_300_changes_downloads_one_setup() {
    let server = start().await;
    let leader = enroll(&server, "demo-m1").await;
    let (_, mut leader_cursor) = pull_all(&server, &leader.token, 0).await;
    for i in 0..300 {
        let member = patrol::domain::ward::Member {
            id: format!("m-{i:03}"),
            name: format!("Nguyễn Văn Thành viên {i}"),
            role: patrol::domain::ward::Role::Member,
        };
        server
            .shared
            .write(move |db| db.upsert_member("demo-team-1", &member))
            .await
            .unwrap();
    }
    let setups: i64 = server
        .shared
        .read(|conn| {
            Ok(conn.query_row(
                "SELECT COUNT(*) FROM feed WHERE kind = 'setup' AND team_id = 'demo-team-1'",
                [],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(setups, 1, "one setup per team in the feed");
    // A phone that was there all along gets the newest setup, with all 304 members.
    let page = pull(&server, &leader.token, leader_cursor).await;
    assert_eq!(page.items.len(), 1);
    leader_cursor = page.cursor;
    match page.items[0].body().unwrap() {
        patrol::wire::feed::FeedBody::Setup(s) => assert_eq!(s.members.len(), 304),
        other => panic!("expected a setup, got {other:?}"),
    }
    assert!(pull(&server, &leader.token, leader_cursor)
        .await
        .items
        .is_empty());

    // A new phone: its enrollment answer and its first pulls, as bytes of JSON.
    let code = server.code("m-299", Duration::hours(1)).await;
    let resp = post_enroll(&server, &code, "new-phone").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let enrolled = resp.bytes().await.unwrap();
    let token = serde_json::from_slice::<EnrollResponse>(&enrolled)
        .unwrap()
        .token;
    let mut pulled = 0;
    let mut after = 0;
    loop {
        let resp = reqwest::Client::new()
            .get(format!("{}/api/v1/pull?after={after}", server.url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let body = resp.bytes().await.unwrap();
        pulled += body.len();
        let page: PullResponse = serde_json::from_slice(&body).unwrap();
        assert!(
            page.items.iter().all(|i| i.kind != "setup"),
            "{:?}",
            page.items
        );
        after = page.cursor;
        if !page.more {
            break;
        }
    }
    println!(
        "a new phone in a team of 304 after 300 changes: enrollment answer {} bytes, pulls {pulled} bytes",
        enrolled.len()
    );
    assert!(
        enrolled.len() + pulled <= 100 * 1024,
        "{} + {pulled} bytes",
        enrolled.len()
    );
}

#[tokio::test]
async fn a_panic_in_a_handler_or_a_database_task_is_the_servers_fault() {
    use axum::routing::get;
    async fn buggy_handler() -> &'static str {
        panic!("a bug in a handler")
    }
    let dir = tempfile::tempdir().unwrap();
    common::seed(dir.path());
    let config = patrol_server::app::ServerConfig::new("127.0.0.1:0", dir.path());
    let routes = axum::Router::new()
        .route("/api/v1/test-panic", get(buggy_handler))
        .route(
            "/api/v1/test-db-panic",
            get(
                |axum::extract::State(shared): axum::extract::State<
                    std::sync::Arc<patrol_server::http::Shared>,
                >| async move {
                    shared
                        .write(|_db| -> Result<(), patrol_server::error::ServerError> {
                            panic!("a bug in a database call")
                        })
                        .await
                },
            ),
        );
    let app = patrol_server::app::Application::build(config)
        .await
        .unwrap()
        .with_routes(routes);
    let server = common::serve(app, dir);
    let client = reqwest::Client::new();
    for path in ["test-panic", "test-db-panic"] {
        let resp = client
            .get(format!("{}/api/v1/{path}", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        let body: ErrorBody = resp.json().await.unwrap();
        assert_eq!(body.error, "internal", "{path}");
    }
    // The server, and its writer, go on.
    let resp = client
        .get(format!("{}/api/v1/health", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let code = server.code("demo-m2", Duration::hours(1)).await;
    assert_eq!(code.len(), 10);
}

#[tokio::test]
async fn health_and_pull_are_answered_while_the_writer_is_held() {
    let server = start().await;
    let mut phone = enroll(&server, "demo-m1").await;
    observe(&mut phone, 1);
    assert_eq!(push_pending(&server, &phone).await.status(), StatusCode::OK);
    // A long push: the writer is held until the test lets go.
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (started_tx, started) = tokio::sync::oneshot::channel::<()>();
    let writer = server.shared.clone();
    let long_push = tokio::spawn(async move {
        writer
            .write(move |_db| {
                let _ = started_tx.send(());
                held.recv().unwrap();
                Ok(())
            })
            .await
    });
    started.await.unwrap();
    // Neither waits for the writer: a hang here would fail the test at the client's timeout.
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let health = client
        .get(format!("{}/api/v1/health", server.url))
        .send()
        .await
        .expect("health answered while the writer is held");
    assert_eq!(health.status(), StatusCode::OK);
    let page = client
        .get(format!("{}/api/v1/pull?after=0", server.url))
        .bearer_auth(&phone.token)
        .send()
        .await
        .expect("pull answered while the writer is held");
    assert_eq!(page.status(), StatusCode::OK);
    let page: PullResponse = page.json().await.unwrap();
    assert!(!page.items.is_empty());
    assert!(!long_push.is_finished(), "the writer was held throughout");
    release.send(()).unwrap();
    long_push.await.unwrap().unwrap();
}

#[tokio::test]
async fn an_idle_connection_is_closed_and_junk_tokens_meet_the_address_limit() {
    use tokio::io::AsyncReadExt;
    let server = common::start_with(|c| {
        c.conn.header_timeout = std::time::Duration::from_secs(1);
        c.limits.per_address = patrol_server::http::limit::Limit {
            burst: 5.0,
            per_second: 0.001,
        };
    })
    .await;
    // A client that connects and sends nothing is let go.
    let addr = server.url.trim_start_matches("http://").to_string();
    let mut idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut buf = [0u8; 256];
    let n = tokio::time::timeout(std::time::Duration::from_secs(30), idle.read(&mut buf))
        .await
        .expect("the server closes an idle connection")
        .unwrap_or(0);
    assert!(n == 0 || String::from_utf8_lossy(&buf[..n]).contains("408"));
    // Junk tokens from one address: refused by the address limit before any lookup.
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for i in 0..8 {
        let resp = client
            .get(format!("{}/api/v1/pull", server.url))
            .bearer_auth(format!("junk-{i}"))
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);
}

/// `body` gzip-compressed.
fn gzipped(body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(body).unwrap();
    enc.finish().unwrap()
}

#[tokio::test]
async fn sync_bodies_travel_compressed_and_a_zip_bomb_is_refused_whole() {
    let server = start().await;
    let mut phone = enroll(&server, "demo-m2").await;
    observe(&mut phone, 30);
    let events = outbox::pending(phone.store.conn(), 100).unwrap();
    let json = serde_json::to_vec(&PushRequest {
        sent_at: Utc::now(),
        events: events.clone(),
    })
    .unwrap();
    let packed = gzipped(&json);
    println!(
        "push body for {} observations: {} bytes as JSON ({} per event), {} gzipped ({} per event)",
        events.len(),
        json.len(),
        json.len() / events.len(),
        packed.len(),
        packed.len() / events.len()
    );
    assert!(
        packed.len() * 3 < json.len(),
        "{} -> {}",
        json.len(),
        packed.len()
    );
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/push", server.url);
    let post = |body: Vec<u8>, encoding: &'static str| {
        client
            .post(&url)
            .bearer_auth(&phone.token)
            .header("content-type", "application/json")
            .header("content-encoding", encoding)
            .body(body)
            .send()
    };

    // A zip bomb: a small gzip body that inflates past the limit. Refused, nothing stored.
    let bomb = gzipped(&vec![b' '; patrol::wire::api::MAX_BODY_BYTES + 1024]);
    assert!(bomb.len() < 20_000);
    let resp = post(bomb, "gzip").await.unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(resp.json::<ErrorBody>().await.unwrap().error, "too_large");
    // Corrupt gzip, and an encoding the server does not speak: clear refusals.
    let mut broken = packed.clone();
    broken.truncate(broken.len() / 2);
    assert_eq!(
        post(broken, "gzip").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post(packed.clone(), "compress").await.unwrap().status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        server.shared.write(|db| db.event_counts()).await.unwrap(),
        (0, 0),
        "nothing stored yet"
    );

    // The compressed batch is stored whole; the reply comes compressed to a client that takes it.
    let resp = client
        .post(&url)
        .bearer_auth(&phone.token)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .header("accept-encoding", "gzip")
        .body(packed)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    let mut reply = Vec::new();
    use std::io::Read;
    flate2::read::GzDecoder::new(&resp.bytes().await.unwrap()[..])
        .read_to_end(&mut reply)
        .unwrap();
    let reply: PushResponse = serde_json::from_slice(&reply).unwrap();
    assert_eq!(reply.stored_through, events.last().unwrap().seq);
    assert_eq!(
        server.shared.write(|db| db.event_counts()).await.unwrap(),
        (events.len() as i64, events.len() as i64)
    );
}

/// `ward-server` with the administrator's command `args`, parsed as the binary parses them.
#[derive(clap::Parser)]
struct Admin {
    #[command(subcommand)]
    cmd: patrol_server::admin::AdminCommand,
}

/// Parses and runs one admin command on the database in `data`.
fn admin(data: &std::path::Path, args: &[&str]) -> Result<(), patrol_server::admin::AdminError> {
    use clap::Parser;
    let cmd = Admin::try_parse_from(std::iter::once("ward-server").chain(args.iter().copied()))
        .unwrap()
        .cmd;
    let mut db = patrol_server::db::ServerDb::open(data).unwrap();
    patrol_server::admin::run(&mut db, cmd)
}

#[test]
fn create_ward_sets_the_photo_keeping_period_within_a_year() {
    let data = tempfile::tempdir().unwrap();
    let ward = |extra: &[&str]| {
        let mut args = vec!["create-ward", "--id", "p1", "--name", "Phường 1"];
        args.extend(["--police-phone", "0240000113"]);
        args.extend(extra);
        admin(data.path(), &args)
    };
    let keep_days = || -> u16 {
        let db = patrol_server::db::ServerDb::open(data.path()).unwrap();
        db.conn()
            .query_row(
                "SELECT photo_keep_days FROM ward WHERE id = 'p1'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    ward(&[]).unwrap();
    assert_eq!(keep_days(), patrol::domain::ward::DEFAULT_PHOTO_KEEP_DAYS);
    ward(&["--photo-keep-days", "3"]).unwrap();
    assert_eq!(keep_days(), 3);

    let err = ward(&["--photo-keep-days", "400"]).unwrap_err().to_string();
    assert_eq!(
        err,
        "ward p1: phones may keep full-size photos 0 to 365 days, not 400"
    );
    assert_eq!(keep_days(), 3, "the refused change left the ward as it was");
}

/// Sends `raw` (a whole request head, and whatever body part) on a new connection and reads the
/// answer until the server closes or 20 s pass: the status and the body after the head.
async fn raw_http(server: &Server, raw: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = server.url.trim_start_matches("http://").to_string();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    conn.write_all(raw.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(20), conn.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => {
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got);
                // One whole answer (its length known) is enough.
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len = head.lines().find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                    });
                    if len.is_some_and(|len| body.len() >= len) {
                        break;
                    }
                }
            }
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&got).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// The error code of a JSON error body.
fn code_of(body: &str) -> String {
    serde_json::from_str::<ErrorBody>(body)
        .map(|b| b.error)
        .unwrap_or_else(|_| format!("not a JSON error body: {body:?}"))
}

/// The edges of HTTP (issue 23): every error in the JSON body, a length over the limit refused at
/// once with 413, a body that stops arriving 408, header words in any case, a NUL in a path 404.
#[tokio::test]
async fn the_edges_of_http_answer_in_json_and_read_names_in_any_case() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><title>app</title>",
    )
    .unwrap();
    let server = common::start_with(|c| {
        c.dist = Some(dist.path().to_path_buf());
        c.timeouts.body = std::time::Duration::from_secs(1);
    })
    .await;
    let mut phone = enroll(&server, "demo-m2").await;
    let host = server.url.trim_start_matches("http://").to_string();

    // A method a path does not take, an encoding the server does not read: JSON, with the header
    // that says what would do.
    let resp = reqwest::Client::new()
        .get(format!("{}/api/v1/push", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(resp.headers()["allow"].to_str().unwrap().contains("POST"));
    assert_eq!(
        resp.json::<ErrorBody>().await.unwrap().error,
        "method_not_allowed"
    );
    let resp = reqwest::Client::new()
        .put(format!("{}/api/v2/anything", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(resp.json::<ErrorBody>().await.unwrap().error, "not_found");
    let (status, body) = raw_http(
        &server,
        &format!(
            "POST /api/v1/push HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Encoding: compress\r\nContent-Length: 2\r\n\
             Connection: close\r\n\r\n{{}}",
            phone.token
        ),
    )
    .await;
    assert_eq!(
        (status, code_of(&body)),
        (415, "unsupported_encoding".into())
    );

    // Ten gigabytes announced: 413 without waiting for any of it (the body limit is 1 s here; a
    // wait for the body would meet it first).
    let (status, body) = raw_http(
        &server,
        &format!(
            "POST /api/v1/enroll HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: 10737418240\r\n\r\n"
        ),
    )
    .await;
    assert_eq!((status, code_of(&body)), (413, "too_large".into()));
    // A body that stops arriving: 408 `timeout`, in JSON.
    let (status, body) = raw_http(
        &server,
        &format!(
            "POST /api/v1/enroll HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: 100\r\n\r\n{{\"code\":"
        ),
    )
    .await;
    assert_eq!((status, code_of(&body)), (408, "timeout".into()));

    // `bearer` and `GZIP`: the names of a scheme and an encoding are case-insensitive.
    observe(&mut phone, 2);
    let events = outbox::pending(phone.store.conn(), 100).unwrap();
    let json = serde_json::to_vec(&PushRequest {
        sent_at: Utc::now(),
        events: events.clone(),
    })
    .unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/push", server.url))
        .header("authorization", format!("bearer {}", phone.token))
        .header("content-type", "application/json")
        .header("content-encoding", "GZIP")
        .body(gzipped(&json))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.json::<PushResponse>().await.unwrap().stored.len(),
        events.len()
    );

    // A NUL byte or an over-long name in a path names no file, for HEAD as for GET.
    let long = "a".repeat(300);
    for path in ["/%00", "/a%00b.js", &format!("/{long}.js")] {
        for method in [reqwest::Method::HEAD, reqwest::Method::GET] {
            let resp = reqwest::Client::new()
                .request(method.clone(), format!("{}{path}", server.url))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{method} {path}");
        }
    }
}

/// Pushes stored a group at a time: one batch that fails inside the group's transaction is rolled
/// back alone (its savepoint), and the others of the group are stored and answered.
#[tokio::test]
async fn a_batch_that_fails_in_a_group_leaves_the_others_stored() {
    let server = start().await;
    let mut a = enroll(&server, "demo-m2").await;
    let mut b = enroll(&server, "demo-m3").await;
    observe(&mut a, 3);
    observe(&mut b, 2);
    let (ea, eb) = (
        outbox::pending(a.store.conn(), 100).unwrap(),
        outbox::pending(b.store.conn(), 100).unwrap(),
    );
    let auth = |token: String| {
        let shared = server.shared.clone();
        async move {
            shared
                .read(move |conn| patrol_server::db::enrollment::authenticate(conn, &token))
                .await
                .unwrap()
        }
    };
    let (auth_a, auth_b) = (auth(a.token.clone()).await, auth(b.token.clone()).await);
    // A device the database does not hold: its batch fails half-way (its events inserted, then
    // its sequence looked up), between two good ones.
    let ghost = patrol_server::db::DeviceAuth {
        device_id: "no-such-device".into(),
        ..auth_b.clone()
    };
    let mut ghost_events = eb.clone();
    for (i, e) in ghost_events.iter_mut().enumerate() {
        e.device_id = "no-such-device".into();
        e.event_id = format!("ghost-{i}");
    }
    let answers = server
        .shared
        .write(move |db| {
            use patrol_server::db::events::PushBatch;
            let now = Utc::now();
            let batches = [
                PushBatch {
                    auth: &auth_a,
                    sent_at: now,
                    events: &ea,
                },
                PushBatch {
                    auth: &ghost,
                    sent_at: now,
                    events: &ghost_events,
                },
                PushBatch {
                    auth: &auth_b,
                    sent_at: now,
                    events: &eb,
                },
            ];
            Ok(db
                .push_group(&batches, now)?
                .into_iter()
                .map(|r| r.map(|p| p.stored.len()).map_err(|e| e.to_string()))
                .collect::<Vec<_>>())
        })
        .await
        .unwrap();
    assert_eq!(answers[0], Ok(4), "a's shift and three observations");
    assert!(answers[1].is_err(), "{:?}", answers[1]);
    assert_eq!(answers[2], Ok(3), "b's shift and two observations");
    assert_eq!(
        server.shared.write(|db| db.event_counts()).await.unwrap(),
        (7, 7),
        "nothing of the failed batch stays"
    );
}
