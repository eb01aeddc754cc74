//! The ward setup on this device: ward, team, members and route.

use super::rows::{self, CHECKPOINT_COLS, MEMBER_COLS, TEAM_COLS, WARD_COLS};
use super::{Store, StoreError};
use crate::domain::shift::DEFAULT_TZ;
use crate::domain::ward::{Checkpoint, WardSetup};
use chrono_tz::Tz;
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

    /// The ward setup, if one is loaded.
    pub fn setup(&self) -> Result<Option<WardSetup>, StoreError> {
        let ward = self
            .conn
            .query_row(&format!("SELECT {WARD_COLS} FROM ward"), [], rows::ward)
            .optional()?;
        let Some(ward) = ward else { return Ok(None) };
        let team = self
            .conn
            .query_row(&format!("SELECT {TEAM_COLS} FROM team"), [], rows::team)?;
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {MEMBER_COLS} FROM member ORDER BY role = 'leader' DESC, name"
        ))?;
        let members = stmt
            .query_map([], rows::member)?
            .collect::<Result<Vec<_>, _>>()?;
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {CHECKPOINT_COLS} FROM checkpoint ORDER BY seq"
        ))?;
        let checkpoints = stmt
            .query_map([], rows::checkpoint)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(WardSetup {
            ward,
            team,
            members,
            checkpoints,
        }))
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
