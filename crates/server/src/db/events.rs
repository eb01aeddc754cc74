//! Pushed events, stored exactly once: a group of batches in one transaction, each batch in a
//! savepoint of its own (so a batch that fails is rolled back alone), each event decided by
//! [`crate::push_rules::decide`] over the facts looked up here (earlier events of the same
//! batch included), refusals logged, the photos a stored record names recorded for their uploads,
//! and `stored_through` moved on.

use super::enrollment::DeviceAuth;
use super::feed::{self, FeedNote};
use super::ServerDb;
use crate::error::ServerError;
use crate::push_rules::{decide, settles_seq, tip_named, Decision, Stored, Tip};
use chrono::{DateTime, Utc};
use patrol_domain::tip::FollowUp;
use patrol_wire::api::{EventRefusal, PushResponse, CLOCK_FLAG_MS};
use patrol_wire::event::{Event, EventKind};
use patrol_wire::feed::event_payload;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};

/// One batch to store: the device that sent it (from its token), when it says it sent it, and
/// its events in sequence order.
#[derive(Debug, Clone, Copy)]
pub struct PushBatch<'a> {
    /// The sending device.
    pub auth: &'a DeviceAuth,
    /// Its clock when it sent the batch.
    pub sent_at: DateTime<Utc>,
    /// The events.
    pub events: &'a [Event],
}

impl ServerDb {
    /// Stores a batch of events exactly once, in one transaction.
    pub fn push(
        &mut self,
        auth: &DeviceAuth,
        sent_at: DateTime<Utc>,
        events: &[Event],
        now: DateTime<Utc>,
    ) -> Result<PushResponse, ServerError> {
        let batch = PushBatch {
            auth,
            sent_at,
            events,
        };
        self.push_group(&[batch], now)?
            .pop()
            .expect("one answer per batch")
    }

    /// Stores several batches in one transaction (one commit, one sync to disk, the nights they
    /// bear on marked once), each in a savepoint of its own: a batch that fails is rolled back
    /// alone and answered its error, the others are stored. The answers come in the batches'
    /// order; the outer error is the transaction's own (nothing stored).
    pub fn push_group(
        &mut self,
        batches: &[PushBatch<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<Result<PushResponse, ServerError>>, ServerError> {
        let epoch = super::epoch(&self.conn)?;
        // Immediate: the write lock from the start, so a commit by another process (an admin
        // command) cannot fail every batch's first write half-way.
        let mut tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let before: i64 = tx
            .prepare_cached("SELECT COALESCE(MAX(cursor), 0) FROM event")?
            .query_row([], |r| r.get(0))?;
        let mut answers = Vec::with_capacity(batches.len());
        let mut notes: Vec<FeedNote> = Vec::new();
        let mut records: Vec<(&str, &str, &serde_json::Value)> = Vec::new();
        for b in batches {
            let sp = tx.savepoint()?;
            match store_batch(&sp, b, &epoch, now) {
                Ok((answer, fed, kept)) => {
                    sp.commit()?;
                    notes.extend(fed);
                    records.extend(kept.into_iter().map(|i| {
                        let e = &b.events[i];
                        (b.auth.team_id.as_str(), e.kind.code(), &e.payload)
                    }));
                    answers.push(Ok(answer));
                }
                Err(e) => {
                    drop(sp);
                    // Dropped, the savepoint rolls this batch back alone, unless SQLite already
                    // rolled back the whole transaction (a full disk, an I/O error): then nothing
                    // of the group is stored, and the group fails as one.
                    if tx.is_autocommit() {
                        return Err(e);
                    }
                    answers.push(Err(e));
                }
            }
        }
        // The nights these events bear on are marked in the same transaction: no report sees
        // an event without knowing its night's kept figures are behind.
        super::report_nights::catch_up_push(&tx, now, before, &records)?;
        tx.commit()?;
        self.fresh.extend(notes);
        Ok(answers)
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

/// Stores one batch on `conn` (inside the group's transaction): the answer, the feed items it
/// appended, and which of its events it stored anew (their indexes).
fn store_batch(
    conn: &Connection,
    batch: &PushBatch<'_>,
    epoch: &str,
    now: DateTime<Utc>,
) -> Result<(PushResponse, Vec<FeedNote>, Vec<usize>), ServerError> {
    let PushBatch {
        auth,
        sent_at,
        events,
    } = *batch;
    // The records stored by this push, for their nights: (event index).
    let mut new_records: Vec<usize> = Vec::with_capacity(events.len());
    let mut stored = Vec::with_capacity(events.len());
    let mut refused = Vec::new();
    let mut notes: Vec<FeedNote> = Vec::new();
    {
        let mut find =
            conn.prepare_cached("SELECT content_hash, device_id FROM event WHERE event_id = ?1")?;
        let mut by_seq = conn.prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM event WHERE device_id = ?1 AND seq = ?2)",
        )?;
        let mut insert = conn.prepare_cached(
                "INSERT INTO event(event_id, device_id, seq, team_id, kind, entity_id, payload, content_hash, client_time, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
        let mut log = conn.prepare_cached(
                "INSERT INTO refusal(event_id, device_id, seq, code, payload, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
        for (i, e) in events.iter().enumerate() {
            let payload = serde_json::to_string(&e.payload).expect("JSON values serialise");
            let hash = content_hash(e, &payload);
            let same_id: Option<(String, String)> = find
                .query_row([&e.event_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            // The sequence matters only for an id not seen before: a re-send costs one lookup.
            let seq_taken =
                same_id.is_none() && by_seq.query_row(params![e.device_id, e.seq], |r| r.get(0))?;
            let new = same_id.is_none() && !seq_taken;
            let facts = Stored {
                observation_taken: new
                    && e.kind == EventKind::Observed
                    && origin(conn, &e.entity_id)?.is_some(),
                tip: match tip_named(e) {
                    Some(observation) if new => tip(conn, &observation)?,
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
                    if !photos.is_empty() {
                        super::photos::record(conn, auth, &photos)?;
                    }
                    notes.push(feed::append(
                        conn,
                        audience,
                        e.kind.code(),
                        &event_payload(e),
                    )?);
                    stored.push(e.event_id.clone());
                    new_records.push(i);
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
    let mut through: i64 = conn
        .prepare_cached("SELECT stored_through FROM device WHERE id = ?1")?
        .query_row([&auth.device_id], |r| r.get(0))?;
    // A batch that goes on from the device's settled sequence without a gap (the usual case)
    // is settled by one count over its range; then, and otherwise, one number at a time.
    if let Some(top) = events.iter().map(|e| e.seq).max().filter(|&t| t > through) {
        let settled: i64 = conn
                .prepare_cached(
                    "SELECT COUNT(*) FROM (
                       SELECT seq FROM event WHERE device_id = ?1 AND seq > ?2 AND seq <= ?3
                       UNION SELECT seq FROM refusal WHERE device_id = ?1 AND seq > ?2 AND seq <= ?3)",
                )?
                .query_row(params![auth.device_id, through, top], |r| r.get(0))?;
        if settled == top - through {
            through = top;
        }
    }
    {
        let mut next = conn.prepare_cached(
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
    conn.prepare_cached(
        "UPDATE device SET stored_through = ?1, last_seen = ?2, clock_offset_ms = ?3 WHERE id = ?4",
    )?
    .execute(params![
        through,
        now.to_rfc3339(),
        clock_offset_ms,
        auth.device_id
    ])?;
    Ok((
        PushResponse {
            epoch: epoch.to_string(),
            stored,
            refused,
            stored_through: through,
            clock_offset_ms,
        },
        notes,
        new_records,
    ))
}

/// The observation `id` as a tip, if the server holds one: the first stored (an observation id
/// taken again is refused), with the steps stored for it. A stored step that does not parse
/// (written before the server checked steps) is logged and left out: no later step can follow it.
fn tip(tx: &Connection, id: &str) -> Result<Option<Tip>, ServerError> {
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
fn origin(tx: &Connection, id: &str) -> Result<Option<(String, String, String)>, ServerError> {
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
