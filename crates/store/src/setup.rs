//! The ward setup on this device: ward, team, members and route.

use super::rows;
use super::{Store, StoreError};
use chrono_tz::Tz;
use patrol_domain::shift::DEFAULT_TZ;
use patrol_domain::ward::{Checkpoint, Ward, WardSetup};
use rusqlite::{OptionalExtension, Transaction};

impl Store {
    /// Replaces the ward setup with `setup` in one transaction.
    pub fn load_setup(&mut self, setup: WardSetup) -> Result<(), StoreError> {
        let setup = setup.validate()?;
        let tx = self.conn.transaction()?;
        write_setup(&tx, &setup)?;
        tx.commit()?;
        Ok(())
    }

    /// Replaces the team's route with `checkpoints` (from a GeoJSON import).
    pub fn replace_checkpoints(&mut self, checkpoints: &[Checkpoint]) -> Result<(), StoreError> {
        let team_id: String = self
            .conn
            .query_row("SELECT id FROM team", [], |r| r.get(0))
            .optional()?
            .ok_or(StoreError::NoWard)?;
        let tx = self.conn.transaction()?;
        rows::write_route(&tx, &team_id, checkpoints)?;
        tx.commit()?;
        Ok(())
    }

    /// The ward setup, if one is loaded (the device holds one team's).
    pub fn setup(&self) -> Result<Option<WardSetup>, StoreError> {
        let team_id: Option<String> = self
            .conn
            .query_row("SELECT id FROM team", [], |r| r.get(0))
            .optional()?;
        match team_id {
            Some(id) => Ok(rows::team_setup(&self.conn, &id)?),
            None => Ok(None),
        }
    }

    /// The ward this device patrols in, if a setup is loaded.
    pub fn ward(&self) -> Result<Option<Ward>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {} FROM ward", rows::WARD_COLS),
                [],
                rows::ward,
            )
            .optional()?)
    }

    /// The ward's time zone, Asia/Ho_Chi_Minh when unset or unknown.
    pub fn time_zone(&self) -> Result<Tz, StoreError> {
        let tz: Option<String> = self
            .conn
            .query_row("SELECT tz FROM ward", [], |r| r.get(0))
            .optional()?;
        Ok(tz.and_then(|t| t.parse().ok()).unwrap_or(DEFAULT_TZ))
    }
}

/// Writes a checked setup inside `tx`, replacing the one there.
pub(crate) fn write_setup(tx: &Transaction<'_>, setup: &WardSetup) -> Result<(), StoreError> {
    tx.execute_batch(
        "DELETE FROM checkpoint; DELETE FROM member; DELETE FROM team; DELETE FROM ward;",
    )?;
    rows::write_ward(tx, &setup.ward)?;
    rows::write_team(tx, &setup.ward.id, &setup.team)?;
    for m in &setup.members {
        rows::write_member(tx, &setup.team.id, m)?;
    }
    rows::write_route(tx, &setup.team.id, &setup.checkpoints)?;
    Ok(())
}
