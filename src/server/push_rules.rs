//! What the server does with one pushed event: a pure decision over the event, the token's device
//! and what is already stored, so every rule is a row in a table test.

use crate::wire::api::{RefusalCode, MAX_PAYLOAD_BYTES};
use crate::wire::event::Event;

/// What is already stored that bears on an event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stored {
    /// An event with the same id: (its content hash, its device).
    pub same_id: Option<(String, String)>,
    /// The device's sequence number is already another event (looked up only when no event
    /// has the same id, the only case where it decides anything).
    pub seq_taken: bool,
}

/// The decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// New: store it.
    Store,
    /// Already stored with the same content (a re-send): acknowledge, write nothing.
    AlreadyStored,
    /// Refused, with a stable code and words; the refusal is logged.
    Refuse(RefusalCode, String),
}

/// Largest id (event, entity) the server accepts, in bytes.
pub const MAX_ID_LEN: usize = 64;

/// Decides what to do with `e`, sent with `device_id`'s token, whose payload is `payload_len`
/// bytes of JSON with content hash `hash`, given what is `stored`.
pub fn decide(
    device_id: &str,
    e: &Event,
    payload_len: usize,
    hash: &str,
    stored: &Stored,
) -> Decision {
    if e.device_id != device_id {
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
        Some((h, dev)) if h == hash && dev == device_id => Decision::AlreadyStored,
        Some(_) => Decision::Refuse(
            RefusalCode::Conflict,
            "an event with this id and other content is already stored; the original is kept"
                .into(),
        ),
        None if stored.seq_taken => Decision::Refuse(
            RefusalCode::Conflict,
            format!("sequence {} of this device is already another event", e.seq),
        ),
        None => Decision::Store,
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
    use crate::wire::event::EventKind;
    use chrono::{TimeZone, Utc};

    fn event(device: &str, seq: i64, id: &str) -> Event {
        Event {
            seq,
            event_id: id.into(),
            device_id: device.into(),
            kind: EventKind::Observed,
            entity_id: "o1".into(),
            payload: serde_json::json!({}),
            client_time: Utc.with_ymd_and_hms(2026, 12, 5, 17, 30, 0).unwrap(),
        }
    }

    #[test]
    fn the_decision_table() {
        let mine = "dev-a";
        let same = Stored {
            same_id: Some(("h1".into(), mine.into())),
            seq_taken: true,
        };
        let other_content = Stored {
            same_id: Some(("h2".into(), mine.into())),
            seq_taken: true,
        };
        let other_device = Stored {
            same_id: Some(("h1".into(), "dev-b".into())),
            seq_taken: false,
        };
        let seq_taken = Stored {
            same_id: None,
            seq_taken: true,
        };
        let long = "x".repeat(65);
        let cases: Vec<(&str, Event, usize, Stored, Option<RefusalCode>, bool)> = vec![
            (
                "new event",
                event(mine, 1, "e1"),
                10,
                Stored::default(),
                None,
                false,
            ),
            (
                "re-send, same content",
                event(mine, 1, "e1"),
                10,
                same,
                None,
                true,
            ),
            (
                "same id, other content",
                event(mine, 1, "e1"),
                10,
                other_content,
                Some(RefusalCode::Conflict),
                false,
            ),
            (
                "same id, other device",
                event(mine, 1, "e1"),
                10,
                other_device,
                Some(RefusalCode::Conflict),
                false,
            ),
            (
                "sequence already used",
                event(mine, 3, "e9"),
                10,
                seq_taken,
                Some(RefusalCode::Conflict),
                false,
            ),
            (
                "another device's event",
                event("dev-b", 1, "e1"),
                10,
                Stored::default(),
                Some(RefusalCode::BadDevice),
                false,
            ),
            (
                "sequence 0",
                event(mine, 0, "e1"),
                10,
                Stored::default(),
                Some(RefusalCode::BadSeq),
                false,
            ),
            (
                "negative sequence",
                event(mine, -4, "e1"),
                10,
                Stored::default(),
                Some(RefusalCode::BadSeq),
                false,
            ),
            (
                "empty id",
                event(mine, 1, ""),
                10,
                Stored::default(),
                Some(RefusalCode::BadSeq),
                false,
            ),
            (
                "id too long",
                event(mine, 1, &long),
                10,
                Stored::default(),
                Some(RefusalCode::BadSeq),
                false,
            ),
            (
                "payload at the limit",
                event(mine, 1, "e1"),
                MAX_PAYLOAD_BYTES,
                Stored::default(),
                None,
                false,
            ),
            (
                "payload too large",
                event(mine, 1, "e1"),
                MAX_PAYLOAD_BYTES + 1,
                Stored::default(),
                Some(RefusalCode::TooLarge),
                false,
            ),
        ];
        for (name, e, len, stored, refusal, already) in cases {
            let d = decide(mine, &e, len, "h1", &stored);
            match (refusal, already) {
                (Some(code), _) => assert!(
                    matches!(d, Decision::Refuse(c, _) if c == code),
                    "{name}: {d:?}"
                ),
                (None, true) => assert_eq!(d, Decision::AlreadyStored, "{name}"),
                (None, false) => assert_eq!(d, Decision::Store, "{name}"),
            }
        }
    }

    #[test]
    fn only_the_devices_own_valid_sequences_settle() {
        assert_eq!(settles_seq("a", &event("a", 4, "e")), Some(4));
        assert_eq!(settles_seq("a", &event("b", 4, "e")), None);
        assert_eq!(settles_seq("a", &event("a", 0, "e")), None);
    }
}
