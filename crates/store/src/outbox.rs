//! The outbox: one event per change, numbered 1, 2, 3... per device with no gaps, written in the
//! same transaction as the change itself.

use super::rows;
use super::StoreError;
use chrono::{DateTime, Utc};
use patrol_wire::api::RefusalCode;
use patrol_wire::event::{Event, EventKind};
use rusqlite::{params, Connection, Row, Transaction};
use serde::{Deserialize, Serialize};

/// A device clock more than this far behind the newest time it has seen has jumped backwards.
pub const CLOCK_BACK_TOLERANCE_S: i64 = 120;

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
    kind: EventKind,
    entity_id: &str,
    payload: &impl Serialize,
    now: DateTime<Utc>,
) -> Result<Appended, StoreError> {
    let (device_id, seq, last_clock): (String, i64, String) =
        tx.query_row("SELECT id, next_seq, last_clock FROM device", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    let last = rows::stored(
        "device",
        &device_id,
        "last clock",
        &last_clock,
        rows::parse_time,
    )?;
    let clock_went_back = (last - now).num_seconds() > CLOCK_BACK_TOLERANCE_S;
    let payload = serde_json::to_string(payload).expect("records serialise to JSON");
    tx.execute(
        "INSERT INTO outbox(seq, event_id, device_id, kind, entity_id, payload, client_time)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            seq,
            uuid::Uuid::now_v7().to_string(),
            device_id,
            kind.code(),
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
    let rows = stmt.query_map([limit as i64], event_from)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// An event from a row of (seq, event_id, device_id, kind, entity_id, payload, client_time): a
/// kind, payload or time that does not parse is a corrupt row named by its event id, never sent.
pub fn event_from(r: &Row<'_>) -> rusqlite::Result<Event> {
    let event_id: String = r.get(1)?;
    Ok(Event {
        seq: r.get(0)?,
        device_id: r.get(2)?,
        kind: rows::parsed(r, 3, ("outbox", &event_id), "kind", EventKind::from_code)?,
        entity_id: r.get(4)?,
        payload: rows::json(r, 5, "outbox", &event_id)?,
        client_time: rows::time(r, 6, "outbox", &event_id)?,
        event_id,
    })
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
    code: RefusalCode,
    message: &str,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE outbox SET refused_code = ?1, refused_message = ?2 WHERE event_id = ?3",
        params![code.code(), message, event_id],
    )?;
    Ok(())
}

/// An event the ward server refused, kept on the phone and listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    /// Its sequence number.
    pub seq: i64,
    /// What it recorded.
    pub kind: EventKind,
    /// Why the server refused it.
    pub code: RefusalCode,
    /// The server's words.
    pub message: String,
}

/// Events the server refused, oldest first.
pub fn refused(conn: &Connection) -> Result<Vec<Refused>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT seq, kind, refused_code, refused_message, event_id FROM outbox WHERE refused_code IS NOT NULL ORDER BY seq",
    )?;
    let rows = stmt.query_map([], |r| {
        let event_id: String = r.get(4)?;
        let row = ("outbox", event_id.as_str());
        Ok(Refused {
            seq: r.get(0)?,
            kind: rows::parsed(r, 1, row, "kind", EventKind::from_code)?,
            code: rows::parsed(r, 2, row, "refusal", RefusalCode::from_code)?,
            message: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
