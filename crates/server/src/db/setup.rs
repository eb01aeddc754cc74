//! Wards, teams, members and routes: each edit is one transaction that also publishes the changed
//! teams' setups to the feed, so every phone of those teams receives the change.

use super::feed::{self, FeedNote};
use super::{exists, ServerDb};
use crate::audience::Audience;
use crate::error::ServerError;
use patrol_domain::shift::ShiftSlot;
use patrol_domain::ward::{Checkpoint, Member, Team, Ward, WardSetup};
use patrol_store::rows::{self, write_member, write_route, write_team, write_ward};
use patrol_wire::feed::setup_payload;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

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

    /// Creates a team of `ward_id` with `t`'s slots, or renames one of that ward (its name and
    /// leader's phone; its slots stay as set). A team id of another ward is refused: nothing is
    /// changed there.
    pub fn upsert_team(&mut self, ward_id: &str, t: &Team) -> Result<Edit, ServerError> {
        let tx = self.conn.transaction()?;
        exists(&tx, "ward", ward_id)?;
        let before: Option<(String, String, String)> = tx
            .query_row(
                "SELECT ward_id, name, leader_phone FROM team WHERE id = ?1",
                [&t.id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let edit = match before {
            None => {
                write_team(&tx, ward_id, t)?;
                Edit::Created
            }
            Some((ward, ..)) if ward != ward_id => {
                return Err(ServerError::Invalid(format!(
                    "team id {} belongs to ward {ward}, not to ward {ward_id}; nothing was changed \
                     (give the new team another --id)",
                    t.id
                )))
            }
            Some((_, name, phone)) => {
                let mut what = Vec::new();
                if name != t.name {
                    what.push(format!("name '{name}' -> '{}'", t.name));
                }
                if phone != t.leader_phone {
                    what.push(format!("leader's phone {phone} -> {}", t.leader_phone));
                }
                tx.execute(
                    "UPDATE team SET name = ?2, leader_phone = ?3 WHERE id = ?1",
                    params![t.id, t.name, t.leader_phone],
                )?;
                Edit::changed(what)
            }
        };
        let note = publish_edit(tx, &t.id, &edit)?;
        self.fresh.extend(note);
        Ok(edit)
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

    /// Adds a member to a team, or changes the name and role of one of its members. A member id
    /// of another team (of this ward or another) is refused, as is one who left the team: nothing
    /// is changed.
    pub fn upsert_member(&mut self, team_id: &str, m: &Member) -> Result<Edit, ServerError> {
        let tx = self.conn.transaction()?;
        exists(&tx, "team", team_id)?;
        let before: Option<(String, String, String, String, Option<String>)> = tx
            .query_row(
                "SELECT m.team_id, t.ward_id, m.name, m.role, m.left_at
                   FROM member m JOIN team t ON t.id = m.team_id WHERE m.id = ?1",
                [&m.id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let edit = match before {
            None => Edit::Created,
            Some((team, ward, ..)) if team != team_id => {
                return Err(ServerError::Invalid(format!(
                    "member id {} belongs to team {team} of ward {ward}, not to team {team_id}; \
                     nothing was changed (a member is neither moved nor changed from another \
                     team: give the new member another --id)",
                    m.id
                )))
            }
            Some((.., Some(left))) => {
                return Err(ServerError::Invalid(format!(
                    "member {} left team {team_id} at {left}; nothing was changed",
                    m.id
                )))
            }
            Some((_, _, name, role, None)) => {
                let mut what = Vec::new();
                if name != m.name {
                    what.push(format!("name '{name}' -> '{}'", m.name));
                }
                if role != m.role.code() {
                    what.push(format!("role {role} -> {}", m.role.code()));
                }
                Edit::changed(what)
            }
        };
        if edit != Edit::Unchanged {
            write_member(&tx, team_id, m)?;
        }
        let note = publish_edit(tx, team_id, &edit)?;
        self.fresh.extend(note);
        Ok(edit)
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

/// Commits `tx` with the team's new setup published, unless nothing changed; the published item.
fn publish_edit(
    tx: Transaction<'_>,
    team_id: &str,
    edit: &Edit,
) -> Result<Option<FeedNote>, ServerError> {
    if *edit == Edit::Unchanged {
        return Ok(None);
    }
    let note = publish_setup(&tx, team_id)?;
    tx.commit()?;
    Ok(Some(note))
}

/// What an edit of a team or member did, for the administrator to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Made anew.
    Created,
    /// Changed: what, in words ("role member -> leader").
    Changed(Vec<String>),
    /// Already so: nothing written, nothing published.
    Unchanged,
}

impl Edit {
    fn changed(what: Vec<String>) -> Self {
        if what.is_empty() {
            Edit::Unchanged
        } else {
            Edit::Changed(what)
        }
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

/// Puts the team's current setup in the feed in place of its earlier one, inside the transaction
/// that changed it.
pub(super) fn publish_setup(tx: &Transaction<'_>, team_id: &str) -> Result<FeedNote, ServerError> {
    let setup = team_setup(tx, team_id)?;
    Ok(feed::replace_setup(
        tx,
        Audience::setup(team_id, &setup.ward.id),
        &setup_payload(&setup),
    )?)
}
