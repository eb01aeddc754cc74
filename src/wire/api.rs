//! The ward server's API v1, as JSON bodies. The device's ward, team and role always come from its
//! token on the server, never from these bodies.

use super::event::Event;
use super::feed::FeedItem;
use crate::domain::ward::{Role, WardSetup};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Most events one push may carry.
pub const MAX_BATCH: usize = 500;
/// Largest payload of one event, in bytes of JSON.
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024;
/// Largest request body the server reads, in bytes.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// A device clock further than this from the server's is flagged, in milliseconds.
pub const CLOCK_FLAG_MS: i64 = 10 * 60 * 1000;

/// POST /api/v1/enroll: redeem a one-time enrollment code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// The code from the link or QR.
    pub code: String,
    /// The device's own id (from its local store).
    pub device_id: String,
}

/// The device's credentials and setup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollResponse {
    /// Bearer token for every later request; the server keeps only its hash.
    pub token: String,
    /// The member this device belongs to.
    pub member_id: String,
    /// The member's role.
    pub role: Role,
    /// The ward, team, roster and route.
    pub setup: WardSetup,
    /// The server's epoch (changes when it is restored from a backup).
    pub epoch: String,
}

/// POST /api/v1/push: a batch of outbox events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// The device clock when the batch was sent, to measure the clock offset.
    pub sent_at: DateTime<Utc>,
    /// Events in sequence order.
    pub events: Vec<Event>,
}

/// Why the server refused one event of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    /// The id (or the device's sequence number) is already another event; the original is kept.
    Conflict,
    /// The event names another device than the token's.
    BadDevice,
    /// A sequence below 1, or an id longer than 64 characters.
    BadSeq,
    /// The payload is larger than [`MAX_PAYLOAD_BYTES`].
    TooLarge,
    /// The payload does not parse as its kind's record.
    BadPayload,
    /// The token's role may not send this kind (a member's tip follow-up), or the record belongs
    /// to another team or ward.
    Forbidden,
    /// A tip follow-up names an observation the server does not hold.
    UnknownTip,
    /// A tip follow-up out of order (resolving twice, forwarding a closed tip).
    OutOfOrder,
}

impl RefusalCode {
    /// The stable code stored in databases and sent on the wire.
    pub fn code(self) -> &'static str {
        match self {
            RefusalCode::Conflict => "conflict",
            RefusalCode::BadDevice => "bad_device",
            RefusalCode::BadSeq => "bad_seq",
            RefusalCode::TooLarge => "too_large",
            RefusalCode::BadPayload => "bad_payload",
            RefusalCode::Forbidden => "forbidden",
            RefusalCode::UnknownTip => "unknown_tip",
            RefusalCode::OutOfOrder => "out_of_order",
        }
    }

    /// The refusal with `code`, or `None` for a code this build does not know.
    pub fn from_code(code: &str) -> Option<Self> {
        [
            Self::Conflict,
            Self::BadDevice,
            Self::BadSeq,
            Self::TooLarge,
            Self::BadPayload,
            Self::Forbidden,
            Self::UnknownTip,
            Self::OutOfOrder,
        ]
        .into_iter()
        .find(|c| c.code() == code)
    }
}

/// Why one event of a batch was not stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRefusal {
    /// The event.
    pub event_id: String,
    /// Why, as a stable code.
    pub code: RefusalCode,
    /// Human-readable detail.
    pub message: String,
}

/// The server's answer to a push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    /// The server's epoch.
    pub epoch: String,
    /// Event ids stored now or already stored with the same content.
    pub stored: Vec<String>,
    /// Events refused; the original of a conflicting id is kept.
    pub refused: Vec<EventRefusal>,
    /// The highest sequence n such that this device's events 1..=n are all stored.
    pub stored_through: i64,
    /// Server clock minus device clock, milliseconds.
    pub clock_offset_ms: i64,
}

/// GET /api/v1/pull?after=CURSOR: what changed since the cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    /// The server's epoch.
    pub epoch: String,
    /// Items after the cursor, in cursor order.
    pub items: Vec<FeedItem>,
    /// The cursor to ask after next time.
    pub cursor: i64,
    /// More items wait beyond this page.
    pub more: bool,
}

/// Every error body: a stable code and a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable code, e.g. "expired_code".
    pub error: String,
    /// What went wrong, in words.
    pub message: String,
}

/// Reads an enrollment link "https://ward.example/#enroll=CODE" into (server url, code).
pub fn parse_enroll_link(link: &str) -> Option<(String, String)> {
    let (base, fragment) = link.trim().split_once('#')?;
    let code = fragment.strip_prefix("enroll=")?.trim();
    if code.is_empty() || code.len() > 64 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let scheme_end = base.find("://")? + 3;
    let origin_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    Some((base[..origin_end].to_string(), code.to_string()))
}

#[cfg(test)]
mod tests {
    use super::parse_enroll_link;

    #[test]
    fn enrollment_links() {
        assert_eq!(
            parse_enroll_link("http://127.0.0.1:8080/#enroll=AWJ65YUDLL"),
            Some(("http://127.0.0.1:8080".into(), "AWJ65YUDLL".into()))
        );
        assert_eq!(
            parse_enroll_link("https://phuong.example.vn/app/index.html#enroll=K2"),
            Some(("https://phuong.example.vn".into(), "K2".into()))
        );
        assert_eq!(parse_enroll_link("http://x/#enroll="), None);
        assert_eq!(parse_enroll_link("http://x/#other=1"), None);
        assert_eq!(parse_enroll_link("http://x/#enroll=<script>"), None);
        assert_eq!(parse_enroll_link("no link"), None);
    }
}
