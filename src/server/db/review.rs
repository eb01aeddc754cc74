//! A team's nights as the server holds them: its stored events read through the same domain
//! function as the leader's phone ([`crate::domain::review::team_log`]), so both show one log.

use super::ServerDb;
use crate::domain::review::{team_log, TeamView};
use crate::server::error::ServerError;
use crate::wire::event::records_of;
use rusqlite::Connection;

/// The log of `team_id` from every event the server stores for it, on any connection: its
/// members' events, and the steps taken on its tips by anyone (an officer of another team).
pub fn team_view(conn: &Connection, team_id: &str) -> Result<TeamView, ServerError> {
    super::exists(conn, "team", team_id)?;
    let route_len: i64 = conn.query_row(
        "SELECT COUNT(*) FROM checkpoint WHERE team_id = ?1",
        [team_id],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT event_id, kind, payload FROM event WHERE team_id = ?1
         UNION ALL
         SELECT s.event_id, s.kind, s.payload FROM event s
          WHERE s.kind = 'tip_followed_up' AND s.team_id <> ?1
            AND json_extract(s.payload, '$.observation_id') IN
                (SELECT entity_id FROM event WHERE kind = 'observed' AND team_id = ?1)",
    )?;
    let rows = stmt
        .query_map([team_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<Vec<(String, String, String)>, _>>()?;
    let (records, unreadable) = records_of(rows);
    for u in &unreadable {
        tracing::warn!(event_id = %u.event_id, detail = %u.detail, "stored event does not parse");
    }
    Ok(TeamView {
        log: team_log(records, route_len as usize),
        unreadable,
    })
}

impl ServerDb {
    /// The log of `team_id` (see [`team_view`]).
    pub fn team_view(&self, team_id: &str) -> Result<TeamView, ServerError> {
        team_view(&self.conn, team_id)
    }
}
