//! What the device keeps about syncing: credentials, epoch, cursor, and how replies are applied,
//! each in one transaction.

use super::outbox;
use super::setup::write_setup;
use super::{Store, StoreError};
use crate::domain::ward::WardSetup;
use crate::sync::protocol::{EnrollResponse, PullResponse, PushResponse};
use chrono::{DateTime, Utc};
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

fn get(tx: &rusqlite::Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(tx
        .query_row("SELECT value FROM sync_state WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?)
}

fn set(tx: &Transaction<'_>, key: &str, value: &str) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO sync_state(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

impl Store {
    /// A sync value: server_url, token, member_id, role, epoch, cursor, acked_through, last_success, last_error.
    pub fn sync_value(&self, key: &str) -> Result<Option<String>, StoreError> {
        get(&self.conn, key)
    }

    /// Records a sync error in words for the UI (or clears it).
    pub fn set_sync_error(&mut self, error: Option<&str>) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        match error {
            Some(e) => set(&tx, "last_error", e)?,
            None => {
                tx.execute("DELETE FROM sync_state WHERE key = 'last_error'", [])?;
            }
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
        if was_demo && get(&tx, "token")?.is_none() {
            // The demo is a sandbox whose records never go to the ward police: they are dropped, and
            // the device's sequence starts again at 1 so the real ward sees no gap.
            tx.execute_batch(
                "DELETE FROM correction; DELETE FROM observation; DELETE FROM checkin; DELETE FROM shift;
                 DELETE FROM outbox; DELETE FROM team_event; UPDATE device SET next_seq = 1;",
            )?;
        }
        write_setup(&tx, &setup)?;
        for (k, v) in [
            ("server_url", server_url),
            ("token", e.token.as_str()),
            ("member_id", e.member_id.as_str()),
            ("role", e.role.as_str()),
            ("epoch", e.epoch.as_str()),
            ("cursor", "0"),
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
        let mut applied = PushApplied::default();
        let known_epoch = get(&tx, "epoch")?;
        if known_epoch.as_deref().is_some_and(|e| e != reply.epoch) {
            // Restored from a backup: everything this device still holds goes again.
            applied.requeued = tx.execute(
                "UPDATE outbox SET sent_at = NULL WHERE sent_at IS NOT NULL",
                [],
            )?;
        }
        let acked: i64 = get(&tx, "acked_through")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if reply.stored_through < acked {
            applied.requeued += outbox::unmark_sent_after(&tx, reply.stored_through)?;
        }
        for r in &reply.refused {
            outbox::mark_refused(&tx, &r.event_id, &r.code, &r.message)?;
            applied.refused += 1;
        }
        applied.marked_sent = outbox::mark_sent_through(&tx, reply.stored_through, now)?;
        set(&tx, "epoch", &reply.epoch)?;
        set(&tx, "acked_through", &reply.stored_through.to_string())?;
        set(&tx, "last_success", &now.to_rfc3339())?;
        tx.execute("DELETE FROM sync_state WHERE key = 'last_error'", [])?;
        tx.commit()?;
        Ok(applied)
    }

    /// Applies a pull page and saves its cursor in one transaction.
    pub fn apply_pull(&mut self, page: &PullResponse) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for item in &page.items {
            if item.kind == "setup" {
                let setup: WardSetup =
                    serde_json::from_value(item.payload.clone()).map_err(|e| {
                        StoreError::Ward(crate::domain::ward::WardError::Format(e.to_string()))
                    })?;
                // A team without a route yet cannot patrol: keep the last usable setup.
                if let Ok(setup) = setup.validate() {
                    write_setup(&tx, &setup)?;
                }
            } else {
                let p = &item.payload;
                let text = |k: &str| p[k].as_str().unwrap_or_default().to_string();
                tx.execute(
                    "INSERT OR IGNORE INTO team_event(event_id, cursor, device_id, kind, entity_id, payload, client_time)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![text("event_id"), item.cursor, text("device_id"), item.kind, text("entity_id"), p["payload"].to_string(), text("client_time")],
                )?;
            }
        }
        set(&tx, "cursor", &page.cursor.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// How many team events (leaders) this device holds.
    pub fn team_event_count(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM team_event", [], |r| r.get(0))?)
    }
}
