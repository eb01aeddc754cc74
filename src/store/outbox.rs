//! The outbox: one event per change, numbered 1, 2, 3... per device with no gaps, written in the
//! same transaction as the change itself.

use super::StoreError;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, Transaction};
use serde::{Deserialize, Serialize};

/// A device clock more than this far behind the newest time it has seen has jumped backwards.
pub const CLOCK_BACK_TOLERANCE_S: i64 = 120;

/// An event waiting for (or already acknowledged by) the ward server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Per-device sequence, gap-free from 1.
    pub seq: i64,
    /// UUIDv7, the idempotency key on the server.
    pub event_id: String,
    /// The device that wrote it.
    pub device_id: String,
    /// shift_started, checked_in, observed, corrected, shift_ended.
    pub kind: String,
    /// The record it is about.
    pub entity_id: String,
    /// The record as JSON.
    pub payload: serde_json::Value,
    /// Device clock when written.
    pub client_time: DateTime<Utc>,
}

/// What an append tells the caller besides success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// The sequence number given to the event.
    pub seq: i64,
    /// The device clock is behind a time it already used: the user should check it.
    pub clock_went_back: bool,
}

/// Creates the device row with a fresh id on first open.
pub fn ensure_device(conn: &Connection) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO device(id, next_seq, last_clock) SELECT ?1, 1, ?2 WHERE NOT EXISTS (SELECT 1 FROM device)",
        params![uuid::Uuid::now_v7().to_string(), DateTime::<Utc>::UNIX_EPOCH.to_rfc3339()],
    )?;
    Ok(())
}

/// This device's id.
pub fn device_id(conn: &Connection) -> Result<String, StoreError> {
    Ok(conn.query_row("SELECT id FROM device", [], |r| r.get(0))?)
}

/// Appends an event inside `tx`, taking the next sequence number.
pub fn append(
    tx: &Transaction<'_>,
    kind: &str,
    entity_id: &str,
    payload: &impl Serialize,
    now: DateTime<Utc>,
) -> Result<Appended, StoreError> {
    let (device_id, seq, last_clock): (String, i64, String) =
        tx.query_row("SELECT id, next_seq, last_clock FROM device", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    let last = DateTime::parse_from_rfc3339(&last_clock)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now);
    let clock_went_back = (last - now).num_seconds() > CLOCK_BACK_TOLERANCE_S;
    let payload = serde_json::to_string(payload).expect("records serialise to JSON");
    tx.execute(
        "INSERT INTO outbox(seq, event_id, device_id, kind, entity_id, payload, client_time)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            seq,
            uuid::Uuid::now_v7().to_string(),
            device_id,
            kind,
            entity_id,
            payload,
            now.to_rfc3339()
        ],
    )?;
    tx.execute(
        "UPDATE device SET next_seq = ?1, last_clock = ?2",
        params![seq + 1, last.max(now).to_rfc3339()],
    )?;
    Ok(Appended {
        seq,
        clock_went_back,
    })
}

/// How many events wait for the ward server.
pub fn pending_count(conn: &Connection) -> Result<u64, StoreError> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND refused_code IS NULL",
        [],
        |r| r.get::<_, i64>(0),
    )? as u64)
}

/// The oldest `limit` unsent events, in sequence order.
pub fn pending(conn: &Connection, limit: usize) -> Result<Vec<Event>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT seq, event_id, device_id, kind, entity_id, payload, client_time
         FROM outbox WHERE sent_at IS NULL AND refused_code IS NULL ORDER BY seq LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit as i64], |r| {
        let payload: String = r.get(5)?;
        let client_time: String = r.get(6)?;
        Ok(Event {
            seq: r.get(0)?,
            event_id: r.get(1)?,
            device_id: r.get(2)?,
            kind: r.get(3)?,
            entity_id: r.get(4)?,
            payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
            client_time: DateTime::parse_from_rfc3339(&client_time)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default(),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Marks every event up to and including `seq` as acknowledged by the server.
pub fn mark_sent_through(
    conn: &Connection,
    seq: i64,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE outbox SET sent_at = ?1 WHERE seq <= ?2 AND sent_at IS NULL",
        params![now.to_rfc3339(), seq],
    )?)
}

/// Marks events after `seq` as not sent, so they go again (the server has less than it acknowledged).
pub fn unmark_sent_after(conn: &Connection, seq: i64) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE outbox SET sent_at = NULL WHERE seq > ?1 AND sent_at IS NOT NULL",
        [seq],
    )?)
}

/// Parks an event the server refused: kept and listed, no longer blocking the queue.
pub fn mark_refused(
    conn: &Connection,
    event_id: &str,
    code: &str,
    message: &str,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE outbox SET refused_code = ?1, refused_message = ?2 WHERE event_id = ?3",
        params![code, message, event_id],
    )?;
    Ok(())
}

/// Events the server refused, oldest first: (seq, kind, code, message).
pub fn refused(conn: &Connection) -> Result<Vec<(i64, String, String, String)>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT seq, kind, refused_code, refused_message FROM outbox WHERE refused_code IS NOT NULL ORDER BY seq",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
