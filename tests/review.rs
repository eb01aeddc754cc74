//! Leaders following tips to their outcome, against a real ward server on 127.0.0.1: who may send
//! a follow-up, in what order, who reads which feed items, and the announcements an open app
//! listens to.

mod common;

use chrono::{TimeZone, Utc};
use common::client::{Device, Message};
use common::Server;
use patrol::domain::observation::Category;
use patrol::domain::records::{Correction, Observation};
use patrol::domain::review::TeamRecord;
use patrol::domain::tip::{outcome, FollowUp, TipStep};
use patrol::domain::ward::Role;
use patrol::wire::api::{ErrorBody, PushResponse, RefusalCode};
use patrol::wire::event::{Event, EventKind};
use patrol::wire::feed::{FeedBody, FeedItem, SETUP_KIND};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

/// The demo ward's first team.
const TEAM1: &str = "demo-team-1";
use common::TEAM2;

/// The seeded server plus: a second leader of team 1, team 2 of the demo ward (a leader, a
/// member, an officer), and a leader in ward 2.
async fn world() -> Server {
    world_with(|_| {}).await
}

async fn world_with(tune: impl FnOnce(&mut patrol_server::app::ServerConfig)) -> Server {
    let server = common::start_with_people(
        &[
            (TEAM1, "demo-l2", Role::Leader),
            (TEAM2, "b-l1", Role::Leader),
            (TEAM2, "b-m1", Role::Member),
            (TEAM2, "demo-o1", Role::Officer),
            ("t2", "w2-l1", Role::Leader),
        ],
        tune,
    )
    .await;
    server
        .shared
        .write(|db| {
            let route = patrol::domain::route_file::checkpoints_from_csv(
                "name,lat,lon\nChợ Hôm,21.017,105.852\n",
            )?;
            db.set_route(TEAM2, &route)
        })
        .await
        .unwrap();
    server
}

/// An observation record under `id`, as a phone pushes it.
fn observation(device: &mut Device, id: &str) -> Event {
    let record = Observation {
        id: id.into(),
        shift_id: format!("shift-{}", device.member),
        category: Category::FireHazard,
        description: Some("Dây điện chập chờn".into()),
        plate: None,
        people: None,
        action: None,
        urgent: true,
        fix: None,
        at: Utc.with_ymd_and_hms(2026, 12, 5, 15, 0, 0).unwrap(),
        photos: Vec::new(),
    };
    device.event(
        EventKind::Observed,
        id,
        serde_json::to_value(record).unwrap(),
    )
}

/// A step by `device`'s member on observation `tip`, following `after`.
fn step(device: &mut Device, id: &str, tip: &str, s: TipStep, after: Option<&str>) -> Event {
    let f = FollowUp {
        id: id.into(),
        observation_id: tip.into(),
        step: s,
        note: Some("Đã báo công an phường".into()),
        by: device.member.clone(),
        after: after.map(Into::into),
        at: Utc.with_ymd_and_hms(2026, 12, 5, 16, 0, 0).unwrap(),
    };
    device.event(
        EventKind::TipFollowedUp,
        id,
        serde_json::to_value(f).unwrap(),
    )
}

/// Pushes one event and gives the refusal code, if any; a stored event is acknowledged.
async fn push_one(device: &Device, e: Event) -> Option<RefusalCode> {
    let r = device.push_ok(std::slice::from_ref(&e)).await;
    assert_eq!(r.stored.len() + r.refused.len(), 1, "{r:?}");
    assert_eq!(
        r.stored_through, e.seq,
        "a refusal settles its sequence too"
    );
    r.refused.first().map(|x| x.code)
}

/// The codes logged in the server's refusal table for `event_id`.
async fn logged(server: &Server, event_id: &str) -> Vec<String> {
    let id = event_id.to_string();
    server
        .shared
        .write(move |db| {
            let mut stmt = db
                .conn()
                .prepare("SELECT code FROM refusal WHERE event_id = ?1")?;
            let codes = stmt.query_map([&id], |r| r.get(0))?;
            Ok(codes.collect::<Result<Vec<String>, _>>()?)
        })
        .await
        .unwrap()
}

/// The event ids of the event items among `items`, in feed order.
fn event_ids(items: &[FeedItem]) -> Vec<String> {
    items
        .iter()
        .filter(|i| i.kind != SETUP_KIND)
        .map(|i| match i.body().unwrap() {
            FeedBody::Event(e) => e.event_id,
            FeedBody::Setup(_) => unreachable!("a setup item is of kind setup"),
            FeedBody::Roster(_) => unreachable!("no roster is planned in these tests"),
        })
        .collect()
}

/// The teams of the setup items among `items` (read from the payload: a team's first snapshots,
/// published before it has members, break a setup rule and are refused by phones).
fn setup_teams(items: &[FeedItem]) -> Vec<String> {
    items
        .iter()
        .filter(|i| i.kind == SETUP_KIND)
        .map(|i| i.payload["team"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn who_may_follow_up_a_tip() {
    let server = world().await;
    let mut member = Device::enroll(&server, "demo-m2").await;
    let mut leader = Device::enroll(&server, "demo-m1").await;
    let mut other_leader = Device::enroll(&server, "b-l1").await;
    let mut officer = Device::enroll(&server, "demo-o1").await;
    let mut other_ward = Device::enroll(&server, "w2-l1").await;
    let obs = observation(&mut member, "obs-1");
    assert_eq!(push_one(&member, obs).await, None);

    // A member's follow-up, even on their own tip: refused, and the refusal logged.
    let e = step(&mut member, "f-m", "obs-1", TipStep::Forwarded, None);
    let id = e.event_id.clone();
    assert_eq!(push_one(&member, e).await, Some(RefusalCode::Forbidden));
    assert_eq!(logged(&server, &id).await, ["forbidden"]);
    // A leader of another team of the ward: refused, logged.
    let e = step(&mut other_leader, "f-b", "obs-1", TipStep::Forwarded, None);
    let id = e.event_id.clone();
    assert_eq!(
        push_one(&other_leader, e).await,
        Some(RefusalCode::Forbidden)
    );
    assert_eq!(logged(&server, &id).await, ["forbidden"]);
    // A leader of another ward: the tip is unknown there.
    let e = step(&mut other_ward, "f-w", "obs-1", TipStep::Forwarded, None);
    let id = e.event_id.clone();
    assert_eq!(
        push_one(&other_ward, e).await,
        Some(RefusalCode::UnknownTip)
    );
    assert_eq!(logged(&server, &id).await, ["unknown_tip"]);
    // A tip nobody recorded.
    let e = step(&mut leader, "f-x", "obs-nope", TipStep::Forwarded, None);
    assert_eq!(push_one(&leader, e).await, Some(RefusalCode::UnknownTip));
    // The team's leader: stored.
    let e = step(&mut leader, "f-1", "obs-1", TipStep::Forwarded, None);
    assert_eq!(push_one(&leader, e).await, None);
    // An officer of the ward, whose own team is team 2: stored for team 1's tip.
    let e = step(&mut officer, "f-2", "obs-1", TipStep::Valuable, Some("f-1"));
    assert_eq!(push_one(&officer, e).await, None);
    // A leader signing in someone else's name.
    let mut forged = step(&mut leader, "f-3", "obs-1", TipStep::Resolved, Some("f-2"));
    forged.payload["by"] = json!("demo-o1");
    assert_eq!(
        push_one(&leader, forged).await,
        Some(RefusalCode::Forbidden)
    );
    assert_eq!(
        server.shared.write(|db| db.event_counts()).await.unwrap(),
        (3, 3),
        "the observation and the two steps"
    );
}

#[tokio::test]
async fn steps_only_move_forward_and_bad_ones_never_cost_the_good() {
    let server = world().await;
    let mut member = Device::enroll(&server, "demo-m2").await;
    let mut leader = Device::enroll(&server, "demo-m1").await;
    let obs = observation(&mut member, "obs-1");
    member.push_ok(&[obs]).await;

    let good = [
        step(&mut leader, "f-1", "obs-1", TipStep::Forwarded, None),
        step(&mut leader, "f-2", "obs-1", TipStep::Resolved, Some("f-1")),
    ];
    let r = leader.push_ok(&good).await;
    assert_eq!((r.stored.len(), r.refused.len()), (2, 0), "{r:?}");
    // Resolving twice, forwarding a resolved tip.
    let e = step(&mut leader, "f-3", "obs-1", TipStep::Resolved, Some("f-2"));
    assert_eq!(push_one(&leader, e).await, Some(RefusalCode::OutOfOrder));
    let e = step(&mut leader, "f-4", "obs-1", TipStep::Forwarded, Some("f-2"));
    assert_eq!(push_one(&leader, e).await, Some(RefusalCode::OutOfOrder));
    // A step following none on the resolved tip; a step under an id the tip already has.
    let e = step(&mut leader, "f-x", "obs-1", TipStep::Forwarded, None);
    assert_eq!(push_one(&leader, e).await, Some(RefusalCode::OutOfOrder));
    let e = step(&mut leader, "f-1", "obs-1", TipStep::Forwarded, None);
    assert_eq!(push_one(&leader, e).await, Some(RefusalCode::Conflict));

    // One batch: a good observation, a note of 501 characters, a payload that is no follow-up,
    // a step after one the tip does not have, a good step (after one stored earlier in the same
    // batch), and a step out of order after that one.
    let obs2 = observation(&mut leader, "obs-2");
    let mut long = step(&mut leader, "f-5", "obs-2", TipStep::Forwarded, None);
    long.payload["note"] = json!("n".repeat(501));
    let mut junk = step(&mut leader, "f-6", "obs-2", TipStep::Forwarded, None);
    junk.payload = json!({"id": "f-6", "step": "closed"});
    let orphan = step(
        &mut leader,
        "f-7",
        "obs-2",
        TipStep::Valuable,
        Some("f-nope"),
    );
    let first = step(&mut leader, "f-8", "obs-2", TipStep::Forwarded, None);
    let second = step(&mut leader, "f-9", "obs-2", TipStep::Valuable, Some("f-8"));
    let late = step(
        &mut leader,
        "f-10",
        "obs-2",
        TipStep::Forwarded,
        Some("f-9"),
    );
    let batch = [obs2, long, junk, orphan, first, second, late];
    let ids: Vec<String> = batch.iter().map(|e| e.event_id.clone()).collect();
    let r: PushResponse = leader.push_ok(&batch).await;
    assert_eq!(r.stored, [ids[0].clone(), ids[4].clone(), ids[5].clone()]);
    assert_eq!(r.refused.len(), 4, "{r:?}");
    let codes: Vec<RefusalCode> = r.refused.iter().map(|x| x.code).collect();
    assert_eq!(
        codes,
        [
            RefusalCode::BadPayload,
            RefusalCode::BadPayload,
            RefusalCode::BadPayload,
            RefusalCode::OutOfOrder
        ]
    );
    assert!(
        r.refused[0].message.contains("500"),
        "the note's limit is said: {}",
        r.refused[0].message
    );
    assert_eq!(r.stored_through, batch.last().unwrap().seq);
    for (id, code) in [
        (&ids[1], "bad_payload"),
        (&ids[2], "bad_payload"),
        (&ids[3], "bad_payload"),
        (&ids[6], "out_of_order"),
    ] {
        assert_eq!(logged(&server, id).await, [code]);
    }
    // A re-send of the stored steps is acknowledged again, though the tip has moved on.
    let again = leader.push_ok(&batch[4..6]).await;
    assert_eq!((again.stored.len(), again.refused.len()), (2, 0));
}

#[tokio::test]
async fn two_leaders_offline_answering_the_same_step_are_both_kept() {
    let server = world().await;
    let mut member = Device::enroll(&server, "demo-m2").await;
    let mut leader = Device::enroll(&server, "demo-m1").await;
    let mut deputy = Device::enroll(&server, "demo-l2").await;
    let obs = observation(&mut member, "obs-1");
    member.push_ok(&[obs]).await;
    let fwd = step(&mut leader, "f-1", "obs-1", TipStep::Forwarded, None);
    leader.push_ok(&[fwd]).await;
    // Both saw the tip forwarded, then answered it offline.
    let a = step(&mut leader, "f-a", "obs-1", TipStep::Valuable, Some("f-1"));
    let b = step(&mut deputy, "f-b", "obs-1", TipStep::Unfounded, Some("f-1"));
    assert_eq!(push_one(&deputy, b).await, None);
    assert_eq!(push_one(&leader, a).await, None);
    // The member reads all three steps of their tip, and the outcome rule shows the higher rank.
    let steps: Vec<FollowUp> = member
        .pull_after(0)
        .await
        .iter()
        .filter_map(|i| match i.body().unwrap() {
            FeedBody::Event(e) if e.kind == EventKind::TipFollowedUp => {
                Some(serde_json::from_value(e.payload).unwrap())
            }
            _ => None,
        })
        .collect();
    let ids: Vec<&str> = steps.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["f-1", "f-b", "f-a"]);
    let state = outcome(&steps);
    assert_eq!(state.outcome, Some(TipStep::Unfounded));
    assert!(state.answered_twice);
}

#[tokio::test]
async fn each_role_reads_what_it_reaches_and_nothing_of_another_ward() {
    let server = world().await;
    let mut m2 = Device::enroll(&server, "demo-m2").await;
    let mut m3 = Device::enroll(&server, "demo-m3").await;
    let mut b_m1 = Device::enroll(&server, "b-m1").await;
    let mut w2_m1 = Device::enroll(&server, "w2-m1").await;
    let mut leader = Device::enroll(&server, "demo-m1").await;
    let b_leader = Device::enroll(&server, "b-l1").await;
    let mut officer = Device::enroll(&server, "demo-o1").await;
    let w2_leader = Device::enroll(&server, "w2-l1").await;

    let o1 = observation(&mut m2, "obs-1");
    let o2 = observation(&mut m3, "obs-2");
    let o3 = observation(&mut b_m1, "obs-3");
    let o4 = observation(&mut w2_m1, "obs-4");
    let f1 = step(&mut leader, "f-1", "obs-1", TipStep::Forwarded, None);
    let f2 = step(&mut officer, "f-2", "obs-3", TipStep::Forwarded, None);
    let f3 = step(&mut officer, "f-3", "obs-2", TipStep::Unfounded, None);
    let ids = [&o1, &o2, &o3, &o4, &f1, &f2, &f3].map(|e| e.event_id.clone());
    for (device, e) in [
        (&m2, o1),
        (&m3, o2),
        (&b_m1, o3),
        (&w2_m1, o4),
        (&leader, f1),
        (&officer, f2),
        (&officer, f3),
    ] {
        assert_eq!(push_one(device, e).await, None);
    }
    let [o1, o2, o3, o4, f1, f2, f3] = ids;

    let cases: [(&Device, &str, Vec<&str>); 8] = [
        // A member: the steps on their own tip, nobody's events.
        (&m2, TEAM1, vec![f1.as_str()]),
        (&m3, TEAM1, vec![f3.as_str()]),
        (&b_m1, TEAM2, vec![f2.as_str()]),
        // A leader: the team's events, steps by an officer of another team included.
        (
            &leader,
            TEAM1,
            vec![o1.as_str(), o2.as_str(), f1.as_str(), f3.as_str()],
        ),
        (&b_leader, TEAM2, vec![o3.as_str(), f2.as_str()]),
        // An officer: every team of the ward, and their own team's setups only.
        (
            &officer,
            TEAM2,
            vec![
                o1.as_str(),
                o2.as_str(),
                o3.as_str(),
                f1.as_str(),
                f2.as_str(),
                f3.as_str(),
            ],
        ),
        // Ward 2: its own and nothing else.
        (&w2_m1, "t2", vec![]),
        (&w2_leader, "t2", vec![o4.as_str()]),
    ];
    // Each device has its team's setup from its enrollment answer; a setup published since is
    // pulled by its team's devices only.
    server
        .shared
        .write(|db| {
            for team in [TEAM1, TEAM2, "t2"] {
                db.set_slots(team, &patrol::domain::shift::default_slots())?;
            }
            Ok(())
        })
        .await
        .unwrap();
    for (device, team, want) in cases {
        let items = device.pull_after(0).await;
        assert_eq!(event_ids(&items), want, "{}", device.member);
        let teams = setup_teams(&items);
        assert!(
            !teams.is_empty(),
            "{} reads its team's setup",
            device.member
        );
        assert!(
            teams.iter().all(|t| t == team),
            "{}: {teams:?}",
            device.member
        );
    }
}

#[tokio::test]
async fn a_revoked_device_is_refused_on_push_and_on_announce() {
    let server = world().await;
    let mut officer = Device::enroll(&server, "demo-o1").await;
    let device = officer.id.clone();
    server
        .shared
        .write(move |db| db.revoke(&device, Utc::now()))
        .await
        .unwrap();
    let e = step(&mut officer, "f-1", "obs-1", TipStep::Forwarded, None);
    let r = officer.push(&[e]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.json::<ErrorBody>().await.unwrap().error, "revoked");
    let r = officer.announce().await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.json::<ErrorBody>().await.unwrap().error, "revoked");
    assert_eq!(server.shared.announcer().open_streams(), 0);
}

#[tokio::test]
async fn an_open_leader_app_hears_of_a_new_observation_and_a_member_only_of_their_own_tips() {
    let server = world().await;
    let mut m2 = Device::enroll(&server, "demo-m2").await;
    let mut m3 = Device::enroll(&server, "demo-m3").await;
    let mut leader = Device::enroll(&server, "demo-m1").await;
    // m2's own observation, before anyone listens (a member does not read observations).
    let o1 = observation(&mut m2, "obs-1");
    m2.push_ok(&[o1]).await;

    let mut leader_hears = leader.listen().await;
    let mut m2_hears = m2.listen().await;
    assert_eq!(server.shared.announcer().open_streams(), 2);

    // Another member's urgent observation: the leader hears of it and pulls it.
    let o2 = observation(&mut m3, "obs-2");
    let o2_id = o2.event_id.clone();
    m3.push_ok(&[o2]).await;
    let cursor = leader_hears.next_feed(60).await;
    let items = leader.pull_after(cursor - 1).await;
    assert_eq!(items.first().map(|i| i.cursor), Some(cursor));
    assert_eq!(event_ids(&items[..1]), [o2_id]);

    // Then the leader forwards m2's tip: the first thing m2's stream says is that step, so it
    // said nothing of m3's observation before it.
    let f1 = step(&mut leader, "f-1", "obs-1", TipStep::Forwarded, None);
    let f1_id = f1.event_id.clone();
    leader.push_ok(&[f1]).await;
    let heard = m2_hears.next_feed(60).await;
    let items = m2.pull_after(heard - 1).await;
    assert_eq!(event_ids(&items), [f1_id]);
    assert_eq!(items[0].cursor, heard);
    assert!(heard > cursor);
    // The leader reads its own step too.
    assert_eq!(leader_hears.next_feed(60).await, heard);
}

#[tokio::test]
async fn streams_are_capped_per_device_and_in_all_and_end_when_the_server_stops() {
    let server = world_with(|c| {
        c.announce.per_device = 2;
        c.announce.total = 3;
    })
    .await;
    let leader = Device::enroll(&server, "demo-m1").await;
    let member = Device::enroll(&server, "demo-m2").await;
    let mut a = leader.listen().await;
    let _b = leader.listen().await;
    let third = leader.announce().await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        third.json::<ErrorBody>().await.unwrap().error,
        "too_many_streams"
    );
    let _c = member.listen().await;
    let over = member.announce().await;
    assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(server.shared.announcer().open_streams(), 3);
    // Shutting down ends the streams.
    drop(server);
    let end = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(m) = a.next().await {
            assert!(matches!(m, Message::Comment(_)), "{m:?}");
        }
    })
    .await;
    assert!(end.is_ok(), "the stream ended with the server");
}

#[tokio::test]
async fn a_quiet_stream_outlives_the_header_and_request_timeouts() {
    let server = world_with(|c| {
        c.conn.header_timeout = Duration::from_secs(1);
        c.timeouts.total = Duration::from_secs(1);
        c.announce.keep_alive = Duration::from_millis(500);
    })
    .await;
    let leader = Device::enroll(&server, "demo-m1").await;
    let mut hears = leader.listen().await;
    // Six keep-alives take three seconds, past both one-second limits.
    for _ in 0..6 {
        let m = tokio::time::timeout(Duration::from_secs(60), hears.next())
            .await
            .expect("a keep-alive in time");
        assert_eq!(m, Some(Message::Comment("keep-alive".into())));
    }
    assert_eq!(server.shared.announcer().open_streams(), 1);
}

/// A record of ward 2 that names a record of ward 1 (a correction whose target is ward 1's
/// observation, with a new category): whatever is stored of it stays ward 2's. Ward 1's leader
/// never pulls it, and ward 1's team records (what its logs and reports are made of) do not hold
/// it.
#[tokio::test]
async fn a_correction_naming_another_wards_record_changes_nothing_there() {
    let server = world().await;
    let mut m2 = Device::enroll(&server, "demo-m2").await;
    let mut w2_m1 = Device::enroll(&server, "w2-m1").await;
    let leader = Device::enroll(&server, "demo-m1").await;
    let o1 = observation(&mut m2, "obs-1");
    assert_eq!(push_one(&m2, o1).await, None);
    let fix = Correction {
        id: "c-w2".into(),
        shift_id: format!("shift-{}", w2_m1.member),
        target_id: "obs-1".into(),
        text: "Sửa loại sự việc".into(),
        new_category: Some(Category::Drugs),
        at: Utc.with_ymd_and_hms(2026, 12, 5, 15, 30, 0).unwrap(),
        photos_added: Vec::new(),
        photos_removed: Vec::new(),
    };
    let e = w2_m1.event(
        EventKind::Corrected,
        "c-w2",
        serde_json::to_value(fix).unwrap(),
    );
    let correction = e.event_id.clone();
    // Stored, as ward 2's own record: what follows would pass trivially on a refusal.
    assert_eq!(push_one(&w2_m1, e).await, None);
    let pulled = event_ids(&leader.pull_after(0).await);
    assert!(!pulled.contains(&correction), "{pulled:?}");
    let (records, _) = server
        .shared
        .read(|conn| patrol_server::db::review::team_records(conn, TEAM1, "", "~"))
        .await
        .unwrap();
    assert!(
        !records
            .iter()
            .any(|r| matches!(r, TeamRecord::Correction(c) if c.id == "c-w2")),
        "ward 1's records hold no correction of ward 2"
    );
    assert!(
        records
            .iter()
            .any(|r| matches!(r, TeamRecord::Observation(o) if o.id == "obs-1")),
        "ward 1's observation is there, as it was"
    );
}
