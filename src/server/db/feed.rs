//! The feed devices pull by cursor: their team's setups, and its events for those who see logs.

use super::enrollment::DeviceAuth;
use crate::server::error::ServerError;
use crate::store::rows;
use crate::wire::api::PullResponse;
use crate::wire::feed::FeedItem;
use rusqlite::{params, Connection};

/// The feed after `after` for this device, read on any connection. A stored item whose payload
/// is not JSON is a corrupt row named by its cursor, never sent as something else.
pub fn pull(
    conn: &Connection,
    auth: &DeviceAuth,
    after: i64,
    limit: usize,
) -> Result<PullResponse, ServerError> {
    let mut stmt = conn.prepare_cached(
        "SELECT cursor, kind, payload FROM feed WHERE team_id = ?1 AND cursor > ?2 AND (leaders = 0 OR ?3)
         ORDER BY cursor LIMIT ?4",
    )?;
    let mut items: Vec<FeedItem> = stmt
        .query_map(
            params![auth.team_id, after, auth.role.sees_logs(), limit as i64 + 1],
            |r| {
                let cursor: i64 = r.get(0)?;
                Ok(FeedItem {
                    kind: r.get(1)?,
                    payload: rows::json(r, 2, "feed", &cursor.to_string())?,
                    cursor,
                })
            },
        )?
        .collect::<Result<_, _>>()?;
    let more = items.len() > limit;
    items.truncate(limit);
    let cursor = items.last().map(|i| i.cursor).unwrap_or(after);
    Ok(PullResponse {
        epoch: super::epoch(conn)?,
        items,
        cursor,
        more,
    })
}
