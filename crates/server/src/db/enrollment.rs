//! One-time enrollment codes, devices and their tokens: who a request comes from.

use super::ServerDb;
use crate::error::ServerError;
use crate::secret;
use chrono::{DateTime, Duration, Utc};
use patrol_domain::ward::Role;
use patrol_store::rows;
use patrol_wire::api::CodeRefusal;
use patrol_wire::feed::SETUP_KIND;
use rusqlite::{params, Connection, OptionalExtension};

/// Who a token belongs to: everything the server trusts about a request comes from here.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceAuth {
    /// The device's id.
    pub device_id: String,
    /// Its member.
    pub member_id: String,
    /// The member's role.
    pub role: Role,
    /// The member's team.
    pub team_id: String,
    /// The team's ward.
    pub ward_id: String,
}

/// A device as the admin lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRow {
    /// Device id.
    pub id: String,
    /// Member name.
    pub member: String,
    /// Enrolled at.
    pub enrolled_at: String,
    /// Last request.
    pub last_seen: Option<String>,
    /// Server minus device clock.
    pub clock_offset_ms: Option<i64>,
    /// Events 1..=n stored.
    pub stored_through: i64,
    /// Revoked at.
    pub revoked_at: Option<String>,
}

impl ServerDb {
    /// Issues a one-time enrollment code for a member, valid for `ttl`. Returns the code.
    pub fn issue_code(
        &mut self,
        member_id: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<String, ServerError> {
        let exists: bool = self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM member WHERE id = ?1)",
            [member_id],
            |r| r.get(0),
        )?;
        if !exists {
            return Err(ServerError::NotFound(format!("member {member_id}")));
        }
        insert_code(&self.conn, member_id, ttl, now)
    }

    /// Redeems a code: once, before it expires. Returns the new token and the device's identity.
    /// A device id already enrolled for another member is refused (a code never takes over
    /// another member's device); the same member re-enrolling the same device gets a new token.
    pub fn redeem(
        &mut self,
        code: &str,
        device_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, DeviceAuth), ServerError> {
        if device_id.is_empty() || device_id.len() > 64 {
            return Err(ServerError::BadRequest(
                "device_id must be 1–64 characters".into(),
            ));
        }
        let tx = self.conn.transaction()?;
        let row: Option<(String, String, Option<String>)> = tx
            .query_row(
                "SELECT member_id, expires_at, used_at FROM enrollment WHERE code_hash = ?1",
                [secret::hash(code)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((member_id, expires_at, used_at)) = row else {
            return Err(ServerError::Code(CodeRefusal::Unknown));
        };
        if used_at.is_some() {
            return Err(ServerError::Code(CodeRefusal::Used));
        }
        let expires = rows::stored(
            "enrollment",
            &member_id,
            "expiry",
            &expires_at,
            rows::parse_time,
        )?;
        if expires < now {
            return Err(ServerError::Code(CodeRefusal::Expired));
        }
        let existing: Option<(String, Option<String>)> = tx
            .query_row(
                "SELECT member_id, revoked_at FROM device WHERE id = ?1",
                [device_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match existing {
            // A revoked device id stays revoked.
            Some((_, Some(_))) => return Err(ServerError::Revoked),
            Some((owner, None)) if owner != member_id => {
                tracing::warn!(device = %device_id, "enrollment refused: the device id belongs to another member");
                return Err(ServerError::DeviceTaken);
            }
            _ => {}
        }
        let token = secret::new_token();
        tx.execute(
            "UPDATE enrollment SET used_at = ?1 WHERE code_hash = ?2",
            params![now.to_rfc3339(), secret::hash(code)],
        )?;
        // New, or the same member's device again: it keeps its id and history, with a new token.
        tx.execute(
            "INSERT INTO device(id, member_id, token_hash, enrolled_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(id) DO UPDATE SET token_hash = excluded.token_hash",
            params![device_id, member_id, secret::hash(&token), now.to_rfc3339()],
        )?;
        let auth = authenticate(&tx, &token)?;
        // The enrollment answer carries the team's current setup: its feed item is not pulled.
        tx.execute(
            "UPDATE device SET setup_seen = COALESCE(
                 (SELECT MAX(cursor) FROM feed WHERE team_id = ?2 AND kind = ?3), 0)
             WHERE id = ?1",
            params![device_id, auth.team_id, SETUP_KIND],
        )?;
        tx.commit()?;
        Ok((token, auth))
    }

    /// The device behind a bearer token; revoked devices are refused.
    pub fn authenticate(&self, token: &str) -> Result<DeviceAuth, ServerError> {
        authenticate(&self.conn, token)
    }

    /// Devices of a ward, for the admin.
    pub fn devices(&self, ward_id: &str) -> Result<Vec<DeviceRow>, ServerError> {
        let mut stmt = self.conn.prepare(
            "SELECT d.id, m.name, d.enrolled_at, d.last_seen, d.clock_offset_ms, d.stored_through, d.revoked_at
             FROM device d JOIN member m ON m.id = d.member_id JOIN team t ON t.id = m.team_id
             WHERE t.ward_id = ?1 ORDER BY d.enrolled_at",
        )?;
        let rows = stmt.query_map([ward_id], |r| {
            Ok(DeviceRow {
                id: r.get(0)?,
                member: r.get(1)?,
                enrolled_at: r.get(2)?,
                last_seen: r.get(3)?,
                clock_offset_ms: r.get(4)?,
                stored_through: r.get(5)?,
                revoked_at: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Revokes a device; its next request is refused.
    pub fn revoke(&mut self, device_id: &str, now: DateTime<Utc>) -> Result<(), ServerError> {
        let n = revoke_device(&self.conn, device_id, now)?;
        if n == 0 {
            return Err(ServerError::NotFound(format!("device {device_id}")));
        }
        Ok(())
    }
}

/// Stores a new one-time code for `member_id` (which must exist), valid for `ttl`, inside the
/// caller's transaction. Returns the code; only its hash is stored.
pub(super) fn insert_code(
    conn: &Connection,
    member_id: &str,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<String, ServerError> {
    let code = secret::new_code();
    conn.execute(
        "INSERT INTO enrollment(code_hash, member_id, expires_at) VALUES (?1, ?2, ?3)",
        params![secret::hash(&code), member_id, (now + ttl).to_rfc3339()],
    )?;
    Ok(code)
}

/// Revokes a device (an already revoked one keeps its first revocation time) inside the caller's
/// transaction. Returns how many devices have that id (0 or 1).
pub(super) fn revoke_device(
    conn: &Connection,
    device_id: &str,
    now: DateTime<Utc>,
) -> Result<usize, ServerError> {
    Ok(conn.execute(
        "UPDATE device SET revoked_at = COALESCE(revoked_at, ?1) WHERE id = ?2",
        params![now.to_rfc3339(), device_id],
    )?)
}

/// The device behind a bearer token, on any connection; revoked devices are refused.
pub fn authenticate(conn: &Connection, token: &str) -> Result<DeviceAuth, ServerError> {
    let row: Option<(DeviceAuth, Option<String>)> = conn
        .prepare_cached(
            "SELECT d.id, m.id, m.role, t.id, t.ward_id, d.revoked_at
             FROM device d JOIN member m ON m.id = d.member_id JOIN team t ON t.id = m.team_id
             WHERE d.token_hash = ?1",
        )?
        .query_row([secret::hash(token)], |r| {
            let member_id: String = r.get(1)?;
            Ok((
                DeviceAuth {
                    device_id: r.get(0)?,
                    role: rows::role(r, 2, &member_id)?,
                    member_id,
                    team_id: r.get(3)?,
                    ward_id: r.get(4)?,
                },
                r.get(5)?,
            ))
        })
        .optional()?;
    match row {
        None => Err(ServerError::Unauthorized),
        Some((_, Some(_))) => Err(ServerError::Revoked),
        Some((a, None)) => Ok(a),
    }
}
