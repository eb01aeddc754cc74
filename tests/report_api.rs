//! Reports from a real ward server on 127.0.0.1: who may read which scope (decided from the token),
//! the figures of pushed records as the domain's report function gives them, and bad periods.

mod common;

use chrono::{NaiveDate, TimeZone, Utc};
use common::client::Device;
use common::Server;
use patrol::domain::observation::Category;
use patrol::domain::records::{Observation, Shift};
use patrol::domain::tip::{FollowUp, TipStep};
use patrol::domain::ward::Role;
use patrol::wire::api::{ErrorBody, ReportResponse};
use patrol::wire::event::EventKind;
use reqwest::StatusCode;

const TEAM1: &str = "demo-team-1";
use common::TEAM2;

/// The seeded server plus a second team in the demo ward with its leader, an officer of the
/// ward, and an admin.
async fn world() -> Server {
    common::start_with_people(
        &[
            (TEAM2, "b-l1", Role::Leader),
            (TEAM2, "demo-o1", Role::Officer),
            (TEAM1, "demo-a1", Role::Admin),
        ],
        |_| {},
    )
    .await
}

/// The evening patrolled: in the past, so its slots are over whatever day the tests run.
fn evening() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 12, 5).unwrap()
}

/// `e` as written on the phone at `at` (the test device stamps a fixed time otherwise).
fn at(mut e: patrol::wire::event::Event, at: chrono::DateTime<Utc>) -> patrol::wire::event::Event {
    e.client_time = at;
    e
}

/// A shift of ca 1 on 5/12 with two observations (one urgent), the urgent one forwarded.
async fn patrol(member: &mut Device, leader: &mut Device) {
    let shift = Shift {
        id: "s1".into(),
        team_id: TEAM1.into(),
        slot_code: "ca1".into(),
        night: evening(),
        started_at: Utc.with_ymd_and_hms(2025, 12, 5, 13, 5, 0).unwrap(),
        members_present: vec![member.member.clone(), "demo-m3".into()],
        ended_at: Some(Utc.with_ymd_and_hms(2025, 12, 5, 16, 55, 0).unwrap()),
        handover_note: Some("ổn".into()),
    };
    let obs = |id: &str, urgent: bool, hour: u32| Observation {
        id: id.into(),
        shift_id: "s1".into(),
        category: if urgent {
            Category::SnatchTheft
        } else {
            Category::BrokenLightCamera
        },
        description: Some("ghi nhận".into()),
        plate: None,
        people: None,
        action: None,
        urgent,
        fix: None,
        at: Utc.with_ymd_and_hms(2025, 12, 5, hour, 30, 0).unwrap(),
        photos: Vec::new(),
    };
    let mut started = shift.clone();
    started.ended_at = None;
    started.handover_note = None;
    let events = vec![
        at(
            member.event(
                EventKind::ShiftStarted,
                "s1",
                serde_json::to_value(&started).unwrap(),
            ),
            started.started_at,
        ),
        at(
            member.event(
                EventKind::Observed,
                "o1",
                serde_json::to_value(obs("o1", true, 14)).unwrap(),
            ),
            obs("o1", true, 14).at,
        ),
        at(
            member.event(
                EventKind::Observed,
                "o2",
                serde_json::to_value(obs("o2", false, 15)).unwrap(),
            ),
            obs("o2", false, 15).at,
        ),
        at(
            member.event(
                EventKind::ShiftEnded,
                "s1",
                serde_json::to_value(&shift).unwrap(),
            ),
            shift.ended_at.unwrap(),
        ),
    ];
    let r = member.push_ok(&events).await;
    assert_eq!((r.stored.len(), r.refused.len()), (4, 0));
    let step = FollowUp {
        id: "f1".into(),
        observation_id: "o1".into(),
        step: TipStep::Forwarded,
        note: None,
        by: leader.member.clone(),
        after: None,
        at: Utc.with_ymd_and_hms(2025, 12, 5, 16, 0, 0).unwrap(),
    };
    let when = step.at;
    let e = at(
        leader.event(
            EventKind::TipFollowedUp,
            "f1",
            serde_json::to_value(step).unwrap(),
        ),
        when,
    );
    let r = leader.push_ok(&[e]).await;
    assert_eq!((r.stored.len(), r.refused.len()), (1, 0));
}

/// GET /api/v1/report with `query` as `device`.
async fn get(server: &Server, device: &Device, query: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}/api/v1/report?{query}", server.url))
        .bearer_auth(&device.token)
        .send()
        .await
        .unwrap()
}

async fn ok(server: &Server, device: &Device, query: &str) -> ReportResponse {
    let r = get(server, device, query).await;
    assert_eq!(r.status(), StatusCode::OK, "{query} as {}", device.member);
    r.json().await.unwrap()
}

async fn refused(server: &Server, device: &Device, query: &str) -> (StatusCode, String) {
    let r = get(server, device, query).await;
    let status = r.status();
    let body: ErrorBody = r.json().await.unwrap();
    assert!(!body.message.is_empty());
    (status, body.error)
}

const NIGHT: &str = "from=2025-12-05&to=2025-12-05";

#[tokio::test]
async fn each_role_reads_the_scopes_it_may_and_the_figures_are_the_records() {
    let server = world().await;
    let mut member = Device::enroll(&server, "demo-m2").await;
    let mut leader = Device::enroll(&server, "demo-m1").await;
    let other_leader = Device::enroll(&server, "b-l1").await;
    let officer = Device::enroll(&server, "demo-o1").await;
    let admin = Device::enroll(&server, "demo-a1").await;
    let other_ward = Device::enroll(&server, "w2-m1").await;
    patrol(&mut member, &mut leader).await;

    // A member reads no report.
    let q = format!("scope=team&{NIGHT}");
    assert_eq!(
        refused(&server, &member, &q).await,
        (StatusCode::FORBIDDEN, "forbidden".into())
    );

    // The leader reads their team; its figures are the records pushed.
    let r = ok(&server, &leader, &q).await;
    assert_eq!(r.report.teams.len(), 1);
    assert_eq!(r.report.teams[0].team_id, TEAM1);
    let f = &r.report.total;
    assert_eq!(f.shifts.run, 1);
    assert_eq!(
        f.shifts.planned, 2,
        "ca 1 and ca 2 of one evening, both over"
    );
    assert_eq!(f.shifts.not_run, 1, "ca 2 was not run");
    assert_eq!(f.people.member_shifts, 2);
    assert_eq!(f.observations.total, 2);
    assert_eq!(f.observations.urgent, 1);
    assert_eq!(f.observations.category(Category::SnatchTheft), 1);
    assert_eq!(f.tips.outcome(TipStep::Forwarded), 1);
    assert_eq!(f.tips.no_step, 1);
    assert_eq!(f.by_hour.iter().sum::<u64>(), 2);
    assert_eq!(f.by_hour[21], 1, "14:30 UTC is 21:30 in Hà Nội");
    assert_eq!(r.before.shifts.run, 0);
    assert_eq!(r.year_before.shifts.run, 0);

    // ...but not another team, nor the ward, nor the district; another ward's team is unknown.
    for (query, want) in [
        (
            format!("scope=team&id={TEAM2}&{NIGHT}"),
            StatusCode::FORBIDDEN,
        ),
        (format!("scope=ward&{NIGHT}"), StatusCode::FORBIDDEN),
        (format!("scope=district&{NIGHT}"), StatusCode::FORBIDDEN),
        (format!("scope=team&id=t2&{NIGHT}"), StatusCode::NOT_FOUND),
    ] {
        assert_eq!(refused(&server, &leader, &query).await.0, want, "{query}");
    }
    assert_eq!(
        refused(
            &server,
            &other_leader,
            &q.replace("team&", &format!("team&id={TEAM1}&"))
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );

    // The ward's officer reads any team of the ward, and the ward; not another ward.
    let r = ok(&server, &officer, &format!("scope=team&id={TEAM1}&{NIGHT}")).await;
    assert_eq!(r.report.total.observations.total, 2);
    let r = ok(&server, &officer, &format!("scope=ward&{NIGHT}")).await;
    let teams: Vec<&str> = r.report.teams.iter().map(|t| t.team_id.as_str()).collect();
    assert_eq!(teams, [TEAM1, TEAM2]);
    assert_eq!(r.report.total.observations.total, 2);
    assert_eq!(
        r.report.total.shifts.planned, 4,
        "two teams, two slots each"
    );
    assert_eq!(
        refused(&server, &officer, &format!("scope=ward&id=w2&{NIGHT}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        refused(&server, &officer, &format!("scope=district&{NIGHT}"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    // The admin reads the district: every ward the server holds.
    let r = ok(&server, &admin, &format!("scope=district&{NIGHT}")).await;
    let wards: Vec<String> = r.report.wards().into_iter().map(|w| w.ward_id).collect();
    assert_eq!(wards, ["demo-ward", "w2"]);
    assert_eq!(r.report.teams.len(), 3);
    assert_eq!(r.report.total.observations.total, 2);

    // A member of another ward reads nothing either.
    assert_eq!(
        refused(&server, &other_ward, &q).await.0,
        StatusCode::FORBIDDEN
    );

    // The year after, the same evening's report holds this one as its "year before".
    let r = ok(&server, &leader, "scope=team&from=2026-12-05&to=2026-12-05").await;
    assert_eq!(r.report.total.observations.total, 0);
    assert_eq!(r.year_before.observations.total, 2);
}

#[tokio::test]
async fn bad_periods_and_scopes_get_clear_refusals() {
    let server = world().await;
    let leader = Device::enroll(&server, "demo-m1").await;
    for (query, status, code) in [
        (
            "scope=team&from=2026-12-06&to=2026-12-05",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "scope=team&from=2010-01-01&to=2026-01-01",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "scope=team&from=2026-13-01&to=2026-12-05",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "scope=galaxy&from=2026-12-01&to=2026-12-05",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "scope=team&from=2026-12-01",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "scope=team&from=2026-12-01&to=2026-12-05&extra=1",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
    ] {
        assert_eq!(
            refused(&server, &leader, query).await,
            (status, code.to_string()),
            "{query}"
        );
    }
    // A revoked device reads nothing.
    server
        .shared
        .write({
            let id = leader.id.clone();
            move |db| db.revoke(&id, Utc::now())
        })
        .await
        .unwrap();
    assert_eq!(
        refused(&server, &leader, &format!("scope=team&{NIGHT}"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
}
