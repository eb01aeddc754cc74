//! What the server does with one pushed event: a pure decision over the event, the token's device
//! and what is already stored, so every rule is a row in a table test.

use crate::audience::{Audience, Reach};
use crate::db::enrollment::DeviceAuth;
use patrol_domain::photo::{self, PhotoHash, PhotoRef};
use patrol_domain::tip::{self, FollowUp, TipError};
use patrol_wire::api::{RefusalCode, MAX_PAYLOAD_BYTES};
use patrol_wire::event::{Event, EventKind};
use serde::Deserialize;

/// What is already stored that bears on an event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stored {
    /// An event with the same id: (its content hash, its device).
    pub same_id: Option<(String, String)>,
    /// The device's sequence number is already another event (looked up only when no event
    /// has the same id, the only case where it decides anything).
    pub seq_taken: bool,
    /// An observation: another observation already has its id (looked up for a new id only).
    pub observation_taken: bool,
    /// A tip follow-up: the observation it names, if the server holds one by that id (looked up
    /// for a new id whose payload names an observation).
    pub tip: Option<Tip>,
}

/// What the server holds about the observation a follow-up names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tip {
    /// The observation's team.
    pub team_id: String,
    /// That team's ward.
    pub ward_id: String,
    /// The member whose device pushed the observation.
    pub author: String,
    /// The steps already stored for it, earlier events of the same batch included.
    pub steps: Vec<FollowUp>,
}

/// The photos a stored observation or correction names, recorded with it so that its device may
/// upload them and the observation's readers read them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NamedPhotos {
    /// The observation they belong to (a correction's target).
    pub observation_id: String,
    /// The photos, each a prepared photo and its thumbnail; empty for every other record.
    pub refs: Vec<PhotoRef>,
    /// Photos a correction takes off the observation (by the prepared photo's hash).
    pub removed: Vec<PhotoHash>,
}

impl NamedPhotos {
    /// Whether the record names no photo and takes none off.
    pub fn is_empty(&self) -> bool {
        self.refs.is_empty() && self.removed.is_empty()
    }
}

/// The decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// New: store it, give it to this audience in the feed, and record the photos it names.
    Store(Audience, NamedPhotos),
    /// Already stored with the same content (a re-send): acknowledge, write nothing.
    AlreadyStored,
    /// Refused, with a stable code and words; the refusal is logged.
    Refuse(RefusalCode, String),
}

/// Largest id (event, entity) the server accepts, in bytes.
pub const MAX_ID_LEN: usize = 64;

/// Decides what to do with `e`, sent with `auth`'s token, whose payload is `payload_len` bytes of
/// JSON with content hash `hash`, given what is `stored`. A re-send is acknowledged before any
/// rule on the payload is applied, so an event once stored stays acknowledged.
pub fn decide(
    auth: &DeviceAuth,
    e: &Event,
    payload_len: usize,
    hash: &str,
    stored: &Stored,
) -> Decision {
    if e.device_id != auth.device_id {
        return Decision::Refuse(
            RefusalCode::BadDevice,
            format!(
                "event from device {} sent with another device's token",
                e.device_id
            ),
        );
    }
    if e.seq < 1
        || e.event_id.is_empty()
        || e.event_id.len() > MAX_ID_LEN
        || e.entity_id.len() > MAX_ID_LEN
    {
        return Decision::Refuse(
            RefusalCode::BadSeq,
            format!("sequence must be ≥ 1 and ids 1–{MAX_ID_LEN} characters"),
        );
    }
    if payload_len > MAX_PAYLOAD_BYTES {
        return Decision::Refuse(
            RefusalCode::TooLarge,
            format!("payload is {payload_len} bytes; at most {MAX_PAYLOAD_BYTES}"),
        );
    }
    match &stored.same_id {
        Some((h, dev)) if h == hash && dev == &auth.device_id => return Decision::AlreadyStored,
        Some(_) => {
            return Decision::Refuse(
                RefusalCode::Conflict,
                "an event with this id and other content is already stored; the original is kept"
                    .into(),
            )
        }
        None if stored.seq_taken => {
            return Decision::Refuse(
                RefusalCode::Conflict,
                format!("sequence {} of this device is already another event", e.seq),
            )
        }
        None => {}
    }
    if !e.payload.is_object() {
        return Decision::Refuse(
            RefusalCode::BadPayload,
            "the payload must be a JSON object (the record)".into(),
        );
    }
    match e.kind {
        EventKind::TipFollowedUp => follow_up(auth, e, stored.tip.as_ref()),
        EventKind::Observed if stored.observation_taken => Decision::Refuse(
            RefusalCode::Conflict,
            format!(
                "another observation already has id {}; the original is kept",
                e.entity_id
            ),
        ),
        EventKind::Observed | EventKind::Corrected => match photos_named(e) {
            Ok(named) => Decision::Store(Audience::team_log(auth), named),
            Err(message) => Decision::Refuse(RefusalCode::BadPayload, message),
        },
        _ => Decision::Store(Audience::team_log(auth), NamedPhotos::default()),
    }
}

/// The photo fields of an observation's payload (the rest is not read here).
#[derive(Deserialize)]
struct ObservationPhotos {
    #[serde(default)]
    photos: Vec<PhotoRef>,
}

/// The photo fields of a correction's payload.
#[derive(Deserialize)]
struct CorrectionPhotos {
    target_id: Option<String>,
    #[serde(default)]
    photos_added: Vec<PhotoRef>,
    #[serde(default)]
    photos_removed: Vec<PhotoHash>,
}

/// The photos an `observed` or `corrected` event names, checked by [`photo::validate_refs`]
/// (at most four, each within the limits, none twice); the words of the refusal otherwise.
/// Records of other kinds, and records without photos, name none.
pub fn photos_named(e: &Event) -> Result<NamedPhotos, String> {
    let bad = |err: &dyn std::fmt::Display| format!("bad photo references: {err}");
    let named = match e.kind {
        EventKind::Observed => {
            let o = ObservationPhotos::deserialize(&e.payload).map_err(|err| bad(&err))?;
            NamedPhotos {
                observation_id: e.entity_id.clone(),
                refs: o.photos,
                removed: Vec::new(),
            }
        }
        EventKind::Corrected => {
            let c = CorrectionPhotos::deserialize(&e.payload).map_err(|err| bad(&err))?;
            match c.target_id {
                Some(target) if !target.is_empty() && target.len() <= MAX_ID_LEN => NamedPhotos {
                    observation_id: target,
                    refs: c.photos_added,
                    removed: c.photos_removed,
                },
                _ if c.photos_added.is_empty() && c.photos_removed.is_empty() => {
                    NamedPhotos::default()
                }
                _ => return Err(bad(&"a correction changing photos names no observation")),
            }
        }
        _ => NamedPhotos::default(),
    };
    photo::validate_refs(&named.refs).map_err(|err| bad(&err))?;
    if named.removed.len() > photo::MAX_PHOTOS * 4 {
        return Err(bad(&"too many photos taken off"));
    }
    if named.is_empty() {
        return Ok(NamedPhotos::default());
    }
    Ok(named)
}

/// The observation a follow-up's payload names, to look up before [`decide`]; `None` when the
/// payload is not a follow-up ([`decide`] then refuses it).
pub fn tip_named(e: &Event) -> Option<String> {
    (e.kind == EventKind::TipFollowedUp)
        .then(|| FollowUp::deserialize(&e.payload).ok())
        .flatten()
        .map(|f| f.observation_id)
}

/// The rules of a tip follow-up: a well-formed record under the event's id, from a leader (for
/// their team's tips) or an officer or admin (for their ward's), in their own name, on an
/// observation the server holds, after a step it holds and in the order [`tip::allowed`] gives.
/// An observation of another ward is answered as unknown, so nothing of another ward is revealed.
fn follow_up(auth: &DeviceAuth, e: &Event, tip: Option<&Tip>) -> Decision {
    let refuse = |code, message: String| Decision::Refuse(code, message);
    let f = match FollowUp::deserialize(&e.payload) {
        Ok(f) => f,
        Err(err) => {
            return refuse(
                RefusalCode::BadPayload,
                format!("not a tip follow-up: {err}"),
            )
        }
    };
    if f.id != e.entity_id {
        return refuse(
            RefusalCode::BadPayload,
            format!(
                "the follow-up's id {} is not the event's entity_id {}",
                f.id, e.entity_id
            ),
        );
    }
    let reach = Reach::of(auth.role);
    if reach == Reach::Own {
        return refuse(
            RefusalCode::Forbidden,
            "a member's device may not follow up tips; leaders, officers and admins do".into(),
        );
    }
    if f.by != auth.member_id {
        return refuse(
            RefusalCode::Forbidden,
            format!(
                "the follow-up is signed by {}, but this device is {}'s",
                f.by, auth.member_id
            ),
        );
    }
    let Some(tip) = tip.filter(|t| t.ward_id == auth.ward_id) else {
        return refuse(
            RefusalCode::UnknownTip,
            format!("no observation {} in this ward", f.observation_id),
        );
    };
    if reach == Reach::Team && tip.team_id != auth.team_id {
        return refuse(
            RefusalCode::Forbidden,
            format!(
                "observation {} belongs to another team; a leader follows up their own team's tips",
                f.observation_id
            ),
        );
    }
    match tip::check(&tip.steps, &f) {
        Ok(()) => Decision::Store(
            Audience {
                team_id: tip.team_id.clone(),
                ward_id: tip.ward_id.clone(),
                log: true,
                member_id: Some(tip.author.clone()),
            },
            NamedPhotos::default(),
        ),
        Err(err @ TipError::OutOfOrder { .. }) => refuse(RefusalCode::OutOfOrder, err.to_string()),
        Err(err @ TipError::Taken { .. }) => refuse(RefusalCode::Conflict, err.to_string()),
        Err(err @ (TipError::UnknownAfter { .. } | TipError::Note(_) | TipError::Withdrawal)) => {
            refuse(RefusalCode::BadPayload, err.to_string())
        }
    }
}

/// Whether a refused event settles its sequence number: only the token's own device's events
/// with a valid sequence do, so a refusal never blocks that device's queue.
pub fn settles_seq(device_id: &str, e: &Event) -> Option<i64> {
    (e.device_id == device_id && e.seq >= 1).then_some(e.seq)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use patrol_domain::tip::TipStep;
    use patrol_domain::ward::Role;
    use serde_json::json;

    /// What a row expects.
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Want {
        Store,
        Already,
        Refuse(RefusalCode),
    }

    fn auth(role: Role, member: &str, team: &str, ward: &str) -> DeviceAuth {
        DeviceAuth {
            device_id: "dev-a".into(),
            member_id: member.into(),
            role,
            team_id: team.into(),
            ward_id: ward.into(),
        }
    }

    fn event(device: &str, seq: i64, id: &str) -> Event {
        Event {
            seq,
            event_id: id.into(),
            device_id: device.into(),
            kind: EventKind::Observed,
            entity_id: "o1".into(),
            payload: json!({}),
            client_time: Utc.with_ymd_and_hms(2026, 12, 5, 17, 30, 0).unwrap(),
        }
    }

    fn step(id: &str, s: TipStep, by: &str, after: Option<&str>) -> FollowUp {
        FollowUp {
            id: id.into(),
            observation_id: "o1".into(),
            step: s,
            note: None,
            by: by.into(),
            after: after.map(Into::into),
            at: Utc.with_ymd_and_hms(2026, 12, 5, 18, 0, 0).unwrap(),
        }
    }

    fn follow_up_event(f: &FollowUp) -> Event {
        Event {
            kind: EventKind::TipFollowedUp,
            entity_id: f.id.clone(),
            payload: serde_json::to_value(f).unwrap(),
            ..event("dev-a", 7, "e7")
        }
    }

    /// The observation o1 of team t1, ward w1, by member m1, with these steps.
    fn tip(steps: &[FollowUp]) -> Stored {
        Stored {
            tip: Some(Tip {
                team_id: "t1".into(),
                ward_id: "w1".into(),
                author: "m1".into(),
                steps: steps.to_vec(),
            }),
            ..Stored::default()
        }
    }

    #[test]
    fn the_decision_table() {
        let leader = auth(Role::Leader, "l1", "t1", "w1");
        let same = Stored {
            same_id: Some(("h1".into(), "dev-a".into())),
            seq_taken: true,
            ..Stored::default()
        };
        let other_content = Stored {
            same_id: Some(("h2".into(), "dev-a".into())),
            seq_taken: true,
            ..Stored::default()
        };
        let other_device = Stored {
            same_id: Some(("h1".into(), "dev-b".into())),
            ..Stored::default()
        };
        let seq_taken = Stored {
            seq_taken: true,
            ..Stored::default()
        };
        let long = "x".repeat(65);
        let none = Stored::default;
        let cases: Vec<(&str, Event, usize, Stored, Want)> = vec![
            (
                "new event",
                event("dev-a", 1, "e1"),
                10,
                none(),
                Want::Store,
            ),
            (
                "re-send, same content",
                event("dev-a", 1, "e1"),
                10,
                same,
                Want::Already,
            ),
            (
                "same id, other content",
                event("dev-a", 1, "e1"),
                10,
                other_content,
                Want::Refuse(RefusalCode::Conflict),
            ),
            (
                "same id, other device",
                event("dev-a", 1, "e1"),
                10,
                other_device,
                Want::Refuse(RefusalCode::Conflict),
            ),
            (
                "sequence already used",
                event("dev-a", 3, "e9"),
                10,
                seq_taken,
                Want::Refuse(RefusalCode::Conflict),
            ),
            (
                "an observation id already taken",
                event("dev-a", 3, "e9"),
                10,
                Stored {
                    observation_taken: true,
                    ..none()
                },
                Want::Refuse(RefusalCode::Conflict),
            ),
            (
                "another device's event",
                event("dev-b", 1, "e1"),
                10,
                none(),
                Want::Refuse(RefusalCode::BadDevice),
            ),
            (
                "sequence 0",
                event("dev-a", 0, "e1"),
                10,
                none(),
                Want::Refuse(RefusalCode::BadSeq),
            ),
            (
                "negative sequence",
                event("dev-a", -4, "e1"),
                10,
                none(),
                Want::Refuse(RefusalCode::BadSeq),
            ),
            (
                "empty id",
                event("dev-a", 1, ""),
                10,
                none(),
                Want::Refuse(RefusalCode::BadSeq),
            ),
            (
                "id too long",
                event("dev-a", 1, &long),
                10,
                none(),
                Want::Refuse(RefusalCode::BadSeq),
            ),
            (
                "payload at the limit",
                event("dev-a", 1, "e1"),
                MAX_PAYLOAD_BYTES,
                none(),
                Want::Store,
            ),
            (
                "payload too large",
                event("dev-a", 1, "e1"),
                MAX_PAYLOAD_BYTES + 1,
                none(),
                Want::Refuse(RefusalCode::TooLarge),
            ),
            (
                "a payload that is not an object",
                Event {
                    payload: json!("garbage"),
                    ..event("dev-a", 1, "e1")
                },
                10,
                none(),
                Want::Refuse(RefusalCode::BadPayload),
            ),
        ];
        for (name, e, len, stored, want) in cases {
            check_row(name, &leader, &e, len, &stored, want);
        }
    }

    fn check_row(
        name: &str,
        auth: &DeviceAuth,
        e: &Event,
        len: usize,
        stored: &Stored,
        want: Want,
    ) {
        let d = decide(auth, e, len, "h1", stored);
        match want {
            Want::Refuse(code) => assert!(
                matches!(d, Decision::Refuse(c, _) if c == code),
                "{name}: {d:?}"
            ),
            Want::Already => assert_eq!(d, Decision::AlreadyStored, "{name}"),
            Want::Store => assert!(matches!(d, Decision::Store(..)), "{name}: {d:?}"),
        }
    }

    #[test]
    fn the_follow_up_table() {
        use TipStep::*;
        let leader = auth(Role::Leader, "l1", "t1", "w1");
        let other_team_leader = auth(Role::Leader, "l2", "t2", "w1");
        let officer = auth(Role::Officer, "o1", "t2", "w1");
        let admin = auth(Role::Admin, "a1", "t3", "w1");
        let member = auth(Role::Member, "m1", "t1", "w1");
        let other_ward_officer = auth(Role::Officer, "o9", "t9", "w2");
        let fwd = step("f1", Forwarded, "l1", None);
        let resolved = step("f2", Resolved, "l1", Some("f1"));
        let unfounded = step("f3", Unfounded, "l1", None);
        let mut long_note = step("f9", Valuable, "l1", Some("f1"));
        long_note.note = Some("n".repeat(501));
        let mut note_at_limit = long_note.clone();
        note_at_limit.note = Some("n".repeat(500));
        let mut mismatched = follow_up_event(&fwd);
        mismatched.entity_id = "f-other".into();
        let mut unknown_field = follow_up_event(&fwd);
        unknown_field.payload["ward_id"] = json!("w1");
        let bad_step = Event {
            payload: json!({"id": "f1", "observation_id": "o1", "step": "closed", "note": null,
                            "by": "l1", "after": null, "at": "2026-12-05T18:00:00Z"}),
            ..follow_up_event(&fwd)
        };
        let by = |who: &str, f: &FollowUp| FollowUp {
            by: who.into(),
            ..f.clone()
        };
        let cases: Vec<(&str, &DeviceAuth, Event, Stored, Want)> = vec![
            (
                "a leader's first step",
                &leader,
                follow_up_event(&fwd),
                tip(&[]),
                Want::Store,
            ),
            (
                "a leader's step after one stored",
                &leader,
                follow_up_event(&resolved),
                tip(std::slice::from_ref(&fwd)),
                Want::Store,
            ),
            (
                "a member's follow-up",
                &member,
                follow_up_event(&by("m1", &fwd)),
                tip(&[]),
                Want::Refuse(RefusalCode::Forbidden),
            ),
            (
                "in someone else's name",
                &leader,
                follow_up_event(&by("l2", &fwd)),
                tip(&[]),
                Want::Refuse(RefusalCode::Forbidden),
            ),
            (
                "a leader of another team",
                &other_team_leader,
                follow_up_event(&by("l2", &fwd)),
                tip(&[]),
                Want::Refuse(RefusalCode::Forbidden),
            ),
            (
                "an officer of the ward, for another team",
                &officer,
                follow_up_event(&by("o1", &fwd)),
                tip(&[]),
                Want::Store,
            ),
            (
                "an admin of the ward, for another team",
                &admin,
                follow_up_event(&by("a1", &fwd)),
                tip(&[]),
                Want::Store,
            ),
            (
                "an officer of another ward",
                &other_ward_officer,
                follow_up_event(&by("o9", &fwd)),
                tip(&[]),
                Want::Refuse(RefusalCode::UnknownTip),
            ),
            (
                "an observation the server does not hold",
                &leader,
                follow_up_event(&fwd),
                Stored::default(),
                Want::Refuse(RefusalCode::UnknownTip),
            ),
            (
                "resolving twice",
                &leader,
                follow_up_event(&step("f4", Resolved, "l1", Some("f2"))),
                tip(&[fwd.clone(), resolved.clone()]),
                Want::Refuse(RefusalCode::OutOfOrder),
            ),
            (
                "forwarding a closed tip",
                &leader,
                follow_up_event(&step("f4", Forwarded, "l1", Some("f3"))),
                tip(std::slice::from_ref(&unfounded)),
                Want::Refuse(RefusalCode::OutOfOrder),
            ),
            (
                "after a step the tip does not have",
                &leader,
                follow_up_event(&step("f4", Valuable, "l1", Some("nope"))),
                tip(std::slice::from_ref(&fwd)),
                Want::Refuse(RefusalCode::BadPayload),
            ),
            (
                "a note over 500 characters",
                &leader,
                follow_up_event(&long_note),
                tip(std::slice::from_ref(&fwd)),
                Want::Refuse(RefusalCode::BadPayload),
            ),
            (
                "a note of 500 characters",
                &leader,
                follow_up_event(&note_at_limit),
                tip(std::slice::from_ref(&fwd)),
                Want::Store,
            ),
            (
                "two leaders after the same step: the second is stored too",
                &leader,
                follow_up_event(&step("f5", Valuable, "l1", Some("f1"))),
                tip(&[fwd.clone(), step("f6", Unfounded, "o1", Some("f1"))]),
                Want::Store,
            ),
            (
                "the follow-up's id is not the entity id",
                &leader,
                mismatched,
                tip(&[]),
                Want::Refuse(RefusalCode::BadPayload),
            ),
            (
                "an unknown field",
                &leader,
                unknown_field,
                tip(&[]),
                Want::Refuse(RefusalCode::BadPayload),
            ),
            (
                "an unknown step",
                &leader,
                bad_step,
                tip(&[]),
                Want::Refuse(RefusalCode::BadPayload),
            ),
            (
                "a re-send once stored, whatever the tip's state now",
                &member,
                follow_up_event(&by("m1", &fwd)),
                Stored {
                    same_id: Some(("h1".into(), "dev-a".into())),
                    ..Stored::default()
                },
                Want::Already,
            ),
        ];
        for (name, auth, e, stored, want) in cases {
            check_row(name, auth, &e, 100, &stored, want);
        }
    }

    #[test]
    fn a_step_goes_to_the_tips_team_and_its_author_and_an_event_to_the_senders_team() {
        let officer = auth(Role::Officer, "o1", "t2", "w1");
        let f = step("f1", TipStep::Forwarded, "o1", None);
        assert_eq!(
            decide(&officer, &follow_up_event(&f), 100, "h", &tip(&[])),
            Decision::Store(
                Audience {
                    team_id: "t1".into(),
                    ward_id: "w1".into(),
                    log: true,
                    member_id: Some("m1".into()),
                },
                NamedPhotos::default()
            )
        );
        assert_eq!(
            decide(
                &officer,
                &event("dev-a", 1, "e1"),
                10,
                "h",
                &Stored::default()
            ),
            Decision::Store(Audience::team_log(&officer), NamedPhotos::default())
        );
        assert_eq!(tip_named(&follow_up_event(&f)).as_deref(), Some("o1"));
        assert_eq!(tip_named(&event("dev-a", 1, "e1")), None);
    }

    #[test]
    fn photos_named_by_observations_and_corrections_are_checked_and_recorded() {
        let member = auth(Role::Member, "m1", "t1", "w1");
        let photo = |c: char| {
            json!({
                "hash": c.to_string().repeat(64), "bytes": 180_000, "width": 1600,
                "height": 1200, "thumb": "f".repeat(64), "thumb_bytes": 12_000
            })
        };
        let observed = |photos: Vec<serde_json::Value>| Event {
            payload: json!({ "id": "o1", "photos": photos }),
            ..event("dev-a", 1, "e1")
        };
        let corrected = |payload: serde_json::Value| Event {
            kind: EventKind::Corrected,
            entity_id: "c1".into(),
            payload,
            ..event("dev-a", 2, "e2")
        };
        let store = |e: &Event| decide(&member, e, 100, "h", &Stored::default());
        match store(&observed(vec![photo('1'), photo('2')])) {
            Decision::Store(_, named) => {
                assert_eq!(named.observation_id, "o1");
                assert_eq!(named.refs.len(), 2);
            }
            d => panic!("{d:?}"),
        }
        let five = observed(['1', '2', '3', '4', '5'].map(photo).to_vec());
        let twice = observed(vec![photo('1'), photo('1')]);
        let not_refs = Event {
            payload: json!({ "id": "o1", "photos": "a photo" }),
            ..event("dev-a", 1, "e1")
        };
        let adds_to_nothing = corrected(json!({ "photos_added": [photo('1')] }));
        for e in [five, twice, not_refs, adds_to_nothing] {
            assert!(
                matches!(store(&e), Decision::Refuse(RefusalCode::BadPayload, _)),
                "{e:?}"
            );
        }
        match store(&corrected(
            json!({ "target_id": "o1", "photos_added": [photo('3')], "photos_removed": [] }),
        )) {
            Decision::Store(_, named) => {
                assert_eq!(named.observation_id, "o1");
                assert_eq!(named.refs[0].hash.as_str(), "3".repeat(64));
            }
            d => panic!("{d:?}"),
        }
        // Records without photos, and older records, name none.
        for e in [
            event("dev-a", 1, "e1"),
            corrected(json!({ "target_id": "o1", "text": "sai" })),
        ] {
            assert_eq!(
                store(&e),
                Decision::Store(Audience::team_log(&member), NamedPhotos::default())
            );
        }
    }

    #[test]
    fn only_the_devices_own_valid_sequences_settle() {
        assert_eq!(settles_seq("a", &event("a", 4, "e")), Some(4));
        assert_eq!(settles_seq("a", &event("b", 4, "e")), None);
        assert_eq!(settles_seq("a", &event("a", 0, "e")), None);
    }
}
