//! Pushed events, stored exactly once: each batch in one transaction, each event decided by
//! [`crate::server::push_rules::decide`] over the facts looked up here (earlier events of the same
//! batch included), refusals logged, the photos a stored record names recorded for their uploads,
//! and `stored_through` moved on.

use super::enrollment::DeviceAuth;
use super::feed::{self, FeedNote};
use super::ServerDb;
use crate::domain::tip::FollowUp;
use crate::server::error::ServerError;
use crate::server::push_rules::{decide, settles_seq, tip_named, Decision, Stored, Tip};
use crate::wire::api::{EventRefusal, PushResponse, CLOCK_FLAG_MS};
use crate::wire::event::{Event, EventKind};
use crate::wire::feed::event_payload;
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};
use sha2::{Digest, Sha256};

impl ServerDb {
    /// Stores a batch of events exactly once, in one transaction.
    pub fn push(
        &mut self,
        auth: &DeviceAuth,
        sent_at: DateTime<Utc>,
        events: &[Event],
        now: DateTime<Utc>,
    ) -> Result<PushResponse, ServerError> {
        let epoch = super::epoch(&self.conn)?;
        let tx = self.conn.transaction()?;
        let mut stored = Vec::with_capacity(events.len());
        let mut refused = Vec::new();
        let mut notes: Vec<FeedNote> = Vec::new();
        {
            let mut find =
                tx.prepare_cached("SELECT content_hash, device_id FROM event WHERE event_id = ?1")?;
            let mut by_seq = tx.prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM event WHERE device_id = ?1 AND seq = ?2)",
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO event(event_id, device_id, seq, team_id, kind, entity_id, payload, content_hash, client_time, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            let mut log = tx.prepare_cached(
                "INSERT INTO refusal(event_id, device_id, seq, code, payload, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for e in events {
                let payload = serde_json::to_string(&e.payload).expect("JSON values serialise");
                let hash = content_hash(e, &payload);
                let same_id: Option<(String, String)> = find
                    .query_row([&e.event_id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                // The sequence matters only for an id not seen before: a re-send costs one lookup.
                let seq_taken = same_id.is_none()
                    && by_seq.query_row(params![e.device_id, e.seq], |r| r.get(0))?;
                let new = same_id.is_none() && !seq_taken;
                let facts = Stored {
                    observation_taken: new
                        && e.kind == EventKind::Observed
                        && origin(&tx, &e.entity_id)?.is_some(),
                    tip: match tip_named(e) {
                        Some(observation) if new => tip(&tx, &observation)?,
                        _ => None,
                    },
                    same_id,
                    seq_taken,
                };
                match decide(auth, e, payload.len(), &hash, &facts) {
                    Decision::Store(audience, photos) => {
                        insert.execute(params![
                            e.event_id,
                            e.device_id,
                            e.seq,
                            auth.team_id,
                            e.kind.code(),
                            e.entity_id,
                            payload,
                            hash,
                            e.client_time.to_rfc3339(),
                            now.to_rfc3339()
                        ])?;
                        super::photos::record(&tx, auth, &photos)?;
                        notes.push(feed::append(
                            &tx,
                            audience,
                            e.kind.code(),
                            &event_payload(e),
                        )?);
                        stored.push(e.event_id.clone());
                    }
                    Decision::AlreadyStored => stored.push(e.event_id.clone()),
                    Decision::Refuse(code, message) => {
                        tracing::warn!(event_id = %e.event_id, device = %auth.device_id, code = code.code(), %message, "event refused");
                        log.execute(params![
                            e.event_id,
                            auth.device_id,
                            settles_seq(&auth.device_id, e),
                            code.code(),
                            payload,
                            now.to_rfc3339()
                        ])?;
                        refused.push(EventRefusal {
                            event_id: e.event_id.clone(),
                            code,
                            message,
                        });
                    }
                }
            }
        }
        let mut through: i64 = tx.query_row(
            "SELECT stored_through FROM device WHERE id = ?1",
            [&auth.device_id],
            |r| r.get(0),
        )?;
        {
            let mut next = tx.prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM event WHERE device_id = ?1 AND seq = ?2)
                     OR EXISTS(SELECT 1 FROM refusal WHERE device_id = ?1 AND seq = ?2)",
            )?;
            while next.query_row(params![auth.device_id, through + 1], |r| {
                r.get::<_, bool>(0)
            })? {
                through += 1;
            }
        }
        let clock_offset_ms = (now - sent_at).num_milliseconds();
        if clock_offset_ms.abs() > CLOCK_FLAG_MS {
            tracing::warn!(device = %auth.device_id, clock_offset_ms, "device clock is more than 10 minutes off");
        }
        tx.execute(
            "UPDATE device SET stored_through = ?1, last_seen = ?2, clock_offset_ms = ?3 WHERE id = ?4",
            params![through, now.to_rfc3339(), clock_offset_ms, auth.device_id],
        )?;
        // The nights these events bear on are marked in the same transaction: no report sees
        // an event without knowing its night's kept figures are behind.
        super::report_nights::catch_up(&tx, false, now)?;
        tx.commit()?;
        self.fresh.extend(notes);
        Ok(PushResponse {
            epoch,
            stored,
            refused,
            stored_through: through,
            clock_offset_ms,
        })
    }

    /// How many events are stored, and how many distinct event ids (equal unless something is wrong).
    pub fn event_counts(&self) -> Result<(i64, i64), ServerError> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*), COUNT(DISTINCT event_id) FROM event",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }
}

/// The observation `id` as a tip, if the server holds one: the first stored (an observation id
/// taken again is refused), with the steps stored for it. A stored step that does not parse
/// (written before the server checked steps) is logged and left out: no later step can follow it.
fn tip(tx: &Transaction<'_>, id: &str) -> Result<Option<Tip>, ServerError> {
    let Some((team_id, ward_id, author)) = origin(tx, id)? else {
        return Ok(None);
    };
    let mut stmt = tx.prepare_cached(
        "SELECT event_id, payload FROM event
         WHERE json_extract(payload, '$.observation_id') = ?1 AND kind = 'tip_followed_up'
         ORDER BY cursor",
    )?;
    let mut steps = Vec::new();
    for row in stmt.query_map([id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })? {
        let (event_id, payload) = row?;
        match serde_json::from_str::<FollowUp>(&payload) {
            Ok(step) => steps.push(step),
            Err(e) => {
                tracing::warn!(%event_id, error = %e, "a stored tip step does not parse; left out")
            }
        }
    }
    Ok(Some(Tip {
        team_id,
        ward_id,
        author,
        steps,
    }))
}

/// Where the observation `id` was recorded (team, ward) and by whom (the member of the device that
/// pushed it): the first stored under that id.
fn origin(tx: &Transaction<'_>, id: &str) -> Result<Option<(String, String, String)>, ServerError> {
    Ok(tx
        .prepare_cached(
            "SELECT o.team_id, t.ward_id, d.member_id
             FROM event o JOIN team t ON t.id = o.team_id JOIN device d ON d.id = o.device_id
             WHERE o.entity_id = ?1 AND o.kind = 'observed' ORDER BY o.cursor LIMIT 1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?)
}

fn content_hash(e: &Event, payload: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        e.kind.code(),
        e.entity_id.as_str(),
        payload,
        &e.client_time.to_rfc3339(),
        &e.seq.to_string(),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}
