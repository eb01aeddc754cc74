//! The audit of the team API: every change appended, in the change's own transaction, with who
//! made it (member and device), when, on which team, and the change as JSON. Read by the ward's
//! officers and admins.

use super::enrollment::DeviceAuth;
use crate::error::ServerError;
use chrono::{DateTime, Utc};
use patrol_store::rows;
use patrol_wire::api::{AuditAction, AuditRecord, AuditResponse};
use rusqlite::{params, Connection};

/// Appends one audit record for a change `auth` made to `team_id`, inside the caller's transaction.
pub(super) fn append(
    conn: &Connection,
    auth: &DeviceAuth,
    team_id: &str,
    action: AuditAction,
    target: &str,
    change: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), ServerError> {
    conn.prepare_cached(
        "INSERT INTO audit(at, ward_id, team_id, member_id, device_id, action, target, change)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        now.to_rfc3339(),
        auth.ward_id,
        team_id,
        auth.member_id,
        auth.device_id,
        action.code(),
        target,
        change.to_string()
    ])?;
    Ok(())
}

/// The audit records of `ward_id` after id `after` (of one team if `team` is given), oldest
/// first, at most `limit`; read on any connection.
pub fn read(
    conn: &Connection,
    ward_id: &str,
    team: Option<&str>,
    after: i64,
    limit: usize,
) -> Result<AuditResponse, ServerError> {
    let mut items: Vec<AuditRecord> = conn
        .prepare_cached(
            "SELECT id, at, team_id, member_id, device_id, action, target, change FROM audit
             WHERE ward_id = ?1 AND id > ?2 AND (?3 IS NULL OR team_id = ?3)
             ORDER BY id LIMIT ?4",
        )?
        .query_map(params![ward_id, after, team, limit as i64 + 1], |r| {
            let id: i64 = r.get(0)?;
            let key = id.to_string();
            Ok(AuditRecord {
                id,
                at: rows::time(r, 1, "audit", &key)?,
                team_id: r.get(2)?,
                member_id: r.get(3)?,
                device_id: r.get(4)?,
                action: rows::parsed(r, 5, ("audit", &key), "action", AuditAction::from_code)?,
                target: r.get(6)?,
                change: rows::json(r, 7, "audit", &key)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let more = items.len() > limit;
    items.truncate(limit);
    Ok(AuditResponse {
        cursor: items.last().map(|i| i.id).unwrap_or(after),
        items,
        more,
    })
}
