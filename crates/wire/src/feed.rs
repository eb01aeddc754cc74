//! The pull feed: a team's setups (for everyone), its events (for leaders) and its members' coming
//! assignments (each member their own), in commit order.
//! Items travel with their body as JSON and are parsed one by one on arrival, so an item a device
//! cannot read is recorded as such and never stops the items after it.

use super::api::{RosterFeed, ROSTER_KIND};
use super::event::{Event, EventKind};
use super::WireError;
use patrol_domain::ward::WardSetup;
use serde::{Deserialize, Serialize};

/// The `kind` of a setup item; event items carry their event's kind.
pub const SETUP_KIND: &str = "setup";

/// One item of the pull feed as it travels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedItem {
    /// Server cursor, increasing in commit order.
    pub cursor: i64,
    /// "setup" or an event kind.
    pub kind: String,
    /// The setup or the event, as JSON.
    pub payload: serde_json::Value,
}

/// What a feed item holds, once parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedBody {
    /// A team's ward, roster, shifts and route, checked by the domain rules.
    Setup(WardSetup),
    /// A team member's event (leaders only).
    Event(Event),
    /// A member's coming assignments (the member, and those who run the team).
    Roster(RosterFeed),
}

/// A setup as a feed item's payload (kind [`SETUP_KIND`]).
pub fn setup_payload(setup: &WardSetup) -> String {
    serde_json::to_string(setup).expect("setups serialise")
}

/// An event as a feed item's payload (kind: the event's kind).
pub fn event_payload(event: &Event) -> String {
    serde_json::to_string(event).expect("events serialise")
}

impl FeedItem {
    /// Parses the body: a setup that breaks a domain rule, an unknown kind, or an event whose kind
    /// differs from the item's is an error naming the item's cursor.
    pub fn body(&self) -> Result<FeedBody, WireError> {
        let bad = |detail: String| WireError::new("feed item", self.cursor, detail);
        if self.kind == SETUP_KIND {
            let setup = WardSetup::deserialize(&self.payload).map_err(|e| bad(e.to_string()))?;
            return setup
                .validate()
                .map(FeedBody::Setup)
                .map_err(|e| bad(e.to_string()));
        }
        if self.kind == ROSTER_KIND {
            return RosterFeed::deserialize(&self.payload)
                .map(FeedBody::Roster)
                .map_err(|e| bad(e.to_string()));
        }
        let kind = EventKind::from_code(&self.kind)
            .ok_or_else(|| bad(format!("unknown kind '{}'", self.kind)))?;
        let event = Event::deserialize(&self.payload).map_err(|e| bad(e.to_string()))?;
        if event.kind != kind {
            return Err(bad(format!(
                "item kind '{}' but event kind '{}'",
                self.kind,
                event.kind.code()
            )));
        }
        Ok(FeedBody::Event(event))
    }
}
