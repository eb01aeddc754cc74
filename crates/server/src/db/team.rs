//! A team run from the phone: its members (add, role, left), enrollment codes, devices and route,
//! each change one transaction with its audit record, checked against what the token's role may
//! do ([`crate::access`]). Setup changes are published to the team's feed as the admin
//! commands publish them.

use super::enrollment::{insert_code, revoke_device, DeviceAuth};
use super::roster::publish_member;
use super::setup::{publish_setup, team_setup};
use super::{audit, ServerDb};
use crate::access::{self, Need};
use crate::error::ServerError;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use patrol_domain::route_file;
use patrol_domain::shift::{night_of, DEFAULT_TZ};
use patrol_domain::text;
use patrol_domain::ward::{Checkpoint, Member, Role, WardSetup};
use patrol_store::rows::{self, write_member, write_route};
use patrol_wire::api::AuditAction;
use patrol_wire::api::{
    AddMemberRequest, DevicesResponse, IssueCodeResponse, LeftResponse, MembersResponse,
    RouteRequest, RouteResponse, TeamDevice, TeamMember, CLOCK_FLAG_MS,
};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::json;
use std::collections::HashSet;

/// Minutes an enrollment code issued from a phone lasts when the request does not say.
pub const CODE_TTL_MINUTES: i64 = 15;
/// Longest life of an enrollment code issued from a phone, in minutes (a day).
pub const CODE_TTL_MAX_MINUTES: i64 = 24 * 60;

/// The ward's time zone, or the default one for a zone this build does not know.
pub fn tz_of(name: &str) -> Tz {
    name.parse().unwrap_or(DEFAULT_TZ)
}

/// The setup of `team_id` once `auth` may do `need` to it: another ward's team is "not found",
/// exactly as a team that does not exist.
pub(super) fn open_team(
    conn: &Connection,
    auth: &DeviceAuth,
    team_id: &str,
    need: Need,
) -> Result<WardSetup, ServerError> {
    let ward: Option<String> = conn
        .prepare_cached("SELECT ward_id FROM team WHERE id = ?1")?
        .query_row([team_id], |r| r.get(0))
        .optional()?;
    access::team(auth, team_id, ward.as_deref(), need)?;
    team_setup(conn, team_id)
}

/// A member of `team_id` as the API lists them, or "not found" for anyone else.
fn team_member(
    conn: &Connection,
    team_id: &str,
    member_id: &str,
) -> Result<TeamMember, ServerError> {
    conn.prepare_cached(
        "SELECT m.id, m.name, m.role, m.left_at,
                (SELECT COUNT(*) FROM device d WHERE d.member_id = m.id AND d.revoked_at IS NULL)
         FROM member m WHERE m.team_id = ?1 AND m.id = ?2",
    )?
    .query_row([team_id, member_id], member_row)
    .optional()?
    .ok_or_else(|| ServerError::NotFound(format!("member {member_id} in team {team_id}")))
}

fn member_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TeamMember> {
    let id: String = r.get(0)?;
    Ok(TeamMember {
        name: r.get(1)?,
        role: rows::role(r, 2, &id)?,
        left_at: rows::opt_time(r, 3, "member", &id)?,
        active_devices: r.get(4)?,
        id,
    })
}

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TeamDevice> {
    let offset: Option<i64> = r.get(5)?;
    Ok(TeamDevice {
        id: r.get(0)?,
        member_id: r.get(1)?,
        member_name: r.get(2)?,
        enrolled_at: r.get(3)?,
        last_seen: r.get(4)?,
        clock_offset_ms: offset,
        clock_off: offset.is_some_and(|o| o.abs() > CLOCK_FLAG_MS),
        stored_through: r.get(6)?,
        revoked_at: r.get(7)?,
    })
}

const DEVICE_SELECT: &str =
    "SELECT d.id, m.id, m.name, d.enrolled_at, d.last_seen, d.clock_offset_ms, d.stored_through,
            d.revoked_at
     FROM device d JOIN member m ON m.id = d.member_id";

/// The members of `team_id`, leaders first then by name, for those who run it.
pub fn members(
    conn: &Connection,
    auth: &DeviceAuth,
    team_id: &str,
) -> Result<MembersResponse, ServerError> {
    open_team(conn, auth, team_id, Need::Run)?;
    let members = conn
        .prepare_cached(
            "SELECT m.id, m.name, m.role, m.left_at,
                    (SELECT COUNT(*) FROM device d WHERE d.member_id = m.id AND d.revoked_at IS NULL)
             FROM member m WHERE m.team_id = ?1
             ORDER BY m.left_at IS NOT NULL, m.role = 'member', m.name, m.id",
        )?
        .query_map([team_id], member_row)?
        .collect::<Result<_, _>>()?;
    Ok(MembersResponse {
        team_id: team_id.into(),
        members,
    })
}

/// The devices of `team_id`'s members, oldest enrollment first, for those who run it.
pub fn devices(
    conn: &Connection,
    auth: &DeviceAuth,
    team_id: &str,
) -> Result<DevicesResponse, ServerError> {
    open_team(conn, auth, team_id, Need::Run)?;
    let devices = conn
        .prepare_cached(&format!(
            "{DEVICE_SELECT} WHERE m.team_id = ?1 ORDER BY d.enrolled_at, d.id"
        ))?
        .query_map([team_id], device_row)?
        .collect::<Result<_, _>>()?;
    Ok(DevicesResponse {
        team_id: team_id.into(),
        devices,
    })
}

impl ServerDb {
    /// Adds a member to `team_id` with a new id, for `auth`.
    pub fn team_add_member(
        &mut self,
        auth: &DeviceAuth,
        team_id: &str,
        req: &AddMemberRequest,
        now: DateTime<Utc>,
    ) -> Result<TeamMember, ServerError> {
        let tx = self.conn.transaction()?;
        open_team(&tx, auth, team_id, Need::Run)?;
        access::may_give(auth.role, Some(req.role))?;
        let name = text::required("field.member_name", &req.name, 100)
            .map_err(|e| ServerError::Invalid(e.to_string()))?;
        let id = format!("m-{}", uuid::Uuid::now_v7().simple());
        let m = Member {
            id: id.clone(),
            name,
            role: req.role,
        };
        write_member(&tx, team_id, &m)?;
        audit::append(
            &tx,
            auth,
            team_id,
            AuditAction::MemberAdd,
            &id,
            &json!({ "id": id, "name": m.name, "role": m.role }),
            now,
        )?;
        let note = publish_setup(&tx, team_id)?;
        let out = team_member(&tx, team_id, &id)?;
        tx.commit()?;
        self.fresh.push(note);
        Ok(out)
    }

    /// Gives `member_id` of `team_id` the role `role`, for `auth`.
    pub fn team_set_role(
        &mut self,
        auth: &DeviceAuth,
        team_id: &str,
        member_id: &str,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<TeamMember, ServerError> {
        let tx = self.conn.transaction()?;
        open_team(&tx, auth, team_id, Need::Run)?;
        let before = team_member(&tx, team_id, member_id)?;
        access::on_member(auth, member_id, before.role, Some(role))?;
        if before.left_at.is_some() {
            return Err(ServerError::Invalid(format!(
                "{} has left the team",
                before.name
            )));
        }
        tx.execute(
            "UPDATE member SET role = ?1 WHERE id = ?2",
            params![role.code(), member_id],
        )?;
        audit::append(
            &tx,
            auth,
            team_id,
            AuditAction::MemberRole,
            member_id,
            &json!({ "from": before.role, "to": role }),
            now,
        )?;
        let note = publish_setup(&tx, team_id)?;
        let out = team_member(&tx, team_id, member_id)?;
        tx.commit()?;
        self.fresh.push(note);
        Ok(out)
    }

    /// Marks `member_id` as having left `team_id`, for `auth`: their records stay, their devices
    /// are revoked and their assignments from tonight on removed.
    pub fn team_member_left(
        &mut self,
        auth: &DeviceAuth,
        team_id: &str,
        member_id: &str,
        now: DateTime<Utc>,
    ) -> Result<LeftResponse, ServerError> {
        let tx = self.conn.transaction()?;
        let setup = open_team(&tx, auth, team_id, Need::Run)?;
        let before = team_member(&tx, team_id, member_id)?;
        access::on_member(auth, member_id, before.role, None)?;
        if before.left_at.is_some() {
            return Err(ServerError::Invalid(format!(
                "{} has already left the team",
                before.name
            )));
        }
        tx.execute(
            "UPDATE member SET left_at = ?1 WHERE id = ?2",
            params![now.to_rfc3339(), member_id],
        )?;
        let revoked: Vec<String> = tx
            .prepare(
                "SELECT id FROM device WHERE member_id = ?1 AND revoked_at IS NULL ORDER BY id",
            )?
            .query_map([member_id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for d in &revoked {
            revoke_device(&tx, d, now)?;
        }
        // A code issued before and not yet redeemed would enroll a phone for someone who left.
        let cancelled_codes = tx.execute(
            "UPDATE enrollment SET used_at = ?1 WHERE member_id = ?2 AND used_at IS NULL",
            params![now.to_rfc3339(), member_id],
        )?;
        let today = night_of(now, tz_of(&setup.ward.tz));
        let removed = tx.execute(
            "DELETE FROM roster WHERE member_id = ?1 AND night >= ?2",
            params![member_id, today.to_string()],
        )?;
        audit::append(
            &tx,
            auth,
            team_id,
            AuditAction::MemberLeft,
            member_id,
            &json!({
                "revoked_devices": revoked,
                "removed_assignments": removed,
                "cancelled_codes": cancelled_codes
            }),
            now,
        )?;
        let note = (removed > 0)
            .then(|| publish_member(&tx, &setup.ward.id, team_id, member_id, today))
            .transpose()?;
        let member = team_member(&tx, team_id, member_id)?;
        tx.commit()?;
        self.fresh.extend(note);
        Ok(LeftResponse {
            member,
            revoked_devices: revoked,
            removed_assignments: removed as u32,
        })
    }

    /// Issues a one-time enrollment code for `member_id` of `team_id`, for `auth`, valid for
    /// `ttl_minutes` (default [`CODE_TTL_MINUTES`]); the link starts with `base_url`.
    pub fn team_issue_code(
        &mut self,
        auth: &DeviceAuth,
        team_id: &str,
        member_id: &str,
        ttl_minutes: Option<i64>,
        base_url: &str,
        now: DateTime<Utc>,
    ) -> Result<IssueCodeResponse, ServerError> {
        open_team(&self.conn, auth, team_id, Need::Run)?;
        let ttl = ttl_minutes.unwrap_or(CODE_TTL_MINUTES);
        if !(1..=CODE_TTL_MAX_MINUTES).contains(&ttl) {
            return Err(ServerError::Invalid(format!(
                "ttl_minutes must be between 1 and {CODE_TTL_MAX_MINUTES}"
            )));
        }
        let tx = self.conn.transaction()?;
        open_team(&tx, auth, team_id, Need::Run)?;
        let m = team_member(&tx, team_id, member_id)?;
        // Enrolling a phone for someone hands it their role: only for roles the caller may give.
        access::may_give(auth.role, Some(m.role))?;
        if m.left_at.is_some() {
            return Err(ServerError::Invalid(format!(
                "{} has left the team",
                m.name
            )));
        }
        let ttl = Duration::minutes(ttl);
        let code = insert_code(&tx, member_id, ttl, now)?;
        let expires_at = now + ttl;
        audit::append(
            &tx,
            auth,
            team_id,
            AuditAction::MemberCode,
            member_id,
            &json!({ "expires_at": expires_at }),
            now,
        )?;
        tx.commit()?;
        Ok(IssueCodeResponse {
            member_id: member_id.into(),
            link: crate::admin::enroll_link(base_url, &code),
            code,
            expires_at,
        })
    }

    /// Revokes `device_id`, a device of a member of `team_id`, for `auth`. A device of another
    /// team or ward is "not found".
    pub fn team_revoke(
        &mut self,
        auth: &DeviceAuth,
        team_id: &str,
        device_id: &str,
        now: DateTime<Utc>,
    ) -> Result<TeamDevice, ServerError> {
        let tx = self.conn.transaction()?;
        open_team(&tx, auth, team_id, Need::Run)?;
        let select = format!("{DEVICE_SELECT} WHERE m.team_id = ?1 AND d.id = ?2");
        let find = |tx: &Connection| {
            tx.query_row(&select, [team_id, device_id], device_row)
                .optional()
        };
        let Some(before) = find(&tx)? else {
            return Err(ServerError::NotFound(format!(
                "device {device_id} in team {team_id}"
            )));
        };
        // A leader revokes the phones of members and leaders, not an officer's or an admin's:
        // the same reach as giving that member's role (access::may_give).
        let owner = team_member(&tx, team_id, &before.member_id)?;
        access::may_give(auth.role, Some(owner.role))?;
        if before.revoked_at.is_some() {
            return Err(ServerError::Invalid(format!(
                "device {device_id} is already revoked"
            )));
        }
        revoke_device(&tx, device_id, now)?;
        audit::append(
            &tx,
            auth,
            team_id,
            AuditAction::DeviceRevoke,
            device_id,
            &json!({ "member_id": before.member_id }),
            now,
        )?;
        let after =
            find(&tx)?.ok_or_else(|| ServerError::Internal("revoked device vanished".into()))?;
        tx.commit()?;
        Ok(after)
    }

    /// Replaces the route of `team_id` from a GeoJSON or CSV text, for `auth`; duplicate ids or
    /// QR codes are refused.
    pub fn team_set_route(
        &mut self,
        auth: &DeviceAuth,
        team_id: &str,
        req: &RouteRequest,
        now: DateTime<Utc>,
    ) -> Result<RouteResponse, ServerError> {
        // Who may act first: a caller without reach learns nothing from what it sent.
        open_team(&self.conn, auth, team_id, Need::Run)?;
        let cps = route_file::read(req.format, &req.text)?;
        unique_qr_codes(&cps)?;
        let tx = self.conn.transaction()?;
        open_team(&tx, auth, team_id, Need::Run)?;
        write_route(&tx, team_id, &cps)?;
        audit::append(
            &tx,
            auth,
            team_id,
            AuditAction::RouteReplace,
            team_id,
            &json!({ "checkpoints": cps }),
            now,
        )?;
        let note = publish_setup(&tx, team_id)?;
        tx.commit()?;
        self.fresh.push(note);
        Ok(RouteResponse {
            team_id: team_id.into(),
            checkpoints: cps,
        })
    }
}

/// Refuses a route where two checkpoints carry the same QR code (a scan could not tell them
/// apart), or a checkpoint an empty one.
pub fn unique_qr_codes(cps: &[Checkpoint]) -> Result<(), ServerError> {
    let mut seen = HashSet::new();
    for (i, c) in cps.iter().enumerate() {
        let code = c.qr_code.trim();
        if code.is_empty() {
            return Err(ServerError::Invalid(format!(
                "checkpoint {}: the QR code is empty",
                i + 1
            )));
        }
        if !seen.insert(code) {
            return Err(ServerError::Invalid(format!(
                "QR code '{code}' appears twice; each checkpoint needs its own"
            )));
        }
    }
    Ok(())
}
