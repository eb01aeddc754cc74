//! An outbox event: one change on one device, numbered gap-free per device, identified by a UUIDv7.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A shift started.
    ShiftStarted,
    /// A check-in at a checkpoint.
    CheckedIn,
    /// An observation.
    Observed,
    /// A correction appended to an earlier entry.
    Corrected,
    /// A shift ended.
    ShiftEnded,
    /// A leader or officer took a step on a tip (payload: [`patrol_domain::tip::FollowUp`]).
    TipFollowedUp,
}

impl EventKind {
    /// Every kind, in the order a shift produces them.
    pub const ALL: [EventKind; 6] = [
        EventKind::ShiftStarted,
        EventKind::CheckedIn,
        EventKind::Observed,
        EventKind::Corrected,
        EventKind::ShiftEnded,
        EventKind::TipFollowedUp,
    ];

    /// The stable code stored in databases and sent on the wire.
    pub fn code(self) -> &'static str {
        match self {
            EventKind::ShiftStarted => "shift_started",
            EventKind::CheckedIn => "checked_in",
            EventKind::Observed => "observed",
            EventKind::Corrected => "corrected",
            EventKind::ShiftEnded => "shift_ended",
            EventKind::TipFollowedUp => "tip_followed_up",
        }
    }

    /// The kind with `code`, or `None` for a code this build does not know.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// An event waiting for (or already acknowledged by) the ward server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Per-device sequence, gap-free from 1.
    pub seq: i64,
    /// UUIDv7, the idempotency key on the server.
    pub event_id: String,
    /// The device that wrote it.
    pub device_id: String,
    /// What it records.
    pub kind: EventKind,
    /// The record it is about.
    pub entity_id: String,
    /// The record as JSON.
    pub payload: serde_json::Value,
    /// Device clock when written.
    pub client_time: DateTime<Utc>,
}

/// The record an event of `kind` carries, parsed from its payload's text (no JSON tree in
/// between: reports read hundreds of thousands); a payload that does not parse as its kind's
/// record is an error, never a default.
pub fn record(
    kind: EventKind,
    payload: &str,
) -> Result<patrol_domain::review::TeamRecord, serde_json::Error> {
    use patrol_domain::review::TeamRecord as R;
    Ok(match kind {
        EventKind::ShiftStarted => R::Started(serde_json::from_str(payload)?),
        EventKind::CheckedIn => R::CheckIn(serde_json::from_str(payload)?),
        EventKind::Observed => R::Observation(serde_json::from_str(payload)?),
        EventKind::Corrected => R::Correction(serde_json::from_str(payload)?),
        EventKind::ShiftEnded => R::Ended(serde_json::from_str(payload)?),
        EventKind::TipFollowedUp => R::FollowUp(serde_json::from_str(payload)?),
    })
}

/// Stored events as (event id, kind code, payload text) read into records, each event id once;
/// an unknown kind or a payload that does not parse is listed apart with the reason, never
/// turned into something else. The phone's team view and the server's read through this.
pub fn records_of(
    rows: impl IntoIterator<Item = (String, String, String)>,
) -> (
    Vec<patrol_domain::review::TeamRecord>,
    Vec<patrol_domain::review::Unreadable>,
) {
    let (mut records, mut unreadable) = (Vec::new(), Vec::new());
    let mut seen = std::collections::HashSet::new();
    for (event_id, kind, payload) in rows {
        if !seen.insert(event_id.clone()) {
            continue;
        }
        let parsed = EventKind::from_code(&kind)
            .ok_or_else(|| format!("unknown kind '{kind}'"))
            .and_then(|k| record(k, &payload).map_err(|e| e.to_string()));
        match parsed {
            Ok(r) => records.push(r),
            Err(detail) => unreadable.push(patrol_domain::review::Unreadable { event_id, detail }),
        }
    }
    (records, unreadable)
}

#[cfg(test)]
mod tests {
    use super::EventKind;

    #[test]
    fn kind_codes_round_trip_and_match_serde() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::from_code(k.code()), Some(k));
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::Value::String(k.code().into())
            );
        }
        assert_eq!(EventKind::from_code("photo_added"), None);
        assert!(serde_json::from_str::<EventKind>("\"photo_added\"").is_err());
    }
}
