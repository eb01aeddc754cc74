//! Wards, teams, members and routes: each edit is one transaction that also publishes the changed
//! teams' setups to the feed, so every phone of those teams receives the change.

use super::feed::{self, FeedNote};
use super::{exists, ServerDb};
use crate::domain::shift::ShiftSlot;
use crate::domain::ward::{Checkpoint, Member, Team, Ward, WardSetup};
use crate::server::audience::Audience;
use crate::server::error::ServerError;
use crate::store::rows::{self, write_member, write_route, write_team, write_ward};
use crate::wire::feed::{setup_payload, SETUP_KIND};
use rusqlite::{params, Connection, Transaction};

impl ServerDb {
    /// Creates or changes a ward; a change reaches the phones of every team of the ward.
    pub fn upsert_ward(&mut self, w: &Ward) -> Result<(), ServerError> {
        check_ward(w)?;
        let tx = self.conn.transaction()?;
        write_ward(&tx, w)?;
        let teams: Vec<String> = {
            let mut stmt = tx.prepare("SELECT id FROM team WHERE ward_id = ?1 ORDER BY id")?;
            let rows = stmt.query_map([&w.id], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let notes = teams
            .iter()
            .map(|team| publish_setup(&tx, team))
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit()?;
        self.fresh.extend(notes);
        Ok(())
    }

    /// Creates or updates a team of `ward_id`, with its shift slots.
    pub fn upsert_team(&mut self, ward_id: &str, t: &Team) -> Result<(), ServerError> {
        let tx = self.conn.transaction()?;
        exists(&tx, "ward", ward_id)?;
        write_team(&tx, ward_id, t)?;
        let note = publish_setup(&tx, &t.id)?;
        tx.commit()?;
        self.fresh.push(note);
        Ok(())
    }

    /// Replaces a team's shift slots.
    pub fn set_slots(&mut self, team_id: &str, slots: &[ShiftSlot]) -> Result<(), ServerError> {
        if slots.is_empty() {
            return Err(ServerError::Invalid(
                "a team needs at least one shift".into(),
            ));
        }
        let slots = serde_json::to_string(slots).expect("slots serialise");
        self.edit_team(team_id, |tx| {
            tx.execute(
                "UPDATE team SET slots_json = ?1 WHERE id = ?2",
                params![slots, team_id],
            )
            .map(|_| ())
        })
    }

    /// Adds or updates a member of a team.
    pub fn upsert_member(&mut self, team_id: &str, m: &Member) -> Result<(), ServerError> {
        self.edit_team(team_id, |tx| write_member(tx, team_id, m))
    }

    /// Replaces a team's route.
    pub fn set_route(&mut self, team_id: &str, cps: &[Checkpoint]) -> Result<(), ServerError> {
        self.edit_team(team_id, |tx| write_route(tx, team_id, cps))
    }

    /// Loads a whole ward setup (the demo ward) in one transaction, published once.
    pub fn load_setup(&mut self, s: &WardSetup) -> Result<(), ServerError> {
        check_ward(&s.ward)?;
        let tx = self.conn.transaction()?;
        write_ward(&tx, &s.ward)?;
        write_team(&tx, &s.ward.id, &s.team)?;
        for m in &s.members {
            write_member(&tx, &s.team.id, m)?;
        }
        write_route(&tx, &s.team.id, &s.checkpoints)?;
        let note = publish_setup(&tx, &s.team.id)?;
        tx.commit()?;
        self.fresh.push(note);
        Ok(())
    }

    /// Changes an existing team in one transaction and publishes its new setup to the feed.
    fn edit_team(
        &mut self,
        team_id: &str,
        change: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<()>,
    ) -> Result<(), ServerError> {
        let tx = self.conn.transaction()?;
        exists(&tx, "team", team_id)?;
        change(&tx)?;
        let note = publish_setup(&tx, team_id)?;
        tx.commit()?;
        self.fresh.push(note);
        Ok(())
    }

    /// The setup a member of `team_id` patrols with.
    pub fn team_setup(&self, team_id: &str) -> Result<WardSetup, ServerError> {
        team_setup(&self.conn, team_id)
    }

    /// Whether any ward exists.
    pub fn has_wards(&self) -> Result<bool, ServerError> {
        Ok(self
            .conn
            .query_row("SELECT EXISTS(SELECT 1 FROM ward)", [], |r| r.get(0))?)
    }
}

/// Refuses a ward whose settings the domain refuses (a photo keeping period too long).
fn check_ward(w: &Ward) -> Result<(), ServerError> {
    w.validate()
        .map_err(|e| ServerError::Invalid(format!("ward {}: {e}", w.id)))
}

/// The setup of `team_id`, read on any connection.
pub fn team_setup(conn: &Connection, team_id: &str) -> Result<WardSetup, ServerError> {
    rows::team_setup(conn, team_id)?.ok_or_else(|| ServerError::NotFound(format!("team {team_id}")))
}

/// Appends the team's current setup to the feed, inside the transaction that changed it.
pub(super) fn publish_setup(tx: &Transaction<'_>, team_id: &str) -> Result<FeedNote, ServerError> {
    let setup = team_setup(tx, team_id)?;
    Ok(feed::append(
        tx,
        Audience::setup(team_id, &setup.ward.id),
        SETUP_KIND,
        &setup_payload(&setup),
    )?)
}
