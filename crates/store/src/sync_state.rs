//! What the device keeps about syncing: credentials, epoch, cursor, and how replies are applied,
//! each in one transaction.

use super::outbox;
use super::rows;
use super::setup::write_setup;
use super::{Store, StoreError};
use chrono::{DateTime, Utc};
use patrol_domain::ward::{Role, WardSetup};
use patrol_wire::api::{EnrollResponse, PullResponse, PushResponse};
use patrol_wire::feed::FeedBody;
use rusqlite::{params, OptionalExtension, Transaction};

/// What applying a push reply did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PushApplied {
    /// Events newly marked sent.
    pub marked_sent: usize,
    /// Events parked as refused.
    pub refused: usize,
    /// Events queued again (new epoch, or the server lost some).
    pub requeued: usize,
}

/// What the device keeps about syncing, one row each in `sync_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncKey {
    /// The ward server's address.
    ServerUrl,
    /// The bearer token.
    Token,
    /// The member this device belongs to.
    MemberId,
    /// The member's role.
    Role,
    /// The server's epoch last seen.
    Epoch,
    /// The feed cursor pulled through.
    Cursor,
    /// The highest sequence the server acknowledged.
    AckedThrough,
    /// When the ward server was last reached successfully (RFC 3339).
    LastSuccess,
    /// The last sync error's code.
    LastError,
}

impl SyncKey {
    /// The key's name in the table.
    pub fn code(self) -> &'static str {
        match self {
            SyncKey::ServerUrl => "server_url",
            SyncKey::Token => "token",
            SyncKey::MemberId => "member_id",
            SyncKey::Role => "role",
            SyncKey::Epoch => "epoch",
            SyncKey::Cursor => "cursor",
            SyncKey::AckedThrough => "acked_through",
            SyncKey::LastSuccess => "last_success",
            SyncKey::LastError => "last_error",
        }
    }
}

fn get(tx: &rusqlite::Connection, key: SyncKey) -> Result<Option<String>, StoreError> {
    Ok(tx
        .query_row(
            "SELECT value FROM sync_state WHERE key = ?1",
            [key.code()],
            |r| r.get(0),
        )
        .optional()?)
}

/// A sync value read by `parse`; one that does not parse is a corrupt row naming its key.
fn get_parsed<T>(
    conn: &rusqlite::Connection,
    key: SyncKey,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<Option<T>, StoreError> {
    get(conn, key)?
        .map(|v| rows::stored("sync_state", key.code(), key.code(), &v, parse))
        .transpose()
        .map_err(StoreError::from)
}

/// A stored number, such as the cursor (0 when unset).
fn get_i64(conn: &rusqlite::Connection, key: SyncKey) -> Result<i64, StoreError> {
    Ok(get_parsed(conn, key, |v| v.parse().ok())?.unwrap_or(0))
}

fn set(tx: &Transaction<'_>, key: SyncKey, value: &str) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO sync_state(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key.code(), value],
    )?;
    Ok(())
}

fn clear(tx: &Transaction<'_>, key: SyncKey) -> Result<(), StoreError> {
    tx.execute("DELETE FROM sync_state WHERE key = ?1", [key.code()])?;
    Ok(())
}

/// What applying a pull page did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PullApplied {
    /// Items applied.
    pub applied: usize,
    /// Items this device could not read, recorded in `feed_rejected`.
    pub rejected: usize,
    /// Events queued again: the page came from a new epoch (a restored server).
    pub requeued: usize,
}

/// When `epoch` is not the one this device knows (the server was restored from a backup), puts
/// back in the queue everything it still holds, photos included (the restored server may lack
/// them; asking costs one request each, and a file it holds is not sent again); gives how many
/// events; then keeps `epoch` as the one known (in the caller's transaction).
fn adopt_epoch(tx: &rusqlite::Transaction<'_>, epoch: &str) -> Result<usize, StoreError> {
    let known = get(tx, SyncKey::Epoch)?;
    set(tx, SyncKey::Epoch, epoch)?;
    if known.as_deref().is_none_or(|e| e == epoch) {
        return Ok(0);
    }
    let events = tx.execute(
        "UPDATE outbox SET sent_at = NULL WHERE sent_at IS NOT NULL",
        [],
    )?;
    tx.execute(
        "UPDATE photo SET uploaded_at = NULL WHERE uploaded_at IS NOT NULL AND data IS NOT NULL",
        [],
    )?;
    Ok(events)
}

impl Store {
    /// A sync value.
    pub fn sync_value(&self, key: SyncKey) -> Result<Option<String>, StoreError> {
        get(&self.conn, key)
    }

    /// The feed cursor pulled through (0 before the first pull).
    pub fn cursor(&self) -> Result<i64, StoreError> {
        get_i64(&self.conn, SyncKey::Cursor)
    }

    /// The member's role from enrollment; a stored role this build does not know is a corrupt row.
    pub fn role(&self) -> Result<Option<Role>, StoreError> {
        get_parsed(&self.conn, SyncKey::Role, Role::from_code)
    }

    /// When the ward server was last reached successfully.
    pub fn last_success(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        get_parsed(&self.conn, SyncKey::LastSuccess, rows::parse_time)
    }

    /// Feed items this device could not read: (cursor, reason), oldest first.
    pub fn feed_rejected(&self) -> Result<Vec<(i64, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT cursor, reason FROM feed_rejected ORDER BY cursor")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a sync error in words for the UI (or clears it).
    pub fn set_sync_error(&mut self, error: Option<&str>) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        match error {
            Some(e) => set(&tx, SyncKey::LastError, e)?,
            None => clear(&tx, SyncKey::LastError)?,
        }
        tx.commit()?;
        Ok(())
    }

    /// Saves the credentials and setup from an enrollment in one transaction, replacing the demo
    /// ward and dropping what was recorded in it.
    pub fn save_enrollment(
        &mut self,
        server_url: &str,
        e: &EnrollResponse,
    ) -> Result<(), StoreError> {
        let setup: WardSetup = e.setup.clone().validate()?;
        let tx = self.conn.transaction()?;
        let was_demo: bool = tx
            .query_row("SELECT demo FROM ward", [], |r| r.get(0))
            .optional()?
            .unwrap_or(true);
        if was_demo && get(&tx, SyncKey::Token)?.is_none() {
            // The demo is a sandbox whose records never go to the ward police: they are dropped, and
            // the device's sequence starts again at 1 so the real ward sees no gap.
            tx.execute_batch(
                "DELETE FROM correction; DELETE FROM observation; DELETE FROM checkin; DELETE FROM shift;
                 DELETE FROM outbox; DELETE FROM team_event; DELETE FROM feed_rejected;
                 UPDATE device SET next_seq = 1;",
            )?;
        }
        write_setup(&tx, &setup)?;
        for (k, v) in [
            (SyncKey::ServerUrl, server_url),
            (SyncKey::Token, e.token.as_str()),
            (SyncKey::MemberId, e.member_id.as_str()),
            (SyncKey::Role, e.role.code()),
            (SyncKey::Epoch, e.epoch.as_str()),
            (SyncKey::Cursor, "0"),
        ] {
            set(&tx, k, v)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Applies a push reply: refused events are parked, events 1..=stored_through marked sent; a new
    /// epoch or a server that lost acknowledged events puts them back in the queue.
    pub fn apply_push(
        &mut self,
        reply: &PushResponse,
        now: DateTime<Utc>,
    ) -> Result<PushApplied, StoreError> {
        let tx = self.conn.transaction()?;
        let mut applied = PushApplied {
            requeued: adopt_epoch(&tx, &reply.epoch)?,
            ..PushApplied::default()
        };
        let acked = get_i64(&tx, SyncKey::AckedThrough)?;
        if reply.stored_through < acked {
            applied.requeued += outbox::unmark_sent_after(&tx, reply.stored_through)?;
        }
        for r in &reply.refused {
            outbox::mark_refused(&tx, &r.event_id, r.code, &r.message)?;
            applied.refused += 1;
        }
        applied.marked_sent = outbox::mark_sent_through(&tx, reply.stored_through, now)?;
        set(
            &tx,
            SyncKey::AckedThrough,
            &reply.stored_through.to_string(),
        )?;
        set(&tx, SyncKey::LastSuccess, &now.to_rfc3339())?;
        clear(&tx, SyncKey::LastError)?;
        tx.commit()?;
        Ok(applied)
    }

    /// Applies a pull page and saves its cursor in one transaction. An item this device cannot
    /// read, or a setup that breaks a rule, is recorded in `feed_rejected` with the reason (and
    /// logged by the caller); the cursor moves past it either way.
    pub fn apply_pull(
        &mut self,
        page: &PullResponse,
        now: DateTime<Utc>,
    ) -> Result<PullApplied, StoreError> {
        let tx = self.conn.transaction()?;
        let mut done = PullApplied {
            // A device with nothing to push learns of a restore here.
            requeued: adopt_epoch(&tx, &page.epoch)?,
            ..PullApplied::default()
        };
        for item in &page.items {
            match item.body() {
                Ok(FeedBody::Setup(setup)) => {
                    write_setup(&tx, &setup)?;
                    done.applied += 1;
                }
                Ok(FeedBody::Roster(feed)) => {
                    super::roster::write_roster(&tx, &feed)?;
                    done.applied += 1;
                }
                Ok(FeedBody::Event(e)) => {
                    tx.execute(
                        "INSERT OR IGNORE INTO team_event(event_id, cursor, device_id, kind, entity_id, payload, client_time)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        params![e.event_id, item.cursor, e.device_id, e.kind.code(), e.entity_id, e.payload.to_string(), e.client_time.to_rfc3339()],
                    )?;
                    done.applied += 1;
                }
                Err(reason) => {
                    tx.execute(
                        "INSERT OR REPLACE INTO feed_rejected(cursor, kind, reason, payload) VALUES (?1, ?2, ?3, ?4)",
                        params![item.cursor, item.kind, reason.detail, item.payload.to_string()],
                    )?;
                    done.rejected += 1;
                }
            }
        }
        set(&tx, SyncKey::Cursor, &page.cursor.to_string())?;
        // The ward server was reached: that is the latest news, and an older error is not.
        set(&tx, SyncKey::LastSuccess, &now.to_rfc3339())?;
        clear(&tx, SyncKey::LastError)?;
        tx.commit()?;
        Ok(done)
    }

    /// How many team events (leaders) this device holds.
    pub fn team_event_count(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM team_event", [], |r| r.get(0))?)
    }
}
