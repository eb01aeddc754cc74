//! Leaders running their team from the phone, against a real ward server on 127.0.0.1: who may
//! plan the roster, change members and roles, issue enrollment codes, list and revoke devices,
//! replace the route and read the audit (every role, another team's leader, another ward's
//! officer, a revoked device); bad input refused whole; a member receiving their own assignment;
//! and an audit record for each change, counted exactly.

mod common;

use common::client::Device;
use common::Server;
use patrol::domain::ward::Role;
use patrol::store::Store;
use patrol::wire::api::{
    parse_enroll_link, AuditAction, AuditResponse, EnrollResponse, IssueCodeResponse, PullResponse,
    RosterFeed, RosterResponse, ROSTER_KIND,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The demo ward's first team: demo-m1 (leader), demo-m2..m4 (members).
const TEAM1: &str = "demo-team-1";
use common::TEAM2;
/// A night far in the future, so it is never past whatever the clock says.
const NIGHT: &str = "2099-03-02";

/// The instant every test here starts at: 4 December 2026, 19:00 in Hà Nội, before tonight's first
/// shift. The ward server reads `patrol::clock` like the app, so missed shifts, tonight's plan and
/// code expiry never depend on the host's clock; every test of this file sets the same instant.
const EVENING: &str = "2026-12-04T12:00:00Z";

/// The seeded server plus: team 2 of the demo ward (leader b-l1, member b-m1, officer demo-o1,
/// admin demo-a1), an officer demo-o2 in team 1, and an officer w2-o1 in ward 2; the clock at
/// [`EVENING`].
async fn world() -> Server {
    let evening = chrono::DateTime::parse_from_rfc3339(EVENING).unwrap();
    patrol::clock::set_offset_ms((evening.to_utc() - chrono::Utc::now()).num_milliseconds());
    common::start_with_people(
        &[
            (TEAM2, "b-l1", Role::Leader),
            (TEAM2, "b-m1", Role::Member),
            (TEAM2, "demo-o1", Role::Officer),
            (TEAM2, "demo-a1", Role::Admin),
            (TEAM1, "demo-o2", Role::Officer),
            ("t2", "w2-o1", Role::Officer),
        ],
        |_| {},
    )
    .await
}

/// Calls the API as `device` (or with no token), giving the status and the JSON body.
async fn call(
    server: &Server,
    device: Option<&Device>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new().request(method, format!("{}{path}", server.url));
    if let Some(d) = device {
        req = req.bearer_auth(&d.token);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

async fn get(server: &Server, d: &Device, path: &str) -> (StatusCode, Value) {
    call(server, Some(d), Method::GET, path, None).await
}

async fn send(
    server: &Server,
    d: &Device,
    method: Method,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    call(server, Some(d), method, path, Some(body)).await
}

/// How many audit rows the server holds, of `action` if given.
async fn audit_rows(server: &Server, action: Option<&str>) -> i64 {
    let action = action.map(str::to_string);
    server
        .shared
        .read(move |conn| {
            Ok(conn.query_row(
                "SELECT COUNT(*) FROM audit WHERE ?1 IS NULL OR action = ?1",
                [action],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap()
}

fn csv_route() -> Value {
    json!({ "format": "csv", "text": "name,lat,lon,radius_m,id,qr_code\nChợ,21.03,105.85,40,c1,Q1\nTrường,21.031,105.851,40,c2,Q2\n" })
}

/// One action of the team API on team 1, as the permission table names it.
#[derive(Debug, Clone, Copy)]
enum Action {
    ReadRoster,
    SetNight,
    SetPattern,
    ListMembers,
    AddMember,
    SetRole,
    IssueCode,
    ListDevices,
    SetRoute,
    ReadAudit,
}

const ACTIONS: [Action; 10] = [
    Action::ReadRoster,
    Action::SetNight,
    Action::SetPattern,
    Action::ListMembers,
    Action::AddMember,
    Action::SetRole,
    Action::IssueCode,
    Action::ListDevices,
    Action::SetRoute,
    Action::ReadAudit,
];

async fn act(server: &Server, d: &Device, a: Action) -> (StatusCode, Value) {
    let t = format!("/api/v1/team/{TEAM1}");
    match a {
        Action::ReadRoster => get(server, d, &format!("{t}/roster?from={NIGHT}&to=2099-03-08")).await,
        Action::SetNight => {
            send(server, d, Method::PUT, &format!("{t}/roster/night"),
                 json!({ "night": NIGHT, "slots": { "ca1": ["demo-m2", "demo-m3"], "ca2": ["demo-m4"] } })).await
        }
        Action::SetPattern => {
            send(server, d, Method::PUT, &format!("{t}/roster/pattern"),
                 json!({ "from": "2099-12-28", "to": "2100-01-10",
                         "weekly": { "mon": { "ca1": ["demo-m2"] }, "fri": { "ca2": ["demo-m3", "demo-m4"] } } })).await
        }
        Action::ListMembers => get(server, d, &format!("{t}/members")).await,
        Action::AddMember => {
            send(server, d, Method::POST, &format!("{t}/members"), json!({ "name": "Đỗ Văn Mới" })).await
        }
        Action::SetRole => {
            send(server, d, Method::PUT, &format!("{t}/members/demo-m3/role"), json!({ "role": "member" })).await
        }
        Action::IssueCode => {
            send(server, d, Method::POST, &format!("{t}/members/demo-m4/code"), json!({ "ttl_minutes": 10 })).await
        }
        Action::ListDevices => get(server, d, &format!("{t}/devices")).await,
        Action::SetRoute => send(server, d, Method::PUT, &format!("{t}/route"), csv_route()).await,
        Action::ReadAudit => get(server, d, "/api/v1/audit").await,
    }
}

/// Every action of the team API on team 1 by every kind of caller: a member reads only the
/// roster, a leader runs their own team, officers and admins every team of their ward and read
/// the audit, another team's leader is refused, another ward's officer finds no such team, and a
/// revoked device is refused everything. Exactly the successful changes are audited.
#[tokio::test]
async fn every_action_by_every_role() {
    let server = world().await;
    let member = Device::enroll(&server, "demo-m2").await;
    let leader = Device::enroll(&server, "demo-m1").await;
    let officer = Device::enroll(&server, "demo-o1").await;
    let admin = Device::enroll(&server, "demo-a1").await;
    let other_leader = Device::enroll(&server, "b-l1").await;
    let other_ward = Device::enroll(&server, "w2-o1").await;
    let revoked = Device::enroll(&server, "demo-m3").await;
    let id = revoked.id.clone();
    server
        .shared
        .write(move |db| db.revoke(&id, patrol::clock::now()))
        .await
        .unwrap();

    use StatusCode as S;
    let (ok, forbidden, not_found) = (S::OK, S::FORBIDDEN, S::NOT_FOUND);
    // Per caller: the status of each action, in ACTIONS order.
    let table: [(&str, &Device, [StatusCode; 10]); 7] = [
        (
            "member",
            &member,
            [
                ok, forbidden, forbidden, forbidden, forbidden, forbidden, forbidden, forbidden,
                forbidden, forbidden,
            ],
        ),
        (
            "leader",
            &leader,
            [ok, ok, ok, ok, ok, ok, ok, ok, ok, forbidden],
        ),
        ("officer", &officer, [ok; 10]),
        ("admin", &admin, [ok; 10]),
        ("other team's leader", &other_leader, [forbidden; 10]),
        (
            "other ward's officer",
            &other_ward,
            [
                not_found, not_found, not_found, not_found, not_found, not_found, not_found,
                not_found, not_found, ok,
            ],
        ),
        ("revoked device", &revoked, [forbidden; 10]),
    ];
    for (who, device, want) in table {
        for (action, want) in ACTIONS.into_iter().zip(want) {
            let (status, body) = act(&server, device, action).await;
            assert_eq!(status, want, "{who} {action:?}: {body}");
            if status != S::OK {
                let code = body["error"].as_str().unwrap_or_default();
                let expect = match (who, status) {
                    ("revoked device", _) => "revoked",
                    (_, S::NOT_FOUND) => "not_found",
                    _ => "forbidden",
                };
                assert_eq!(code, expect, "{who} {action:?}: {body}");
                assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
            }
        }
    }
    // Leader, officer and admin each made six changes.
    assert_eq!(audit_rows(&server, None).await, 18);
    for action in [
        "roster.night",
        "roster.pattern",
        "member.add",
        "member.role",
        "member.code",
        "route.replace",
    ] {
        assert_eq!(audit_rows(&server, Some(action)).await, 3, "{action}");
    }
    // The officer reads all 18, with who made them; another ward's officer reads none.
    let (_, body) = get(&server, &officer, "/api/v1/audit?limit=1000").await;
    let page: AuditResponse = serde_json::from_value(body).unwrap();
    assert_eq!(page.items.len(), 18);
    assert!(!page.more);
    let by = |m: &str| page.items.iter().filter(|r| r.member_id == m).count();
    assert_eq!((by("demo-m1"), by("demo-o1"), by("demo-a1")), (6, 6, 6));
    assert!(page.items.iter().all(|r| r.team_id == TEAM1));
    let leader_rows: Vec<_> = page
        .items
        .iter()
        .filter(|r| r.member_id == "demo-m1")
        .collect();
    assert!(leader_rows.iter().all(|r| r.device_id == leader.id));
    // The code itself is never in the audit.
    let code_row = page
        .items
        .iter()
        .find(|r| r.action == AuditAction::MemberCode)
        .unwrap();
    assert_eq!(code_row.target, "demo-m4");
    assert!(code_row.change.get("code").is_none());
    // Paging: two at a time after the first.
    let (_, body) = get(
        &server,
        &admin,
        &format!("/api/v1/audit?after={}&limit=2", page.items[0].id),
    )
    .await;
    let two: AuditResponse = serde_json::from_value(body).unwrap();
    assert_eq!(two.items, page.items[1..3].to_vec());
    assert!(two.more);
    let (_, body) = get(&server, &other_ward, "/api/v1/audit").await;
    assert_eq!(body["items"], json!([]));
    // Team filter.
    let (_, body) = get(&server, &officer, &format!("/api/v1/audit?team={TEAM2}")).await;
    assert_eq!(body["items"], json!([]));
}

/// Each piece of bad input is a clear 4xx with {error, message}, and nothing is saved: no roster
/// row, no route change, no audit record.
#[tokio::test]
async fn bad_input_is_refused_whole() {
    let server = world().await;
    let leader = Device::enroll(&server, "demo-m1").await;
    let t = format!("/api/v1/team/{TEAM1}");
    let night = |slots: Value| json!({ "night": NIGHT, "slots": slots });
    let cases: Vec<(&str, Method, String, Value, StatusCode, &str)> = vec![
        (
            "a year of five digits",
            Method::PUT,
            format!("{t}/roster/night"),
            json!({ "night": "+99999-05-01", "slots": {} }),
            StatusCode::BAD_REQUEST,
            "YYYY-MM-DD",
        ),
        (
            "twice in one slot",
            Method::PUT,
            format!("{t}/roster/night"),
            night(json!({ "ca1": ["demo-m2", "demo-m3", "demo-m2"] })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "twice",
        ),
        (
            "unknown slot",
            Method::PUT,
            format!("{t}/roster/night"),
            night(json!({ "ca1": ["demo-m2"], "ca9": ["demo-m3"] })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "no shift 'ca9'",
        ),
        (
            "past night",
            Method::PUT,
            format!("{t}/roster/night"),
            json!({ "night": "2020-01-01", "slots": { "ca1": ["demo-m2"] } }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "past",
        ),
        (
            "another team's member",
            Method::PUT,
            format!("{t}/roster/night"),
            night(json!({ "ca1": ["demo-m2", "b-m1"] })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "b-m1",
        ),
        (
            "a pattern starting in the past",
            Method::PUT,
            format!("{t}/roster/pattern"),
            json!({ "from": "2020-01-01", "to": "2099-01-01", "weekly": {} }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "366",
        ),
        (
            "a pattern over the past",
            Method::PUT,
            format!("{t}/roster/pattern"),
            json!({ "from": "2020-01-01", "to": "2020-01-07", "weekly": { "mon": { "ca1": ["demo-m2"] } } }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "past",
        ),
        (
            "a pattern ending before it starts",
            Method::PUT,
            format!("{t}/roster/pattern"),
            json!({ "from": "2099-01-07", "to": "2099-01-01", "weekly": {} }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "end not before start",
        ),
        (
            "no such weekday",
            Method::PUT,
            format!("{t}/roster/pattern"),
            json!({ "from": "2099-01-01", "to": "2099-01-07", "weekly": { "t2": { "ca1": ["demo-m2"] } } }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not a weekday",
        ),
        (
            "a field the API does not know",
            Method::PUT,
            format!("{t}/roster/night"),
            json!({ "night": NIGHT, "slots": {}, "team_id": TEAM2 }),
            StatusCode::BAD_REQUEST,
            "team_id",
        ),
        (
            "a role a leader may not give",
            Method::PUT,
            format!("{t}/members/demo-m2/role"),
            json!({ "role": "officer" }),
            StatusCode::FORBIDDEN,
            "not officer",
        ),
        (
            "adding an admin",
            Method::POST,
            format!("{t}/members"),
            json!({ "name": "X", "role": "admin" }),
            StatusCode::FORBIDDEN,
            "not admin",
        ),
        (
            "demoting an officer",
            Method::PUT,
            format!("{t}/members/demo-o2/role"),
            json!({ "role": "member" }),
            StatusCode::FORBIDDEN,
            "cannot change a officer",
        ),
        (
            "changing one's own role",
            Method::PUT,
            format!("{t}/members/demo-m1/role"),
            json!({ "role": "member" }),
            StatusCode::FORBIDDEN,
            "own role",
        ),
        (
            "no such role",
            Method::PUT,
            format!("{t}/members/demo-m2/role"),
            json!({ "role": "boss" }),
            StatusCode::BAD_REQUEST,
            "boss",
        ),
        (
            "an empty name",
            Method::POST,
            format!("{t}/members"),
            json!({ "name": "  " }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
        ),
        (
            "another team's member's code",
            Method::POST,
            format!("{t}/members/b-m1/code"),
            json!({}),
            StatusCode::NOT_FOUND,
            "b-m1",
        ),
        (
            "a code for too long",
            Method::POST,
            format!("{t}/members/demo-m2/code"),
            json!({ "ttl_minutes": 100000 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "ttl_minutes",
        ),
        (
            "duplicate QR codes",
            Method::PUT,
            format!("{t}/route"),
            json!({ "format": "csv", "text": "name,lat,lon,radius_m,id,qr_code\nA,21.03,105.85,40,a,SAME\nB,21.031,105.851,40,b,SAME\n" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "SAME",
        ),
        (
            "duplicate checkpoint ids",
            Method::PUT,
            format!("{t}/route"),
            json!({ "format": "csv", "text": "name,lat,lon,radius_m,id,qr_code\nA,21.03,105.85,40,a,Q1\nB,21.031,105.851,40,a,Q2\n" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "twice",
        ),
        (
            "a route that is not GeoJSON",
            Method::PUT,
            format!("{t}/route"),
            json!({ "format": "geojson", "text": "{" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not a GeoJSON FeatureCollection",
        ),
        (
            "a CSV route with a coordinate that is not a number",
            Method::PUT,
            format!("{t}/route"),
            json!({ "format": "csv", "text": "name,lat,lon\nA,21.03,105.85\nB,abc,105.85\n" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "line 3, column lat",
        ),
        (
            "an unknown route format",
            Method::PUT,
            format!("{t}/route"),
            json!({ "format": "kml", "text": "" }),
            StatusCode::BAD_REQUEST,
            "kml",
        ),
    ];
    for (what, method, path, body, status, says) in cases {
        let (got, answer) = send(&server, &leader, method, &path, body).await;
        assert_eq!(got, status, "{what}: {answer}");
        assert!(answer["error"].is_string(), "{what}: {answer}");
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{what}: {message}");
    }
    // Broken JSON.
    let resp = reqwest::Client::new()
        .put(format!("{}{t}/roster/night", server.url))
        .bearer_auth(&leader.token)
        .header("content-type", "application/json")
        .body("{\"night\":")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // No token at all.
    let (got, _) = call(&server, None, Method::GET, &format!("{t}/members"), None).await;
    assert_eq!(got, StatusCode::UNAUTHORIZED);
    // Nothing was saved.
    let (rows, cps, roles): (i64, i64, String) = server
        .shared
        .read(|conn| {
            Ok((
                conn.query_row("SELECT COUNT(*) FROM roster", [], |r| r.get(0))?,
                conn.query_row("SELECT COUNT(*) FROM checkpoint WHERE team_id = 'demo-team-1'", [], |r| r.get(0))?,
                conn.query_row("SELECT group_concat(role, ',') FROM (SELECT role FROM member WHERE team_id = 'demo-team-1' ORDER BY id)", [], |r| r.get(0))?,
            ))
        })
        .await
        .unwrap();
    assert_eq!((rows, cps), (0, 5));
    assert_eq!(roles, "leader,member,member,member,officer");
    assert_eq!(audit_rows(&server, None).await, 0);
}

/// A member pulls their own coming assignments as a `roster` feed item (not their teammates'),
/// reads only their own through the roster endpoint, and their phone holds exactly what the latest
/// item says. Replacing a night reaches those who were taken off it too.
#[tokio::test]
async fn a_member_receives_their_own_assignment() {
    let server = world().await;
    let leader = Device::enroll(&server, "demo-m1").await;
    let m2 = Device::enroll(&server, "demo-m2").await;
    let m4 = Device::enroll(&server, "demo-m4").await;
    // The setup came with the enrollment answer: nothing to pull yet.
    let start = m2.pull_after(0).await.last().map_or(0, |i| i.cursor);
    let t = format!("/api/v1/team/{TEAM1}");
    let (status, body) = send(
        &server,
        &leader,
        Method::PUT,
        &format!("{t}/roster/night"),
        json!({ "night": NIGHT, "slots": { "ca1": ["demo-m2", "demo-m3"], "ca2": ["demo-m2"] } }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let roster: RosterResponse = serde_json::from_value(body).unwrap();
    assert_eq!(roster.assignments.len(), 3);

    let items = m2.pull_after(start).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0].kind, ROSTER_KIND);
    let feed: RosterFeed = serde_json::from_value(items[0].payload.clone()).unwrap();
    assert_eq!(feed.member_id, "demo-m2");
    assert_eq!(feed.team_id, TEAM1);
    let got: Vec<(String, String)> = feed
        .assignments
        .iter()
        .map(|a| (a.night.to_string(), a.slot.clone()))
        .collect();
    assert_eq!(
        got,
        [(NIGHT.into(), "ca1".into()), (NIGHT.into(), "ca2".into())]
    );
    // m4 is planned for nothing and receives nothing; the leader reads both members' items.
    assert!(m4.pull_after(start).await.is_empty());
    let kinds: Vec<String> = leader
        .pull_after(start)
        .await
        .into_iter()
        .map(|i| i.kind)
        .collect();
    assert_eq!(kinds, [ROSTER_KIND, ROSTER_KIND]);

    // Through the API a member reads their own assignments only.
    let (status, body) = get(&server, &m2, &format!("{t}/roster?from={NIGHT}&to={NIGHT}")).await;
    assert_eq!(status, StatusCode::OK);
    let own: RosterResponse = serde_json::from_value(body).unwrap();
    assert_eq!(own.assignments.len(), 2);
    assert!(own.assignments.iter().all(|a| a.member_id == "demo-m2"));

    // Taking m2 off the night reaches m2 with an empty list.
    let (status, _) = send(
        &server,
        &leader,
        Method::PUT,
        &format!("{t}/roster/night"),
        json!({ "night": NIGHT, "slots": { "ca1": ["demo-m3", "demo-m4"] } }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let items = m2.pull_after(start).await;
    assert_eq!(items.len(), 2);
    let last: RosterFeed = serde_json::from_value(items[1].payload.clone()).unwrap();
    assert!(last.assignments.is_empty());
    assert_eq!(m4.pull_after(start).await.len(), 1);

    // The member's phone holds what the items say, the latest one winning: planned on both slots
    // after the first, on nothing after the second. Nothing is filed as unreadable.
    let page: PullResponse = {
        let resp = reqwest::Client::new()
            .get(format!("{}/api/v1/pull?after={start}", server.url))
            .bearer_auth(&m2.token)
            .send()
            .await
            .unwrap();
        resp.json().await.unwrap()
    };
    let night: chrono::NaiveDate = NIGHT.parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_file(&dir.path().join("phone.db")).unwrap();
    let first = PullResponse {
        epoch: page.epoch.clone(),
        items: page.items[..1].to_vec(),
        cursor: page.items[0].cursor,
        more: true,
    };
    let done = store.apply_pull(&first, patrol::clock::now()).unwrap();
    assert_eq!((done.applied, done.rejected), (1, 0));
    let held: Vec<(String, String)> = store
        .duties(night)
        .unwrap()
        .into_iter()
        .map(|a| (a.slot, a.member_id))
        .collect();
    assert_eq!(
        held,
        [
            ("ca1".into(), "demo-m2".into()),
            ("ca2".into(), "demo-m2".into())
        ]
    );
    let done = store.apply_pull(&page, patrol::clock::now()).unwrap();
    assert_eq!((done.applied, done.rejected), (2, 0));
    assert!(store.duties(night).unwrap().is_empty());
    let rejected: i64 = store
        .conn()
        .query_row("SELECT COUNT(*) FROM feed_rejected", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rejected, 0);
    assert_eq!(audit_rows(&server, Some("roster.night")).await, 2);
    assert_eq!(audit_rows(&server, None).await, 2);
}

/// A leader adds a member and shows a one-time code: the link carries this server's address, the
/// new phone enrolls with it once, and a second use is refused.
#[tokio::test]
async fn enrollment_in_person_by_a_code_from_the_leader() {
    let server = world().await;
    let leader = Device::enroll(&server, "demo-m1").await;
    let t = format!("/api/v1/team/{TEAM1}");
    let (status, body) = send(
        &server,
        &leader,
        Method::POST,
        &format!("{t}/members"),
        json!({ "name": "Hoàng Văn Mới", "role": "leader" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    assert_eq!(body["role"], "leader");
    assert_eq!(body["left_at"], Value::Null);
    let (status, body) = call(
        &server,
        Some(&leader),
        Method::POST,
        &format!("{t}/members/{id}/code"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let code: IssueCodeResponse = serde_json::from_value(body).unwrap();
    let (origin, from_link) = parse_enroll_link(&code.link).unwrap();
    assert_eq!(origin, server.url);
    assert_eq!(from_link, code.code);
    let left = code.expires_at - patrol::clock::now();
    assert!(left <= chrono::Duration::minutes(15) && left > chrono::Duration::minutes(14));
    let enroll = |device: &'static str| {
        reqwest::Client::new()
            .post(format!("{}/api/v1/enroll", server.url))
            .json(&json!({ "code": code.code, "device_id": device }))
            .send()
    };
    let resp = enroll("new-phone").await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let e: EnrollResponse = resp.json().await.unwrap();
    assert_eq!((e.member_id.as_str(), e.role), (id.as_str(), Role::Leader));
    assert!(e.setup.members.iter().any(|m| m.id == id));
    let resp = enroll("another-phone").await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // The new phone is listed among the team's devices.
    let (_, body) = get(&server, &leader, &format!("{t}/devices")).await;
    let ids: Vec<&str> = body["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"new-phone") && ids.contains(&leader.id.as_str()),
        "{ids:?}"
    );
    assert_eq!(audit_rows(&server, None).await, 2);
    assert_eq!(audit_rows(&server, Some("member.code")).await, 1);
}

/// A lost phone: listed with its last sync and clock offset, revoked by the leader, and its next
/// push refused. Another team's or ward's device cannot be revoked.
#[tokio::test]
async fn a_lost_phone_is_revoked_and_refused() {
    let server = world().await;
    let leader = Device::enroll(&server, "demo-m1").await;
    let other_leader = Device::enroll(&server, "b-l1").await;
    let other_ward = Device::enroll(&server, "w2-o1").await;
    let mut lost = Device::enroll(&server, "demo-m4").await;
    let team2_phone = Device::enroll(&server, "b-m1").await;
    let ward2_phone = Device::enroll(&server, "w2-m1").await;
    let officer_phone = Device::enroll(&server, "demo-o2").await;
    let e = lost.event(
        patrol::wire::event::EventKind::ShiftStarted,
        "s1",
        json!({}),
    );
    lost.push(&[e]).await;
    let t = format!("/api/v1/team/{TEAM1}");

    let (status, body) = get(&server, &leader, &format!("{t}/devices")).await;
    assert_eq!(status, StatusCode::OK);
    let row = body["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == lost.id.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["member_id"], "demo-m4");
    assert!(row["last_seen"].is_string(), "{row}");
    assert!(row["clock_offset_ms"].is_i64(), "{row}");
    assert_eq!(row["revoked_at"], Value::Null);
    // Only team 1's devices are listed.
    assert!(body["devices"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["id"] != team2_phone.id.as_str()));

    // Another team's device through this team, or another ward's: not found. Through the other
    // team's path: forbidden to this leader; and another ward's officer finds no such team.
    for (who, dev, path, want) in [
        (
            "leader, team 2's phone",
            &leader,
            format!("{t}/devices/{}/revoke", team2_phone.id),
            StatusCode::NOT_FOUND,
        ),
        (
            "leader, ward 2's phone",
            &leader,
            format!("{t}/devices/{}/revoke", ward2_phone.id),
            StatusCode::NOT_FOUND,
        ),
        (
            "leader, via team 2",
            &leader,
            format!("/api/v1/team/{TEAM2}/devices/{}/revoke", team2_phone.id),
            StatusCode::FORBIDDEN,
        ),
        (
            "team 2's leader",
            &other_leader,
            format!("{t}/devices/{}/revoke", lost.id),
            StatusCode::FORBIDDEN,
        ),
        (
            "ward 2's officer",
            &other_ward,
            format!("{t}/devices/{}/revoke", lost.id),
            StatusCode::NOT_FOUND,
        ),
        (
            "leader, the phone of an officer of the same team",
            &leader,
            format!("{t}/devices/{}/revoke", officer_phone.id),
            StatusCode::FORBIDDEN,
        ),
        (
            "ward 2's officer, via ward 2's team",
            &other_ward,
            format!("/api/v1/team/t2/devices/{}/revoke", lost.id),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (got, body) = send(&server, dev, Method::POST, &path, json!({})).await;
        assert_eq!(got, want, "{who}: {body}");
    }
    assert_eq!(audit_rows(&server, None).await, 0);

    let (status, body) = send(
        &server,
        &leader,
        Method::POST,
        &format!("{t}/devices/{}/revoke", lost.id),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["revoked_at"].is_string());
    let e = lost.event(
        patrol::wire::event::EventKind::ShiftStarted,
        "s2",
        json!({}),
    );
    let resp = lost.push(&[e]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "revoked");
    // Revoking again says so.
    let (status, _) = send(
        &server,
        &leader,
        Method::POST,
        &format!("{t}/devices/{}/revoke", lost.id),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // The other phones go on (every page answered 200).
    team2_phone.pull_after(0).await;
    assert_eq!(audit_rows(&server, Some("device.revoke")).await, 1);
    assert_eq!(audit_rows(&server, None).await, 1);
}

/// A member who left: their devices are revoked, their coming assignments removed (past nights
/// and records stay), they can be neither planned nor enrolled again, and nobody marks themselves.
#[tokio::test]
async fn a_member_who_left() {
    let server = world().await;
    let leader = Device::enroll(&server, "demo-m1").await;
    let officer = Device::enroll(&server, "demo-o1").await;
    let m3 = Device::enroll(&server, "demo-m3").await;
    let t = format!("/api/v1/team/{TEAM1}");
    let (status, _) = send(
        &server,
        &leader,
        Method::PUT,
        &format!("{t}/roster/night"),
        json!({ "night": NIGHT, "slots": { "ca1": ["demo-m3", "demo-m2"] } }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = send(
        &server,
        &leader,
        Method::POST,
        &format!("{t}/members/demo-m3/code"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let unused = body["code"].as_str().unwrap().to_string();
    let (status, body) = send(
        &server,
        &leader,
        Method::POST,
        &format!("{t}/members/demo-m1/left"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = send(
        &server,
        &leader,
        Method::POST,
        &format!("{t}/members/demo-o2/left"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = send(
        &server,
        &leader,
        Method::POST,
        &format!("{t}/members/demo-m3/left"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["revoked_devices"], json!([m3.id]));
    assert_eq!(body["removed_assignments"], 1);
    assert!(body["member"]["left_at"].is_string());
    assert_eq!(body["member"]["active_devices"], 0);

    let e = {
        let mut m3 = m3;
        let e = m3.event(
            patrol::wire::event::EventKind::ShiftStarted,
            "s1",
            json!({}),
        );
        m3.push(&[e]).await
    };
    assert_eq!(e.status(), StatusCode::FORBIDDEN);
    let (_, body) = get(
        &server,
        &officer,
        &format!("{t}/roster?from={NIGHT}&to={NIGHT}"),
    )
    .await;
    assert_eq!(
        body["assignments"],
        json!([{ "night": NIGHT, "slot": "ca1", "member_id": "demo-m2" }])
    );
    for (what, method, path, body, want) in [
        (
            "plan",
            Method::PUT,
            format!("{t}/roster/night"),
            json!({ "night": NIGHT, "slots": { "ca1": ["demo-m3"] } }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "enroll",
            Method::POST,
            format!("{t}/members/demo-m3/code"),
            json!({}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "role",
            Method::PUT,
            format!("{t}/members/demo-m3/role"),
            json!({ "role": "leader" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "leave again",
            Method::POST,
            format!("{t}/members/demo-m3/left"),
            json!({}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (got, answer) = send(&server, &leader, method, &path, body).await;
        assert_eq!(got, want, "{what}: {answer}");
    }
    // The code issued before they left no longer enrolls a phone.
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/enroll", server.url))
        .json(&json!({ "code": unused, "device_id": "m3-new-phone" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // Listed as having left, after those still in the team.
    let (_, body) = get(&server, &leader, &format!("{t}/members")).await;
    let members = body["members"].as_array().unwrap();
    assert_eq!(members.last().unwrap()["id"], "demo-m3");
    assert_eq!(
        members.iter().filter(|m| m["left_at"].is_string()).count(),
        1
    );
    // The officer may make a member an officer; the leader may make one a leader.
    let (status, body) = send(
        &server,
        &officer,
        Method::PUT,
        &format!("{t}/members/demo-m2/role"),
        json!({ "role": "officer" }),
    )
    .await;
    assert_eq!(
        (status, body["role"].clone()),
        (StatusCode::OK, json!("officer"))
    );
    let (status, _) = send(
        &server,
        &leader,
        Method::PUT,
        &format!("{t}/members/demo-m4/role"),
        json!({ "role": "leader" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // roster.night, member.code, member.left, member.role ×2.
    assert_eq!(audit_rows(&server, None).await, 5);
    assert_eq!(audit_rows(&server, Some("member.left")).await, 1);
}

/// The leader's morning view: planned slots of past nights with no shift run are missed, one run
/// by anyone is not; those due tonight; and the members on no shift lately.
#[tokio::test]
async fn missed_shifts_and_long_absent_members() {
    let server = world().await;
    let leader = Device::enroll(&server, "demo-m1").await;
    let member = Device::enroll(&server, "demo-m2").await;
    let mut runner = Device::enroll(&server, "demo-m2").await;
    // Past nights are written directly (the API refuses to plan them); tonight and tomorrow too,
    // so the answer is right whichever side of local noon the server's clock is on.
    let tz = patrol::domain::shift::DEFAULT_TZ;
    let tonight = patrol::domain::shift::night_of(patrol::clock::now(), tz);
    let back = |n: i64| tonight - chrono::Duration::days(n);
    let rows = vec![
        (back(5), "ca1", "demo-m2"),
        (back(5), "ca2", "demo-m3"),
        (back(6), "ca1", "demo-m4"),
        (tonight, "ca1", "demo-m3"),
        (tonight + chrono::Duration::days(1), "ca1", "demo-m4"),
    ];
    server
        .shared
        .write(move |db| {
            for (night, slot, member) in rows {
                db.conn().execute(
                    "INSERT INTO roster(team_id, night, slot, member_id) VALUES (?1, ?2, ?3, ?4)",
                    rusqlite::params![TEAM1, night.to_string(), slot, member],
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let shift = patrol::domain::records::Shift {
        id: "shift-1".into(),
        team_id: TEAM1.into(),
        slot_code: "ca1".into(),
        night: back(5),
        started_at: patrol::clock::now(),
        members_present: vec!["demo-m2".into()],
        ended_at: None,
        handover_note: None,
    };
    let e = runner.event(
        patrol::wire::event::EventKind::ShiftStarted,
        "shift-1",
        serde_json::to_value(&shift).unwrap(),
    );
    let pushed = runner.push_ok(&[e]).await;
    assert!(pushed.refused.is_empty(), "{:?}", pushed.refused);

    let path = format!("/api/v1/team/{TEAM1}/roster/status");
    let (status, body) = get(&server, &leader, &path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let view: patrol::wire::api::RosterStatusResponse = serde_json::from_value(body).unwrap();
    let missed: Vec<(i64, &str, Vec<String>)> = view
        .missed
        .iter()
        .map(|m| {
            (
                (tonight - m.night).num_days(),
                m.slot.as_str(),
                m.member_ids.clone(),
            )
        })
        .collect();
    assert_eq!(
        missed,
        [
            (6, "ca1", vec!["demo-m4".to_string()]),
            (5, "ca2", vec!["demo-m3".to_string()]),
        ]
    );
    assert_eq!(view.due_tonight.len(), 1, "{:?}", view.due_tonight);
    assert!(view.due_tonight.iter().all(|a| a.night == view.tonight));
    let absent: Vec<&str> = view.absent.iter().map(|a| a.member_id.as_str()).collect();
    assert_eq!(absent, ["demo-m1", "demo-m3", "demo-m4", "demo-o2"]);
    assert_eq!(view.absent_nights, 14);
    // Over a window of 3 nights, demo-m2 (last out 5 nights ago) is absent too.
    let (_, body) = get(&server, &leader, &format!("{path}?absent_nights=3")).await;
    assert_eq!(body["absent"].as_array().unwrap().len(), 5);
    let (status, _) = get(&server, &leader, &format!("{path}?absent_nights=0")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = get(&server, &member, &path).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(audit_rows(&server, None).await, 0);
}

/// The administrator's commands refuse ids of another team or ward, with the reason, and change
/// nothing there: before, `add-member --team <ward 2's team> --id <ward 1's member>` renamed that
/// member and made them leader of their own team, whose every event their phone then read.
#[tokio::test]
async fn the_admin_commands_refuse_ids_of_another_team_or_ward_and_change_nothing() {
    use patrol_server::admin::{self, AdminCommand, RoleArg};
    let server = world().await;
    let m2 = Device::enroll(&server, "demo-m2").await;
    let leader = Device::enroll(&server, "demo-m1").await;
    let members = format!("/api/v1/team/{TEAM1}/members");
    assert_eq!(get(&server, &m2, &members).await.0, StatusCode::FORBIDDEN);
    let (_, before) = get(&server, &leader, &members).await;
    let feed_before = m2.pull_after(0).await.len();
    let run = |cmd: AdminCommand| {
        server
            .shared
            .write(move |db| Ok(admin::run(db, cmd).map_err(|e| e.to_string())))
    };
    let add = |team: &str| AdminCommand::AddMember {
        team: team.into(),
        id: "demo-m2".into(),
        name: "Kẻ Mạo Danh".into(),
        role: RoleArg::Leader,
    };
    let err = run(add("t2")).await.unwrap().unwrap_err();
    assert!(
        err.contains("demo-team-1")
            && err.contains("demo-ward")
            && err.contains("nothing was changed"),
        "{err}"
    );
    let err = run(add(TEAM2)).await.unwrap().unwrap_err();
    assert!(err.contains("demo-team-1"), "{err}");
    let err = run(AdminCommand::CreateTeam {
        ward: "w2".into(),
        id: TEAM1.into(),
        name: "Tổ cướp".into(),
        leader_phone: "0999".into(),
    })
    .await
    .unwrap()
    .unwrap_err();
    assert!(
        err.contains("demo-ward") && err.contains("nothing was changed"),
        "{err}"
    );
    // Nothing changed: the member is still a member, named as before, the team as before, and
    // no setup was published.
    assert_eq!(get(&server, &m2, &members).await.0, StatusCode::FORBIDDEN);
    assert_eq!(get(&server, &leader, &members).await.1, before);
    assert_eq!(m2.pull_after(0).await.len(), feed_before);
    // Within the member's own team the command still changes them.
    run(add(TEAM1)).await.unwrap().unwrap();
    assert_eq!(get(&server, &m2, &members).await.0, StatusCode::OK);
}

/// Who may act is checked before what is sent: a member, another team's leader and another ward's
/// officer sending an empty route learn nothing from a 422 about its content.
#[tokio::test]
async fn who_may_act_is_checked_before_what_is_sent() {
    let server = world().await;
    let route = format!("/api/v1/team/{TEAM1}/route");
    let empty = json!({ "format": "csv", "text": "" });
    for (who, want) in [
        ("demo-m2", StatusCode::FORBIDDEN),
        ("b-l1", StatusCode::FORBIDDEN),
        ("w2-o1", StatusCode::NOT_FOUND),
        ("demo-m1", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let d = Device::enroll(&server, who).await;
        let (status, body) = send(&server, &d, Method::PUT, &route, empty.clone()).await;
        assert_eq!(status, want, "{who}: {body}");
        let (status, _) = send(
            &server,
            &d,
            Method::PUT,
            &format!("/api/v1/team/{TEAM1}/roster/pattern"),
            json!({ "from": "2099-12-28", "to": "2100-01-10", "weekly": { "xyz": {} } }),
        )
        .await;
        assert_eq!(status, want, "{who}: roster pattern");
    }
    assert_eq!(audit_rows(&server, None).await, 0);
}
