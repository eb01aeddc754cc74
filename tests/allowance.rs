//! The night-duty allowance sheet on a real ward server on 127.0.0.1: the figures of pushed
//! shifts as the domain counts them, who may read and mark which team's sheet (a deputy as the
//! leader), marks appended with a reason, a closed month kept as it was closed, and a member's
//! own count.

mod common;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use common::client::Device;
use common::Server;
use patrol::domain::allowance::{MarkKind, NightStatus};
use patrol::domain::records::Shift;
use patrol::domain::ward::Role;
use patrol::wire::api::{AllowanceResponse, AuditResponse, ErrorBody, MyAllowanceResponse};
use patrol::wire::event::EventKind;
use reqwest::StatusCode;
use serde_json::json;

const TEAM1: &str = "demo-team-1";
use common::TEAM2;

/// The seeded server with a deputy and an officer in the demo team, a second team with its leader, and an
/// officer of the ward.
async fn world() -> Server {
    common::start_with_people(
        &[
            (TEAM1, "demo-d1", Role::Deputy),
            (TEAM1, "t1-o1", Role::Officer),
            (TEAM2, "b-l1", Role::Leader),
            (TEAM2, "demo-o1", Role::Officer),
        ],
        |_| {},
    )
    .await
}

/// Local Hà Nội time on `day` at `h`:`m`.
fn local(day: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Ho_Chi_Minh
        .from_local_datetime(&day.and_hms_opt(h, m, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

fn nov(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 11, day).unwrap()
}

/// Pushes one ended shift of `device` on evening `night` from `start` for `minutes`.
async fn shift(
    device: &mut Device,
    id: &str,
    night: NaiveDate,
    start: DateTime<Utc>,
    minutes: i64,
    present: &[&str],
) {
    let s = Shift {
        id: id.into(),
        team_id: TEAM1.into(),
        slot_code: "ca1".into(),
        night,
        started_at: start,
        members_present: present.iter().map(|m| m.to_string()).collect(),
        ended_at: Some(start + Duration::minutes(minutes)),
        handover_note: None,
    };
    let mut started = s.clone();
    started.ended_at = None;
    let mut a = device.event(
        EventKind::ShiftStarted,
        id,
        serde_json::to_value(&started).unwrap(),
    );
    a.client_time = s.started_at;
    let mut b = device.event(EventKind::ShiftEnded, id, serde_json::to_value(&s).unwrap());
    b.client_time = s.ended_at.unwrap();
    let r = device.push_ok(&[a, b]).await;
    assert_eq!((r.stored.len(), r.refused.len()), (2, 0));
}

async fn call(
    server: &Server,
    device: &Device,
    post: Option<serde_json::Value>,
    path: &str,
) -> reqwest::Response {
    let c = reqwest::Client::new();
    let url = format!("{}{path}", server.url);
    let req = match post {
        Some(body) => c.post(url).json(&body),
        None => c.get(url),
    };
    req.bearer_auth(&device.token).send().await.unwrap()
}

async fn sheet(server: &Server, device: &Device, team: &str, month: &str) -> reqwest::Response {
    call(
        server,
        device,
        None,
        &format!("/api/v1/team/{team}/allowance?month={month}"),
    )
    .await
}

async fn ok<T: serde::de::DeserializeOwned>(r: reqwest::Response) -> T {
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn refused(r: reqwest::Response) -> (StatusCode, String) {
    let status = r.status();
    let body: ErrorBody = r.json().await.unwrap();
    assert!(!body.message.is_empty());
    (status, body.error)
}

async fn mark(server: &Server, device: &Device, body: serde_json::Value) -> reqwest::Response {
    call(
        server,
        device,
        Some(body),
        &format!("/api/v1/team/{TEAM1}/allowance/marks"),
    )
    .await
}

/// Twelve nights of November 2025 with four hours inside the window for demo-m2 (demo-m3 on the
/// first three), two nights with 30 minutes inside it, and a shift of December's first night.
async fn november(member: &mut Device) {
    for day in 1..=12 {
        // Night 1 also names an id that is nobody of the team, and the ward's officer.
        let present: &[&str] = if day == 1 {
            &["demo-m2", "demo-m3", "ghost-x", "demo-o1"]
        } else if day <= 3 {
            &["demo-m2", "demo-m3"]
        } else {
            &["demo-m2"]
        };
        shift(
            member,
            &format!("s{day}"),
            nov(day),
            local(nov(day), 22, 0),
            240,
            present,
        )
        .await;
    }
    for day in [20, 21] {
        shift(
            member,
            &format!("short{day}"),
            nov(day),
            local(nov(day), 20, 0),
            150,
            &["demo-m2"],
        )
        .await;
    }
    // 30 November's night runs into 1 December: November's. December 1st's is December's.
    let dec1 = NaiveDate::from_ymd_opt(2025, 12, 1).unwrap();
    shift(member, "s-dec", dec1, local(dec1, 23, 0), 120, &["demo-m2"]).await;
}

#[tokio::test]
async fn the_sheet_counts_pushed_nights_caps_them_and_each_role_reads_what_it_may() {
    let server = world().await;
    let mut member = Device::enroll(&server, "demo-m2").await;
    let leader = Device::enroll(&server, "demo-m1").await;
    let deputy = Device::enroll(&server, "demo-d1").await;
    let other_leader = Device::enroll(&server, "b-l1").await;
    let officer = Device::enroll(&server, "demo-o1").await;
    let other_ward = Device::enroll(&server, "w2-m1").await;
    november(&mut member).await;

    let s: AllowanceResponse = ok(sheet(&server, &leader, TEAM1, "2025-11").await).await;
    assert_eq!(s.team_id, TEAM1);
    assert!(s.closed.is_none());
    let line = |s: &AllowanceResponse, id: &str| {
        s.sheet
            .lines
            .iter()
            .find(|l| l.member.id == id)
            .cloned()
            .unwrap()
    };
    let m2 = line(&s, "demo-m2");
    assert_eq!((m2.paid, m2.over_cap, m2.below_minimum), (10, 2, 2));
    assert_eq!(m2.allowance_vnd, 1_500_000);
    assert_eq!(m2.support_vnd, 6_000_000);
    assert_eq!(
        m2.nights.len(),
        14,
        "December's first night is not November's"
    );
    assert_eq!(m2.nights[0].minutes, 240);
    let m3 = line(&s, "demo-m3");
    assert_eq!((m3.paid, m3.allowance_vnd), (3, 450_000));
    assert!(
        s.sheet
            .lines
            .iter()
            .all(|l| l.member.id != "ghost-x" && l.member.id != "demo-o1"),
        "nobody of the team, and officers, are not on its sheet"
    );
    assert_eq!(
        s.sheet.lines[0].member.id, "demo-m1",
        "the leader first, then the deputy"
    );
    assert_eq!(s.sheet.lines[1].member.role, Role::Deputy);
    assert_eq!(
        (s.sheet.paid, s.sheet.over_cap, s.sheet.allowance_vnd),
        (13, 2, 1_950_000)
    );

    // The deputy and the ward's officer read it too; the same figures.
    let d: AllowanceResponse = ok(sheet(&server, &deputy, TEAM1, "2025-11").await).await;
    assert_eq!(d.sheet, s.sheet);
    let o: AllowanceResponse = ok(sheet(&server, &officer, TEAM1, "2025-11").await).await;
    assert_eq!(o.sheet, s.sheet);
    // A member does not; another team's leader is refused, another ward learns nothing.
    assert_eq!(
        refused(sheet(&server, &member, TEAM1, "2025-11").await).await,
        (StatusCode::FORBIDDEN, "forbidden".into())
    );
    assert_eq!(
        refused(sheet(&server, &other_leader, TEAM1, "2025-11").await).await,
        (StatusCode::FORBIDDEN, "forbidden".into())
    );
    assert_eq!(
        refused(sheet(&server, &other_ward, TEAM1, "2025-11").await).await,
        (StatusCode::NOT_FOUND, "not_found".into())
    );
    for bad in ["2025-13", "2025-1", "+2025-11", "november"] {
        assert_eq!(
            refused(sheet(&server, &leader, TEAM1, bad).await).await.0,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }

    // The member's own count, on their phone.
    let mine: MyAllowanceResponse = ok(call(
        &server,
        &member,
        None,
        "/api/v1/allowance/mine?month=2025-11",
    )
    .await)
    .await;
    assert_eq!(
        (
            mine.paid,
            mine.over_cap,
            mine.cap_nights,
            mine.allowance_vnd,
            mine.closed
        ),
        (10, 2, 10, 1_500_000, false)
    );
}

#[tokio::test]
async fn marks_are_appended_with_a_reason_and_a_closed_month_stays_as_it_was_closed() {
    let server = world().await;
    let mut member = Device::enroll(&server, "demo-m2").await;
    let leader = Device::enroll(&server, "demo-m1").await;
    let deputy = Device::enroll(&server, "demo-d1").await;
    let officer = Device::enroll(&server, "demo-o1").await;
    november(&mut member).await;

    // The deputy adds a night for a member who went without a phone.
    let s: AllowanceResponse = ok(mark(&server, &deputy, json!({
        "member_id": "demo-m4", "night": "2025-11-07", "kind": "add", "reason": "  đi tuần không mang điện thoại "
    })).await).await;
    let m4 = s
        .sheet
        .lines
        .iter()
        .find(|l| l.member.id == "demo-m4")
        .unwrap();
    assert_eq!((m4.paid, m4.nights[0].minutes), (1, 0));
    let note = m4.nights[0].mark.as_ref().unwrap();
    assert_eq!(
        (note.kind, note.reason.as_str(), note.by.as_str()),
        (MarkKind::Add, "đi tuần không mang điện thoại", "demo-d1")
    );
    // The leader takes off one of demo-m2's nights: the first over the cap moves up.
    let s: AllowanceResponse = ok(mark(&server, &leader, json!({
        "member_id": "demo-m2", "night": "2025-11-02", "kind": "remove", "reason": "về sớm, đã báo"
    })).await).await;
    let m2 = s
        .sheet
        .lines
        .iter()
        .find(|l| l.member.id == "demo-m2")
        .unwrap();
    assert_eq!((m2.paid, m2.over_cap), (10, 1));
    assert_eq!(m2.nights[1].status, NightStatus::Removed);

    // Refused, with nothing written: no reason, a member of no team of theirs, a member's token,
    // an officer of the team, a kind that does not exist (its code not compared), and a night
    // still to come.
    let before = audit_marks(&server, &officer).await;
    let body = |member: &str, night: &str, kind: &str, reason: &str| json!({ "member_id": member, "night": night, "kind": kind, "reason": reason });
    let cases = [
        (
            &leader,
            body("demo-m2", "2025-11-03", "remove", "   "),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("invalid"),
        ),
        (
            &leader,
            body("w2-m1", "2025-11-03", "add", "x"),
            StatusCode::NOT_FOUND,
            Some("not_found"),
        ),
        (
            &member,
            body("demo-m2", "2025-11-03", "add", "x"),
            StatusCode::FORBIDDEN,
            Some("forbidden"),
        ),
        // An officer listed in the team is not on its sheet: no mark puts them there.
        (
            &leader,
            body("t1-o1", "2025-11-03", "add", "x"),
            StatusCode::NOT_FOUND,
            Some("not_found"),
        ),
        (
            &leader,
            body("demo-m2", "2025-11-03", "pay_double", "x"),
            StatusCode::BAD_REQUEST,
            None,
        ),
        (
            &leader,
            body("demo-m2", "2100-01-01", "add", "trước"),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("invalid"),
        ),
    ];
    for (device, body, status, code) in cases {
        let (got, error) = refused(mark(&server, device, body.clone()).await).await;
        assert_eq!(got, status, "{body}");
        if let Some(code) = code {
            assert_eq!(error, code, "{body}");
        }
    }
    assert_eq!(audit_marks(&server, &officer).await, before);
    assert_eq!(before, 2);

    // A month not over yet cannot be closed.
    let close = |month: &str| json!({ "month": month });
    let path = format!("/api/v1/team/{TEAM1}/allowance/close");
    assert_eq!(
        refused(call(&server, &leader, Some(close("2100-01")), &path).await)
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // November closed: the sheet as it stood, kept.
    let closed: AllowanceResponse =
        ok(call(&server, &leader, Some(close("2025-11")), &path).await).await;
    assert_eq!(closed.closed.as_ref().unwrap().by, "demo-m1");
    assert_eq!(closed.sheet, s.sheet);
    // Closing again answers the same; nothing more is marked on it.
    let again: AllowanceResponse =
        ok(call(&server, &deputy, Some(close("2025-11")), &path).await).await;
    assert_eq!(again, closed);
    assert_eq!(refused(mark(&server, &leader, json!({
        "member_id": "demo-m3", "night": "2025-11-20", "kind": "add", "reason": "bổ sung"
    })).await).await, (StatusCode::CONFLICT, "month_closed".into()));
    // A shift synced late does not change what was signed; December is still open.
    shift(
        &mut member,
        "late",
        nov(25),
        local(nov(25), 22, 0),
        240,
        &["demo-m2"],
    )
    .await;
    // Nor does a team renamed since: the signed heading stays.
    server
        .shared
        .write(|db| {
            db.upsert_team(
                "demo-ward",
                &patrol::domain::ward::Team {
                    id: TEAM1.into(),
                    name: "Tổ đổi tên".into(),
                    leader_phone: "0900".into(),
                    slots: patrol::domain::shift::default_slots(),
                },
            )
        })
        .await
        .unwrap();
    let read: AllowanceResponse = ok(sheet(&server, &leader, TEAM1, "2025-11").await).await;
    assert_eq!(read, closed);
    assert_ne!(read.team_name, "Tổ đổi tên");
    let dec: AllowanceResponse = ok(mark(
        &server,
        &leader,
        json!({
            "member_id": "demo-m3", "night": "2025-12-01", "kind": "add", "reason": "bổ sung"
        }),
    )
    .await)
    .await;
    assert!(dec.closed.is_none());
    let mine: MyAllowanceResponse = ok(call(
        &server,
        &member,
        None,
        "/api/v1/allowance/mine?month=2025-11",
    )
    .await)
    .await;
    assert_eq!((mine.paid, mine.closed), (10, true));
}

/// How many allowance marks the ward's audit holds.
async fn audit_marks(server: &Server, officer: &Device) -> usize {
    let a: AuditResponse =
        ok(call(server, officer, None, "/api/v1/audit?after=0&limit=200").await).await;
    a.items
        .iter()
        .filter(|i| i.action.code() == "allowance.mark")
        .count()
}
