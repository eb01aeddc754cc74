//! A team's nights as the server holds them: its stored events read through the same domain
//! function as the leader's phone ([`patrol_domain::review::team_log`]), so both show one log.

use super::ServerDb;
use crate::error::ServerError;
use patrol_domain::review::{team_log, TeamRecord, TeamView, Unreadable};
use patrol_wire::event::records_of;
use rusqlite::{params, Connection};

/// The records of `team_id` the server stores, in the order they were stored: its members' events written (device clock)
/// from `from` to before `to` (RFC 3339 text; "" and "~" for all of them), and every step taken
/// on its tips, whenever and by whom (an officer of another team). Events that do not parse are
/// logged and listed apart.
pub fn team_records(
    conn: &Connection,
    team_id: &str,
    from: &str,
    to: &str,
) -> Result<(Vec<TeamRecord>, Vec<Unreadable>), ServerError> {
    let mut stmt = conn.prepare_cached(
        "SELECT event_id, kind, payload FROM (
           SELECT cursor, event_id, kind, payload FROM event
            WHERE team_id = ?1 AND kind <> 'tip_followed_up' AND client_time >= ?2 AND client_time < ?3
           UNION ALL
           SELECT s.cursor, s.event_id, s.kind, s.payload FROM event s
            WHERE s.kind = 'tip_followed_up'
              AND json_extract(s.payload, '$.observation_id') IN
                  (SELECT entity_id FROM event WHERE kind = 'observed' AND team_id = ?1))
         ORDER BY cursor",
    )?;
    let rows = stmt
        .query_map(params![team_id, from, to], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<Vec<(String, String, String)>, _>>()?;
    Ok(parsed(rows))
}

/// Stored events (id, kind, payload) read as records; those that do not parse are logged and
/// listed apart.
pub(super) fn parsed(
    rows: impl IntoIterator<Item = (String, String, String)>,
) -> (Vec<TeamRecord>, Vec<Unreadable>) {
    let (records, unreadable) = records_of(rows);
    for u in &unreadable {
        tracing::warn!(event_id = %u.event_id, detail = %u.detail, "stored event does not parse");
    }
    (records, unreadable)
}

/// The log of `team_id` from every event the server stores for it (see [`team_records`]), on
/// any connection.
pub fn team_view(conn: &Connection, team_id: &str) -> Result<TeamView, ServerError> {
    let route_len = super::setup::team_setup(conn, team_id)?.checkpoints.len();
    let (records, unreadable) = team_records(conn, team_id, "", "~")?;
    Ok(TeamView {
        log: team_log(records, route_len),
        unreadable,
    })
}

impl ServerDb {
    /// The log of `team_id` (see [`team_view`]).
    pub fn team_view(&self, team_id: &str) -> Result<TeamView, ServerError> {
        team_view(&self.conn, team_id)
    }
}
