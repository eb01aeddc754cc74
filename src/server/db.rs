//! The server's database: setup, enrollment, devices, exactly-once event storage and the feed.

use super::error::ServerError;
use super::secret;
use crate::domain::shift::ShiftSlot;
use crate::domain::ward::{Checkpoint, Member, Team, Ward, WardSetup};
use crate::store::outbox::Event;
use crate::store::rows::{self, CHECKPOINT_COLS, MEMBER_COLS, TEAM_COLS, WARD_COLS};
use crate::sync::protocol::{
    EventRefusal, FeedItem, PullResponse, PushResponse, MAX_PAYLOAD_BYTES,
};
use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Server migrations, oldest first.
const MIGRATIONS: &[&str] = &[include_str!("../../migrations/server_0001_init.sql")];

/// Event kinds a device may push.
pub const EVENT_KINDS: &[&str] = &[
    "shift_started",
    "checked_in",
    "observed",
    "corrected",
    "shift_ended",
];

/// Who a token belongs to: everything the server trusts about a request comes from here.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceAuth {
    /// The device's id.
    pub device_id: String,
    /// Its member.
    pub member_id: String,
    /// The member's role.
    pub role: String,
    /// The member's team.
    pub team_id: String,
    /// The team's ward.
    pub ward_id: String,
}

impl DeviceAuth {
    /// Leaders, officers and admins also receive the team's shift logs.
    pub fn sees_logs(&self) -> bool {
        matches!(self.role.as_str(), "leader" | "officer" | "admin")
    }
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

/// The server database (one connection; SQLite serialises writers, which keeps cursors in commit order).
pub struct ServerDb {
    conn: Connection,
}

impl ServerDb {
    /// Opens or creates `dir/ward.db`, migrates it, and gives it an epoch on first open.
    pub fn open(dir: &Path) -> Result<Self, ServerError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| ServerError::Invalid(format!("data directory {}: {e}", dir.display())))?;
        let mut conn = Connection::open(dir.join("ward.db"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version as usize > MIGRATIONS.len() {
            return Err(ServerError::Invalid(format!(
                "database version {version} is newer than this server"
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as u32)?;
            tx.commit()?;
        }
        conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('epoch', ?1)",
            [uuid::Uuid::now_v7().to_string()],
        )?;
        Ok(Self { conn })
    }

    /// The server's epoch.
    pub fn epoch(&self) -> Result<String, ServerError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'epoch'", [], |r| {
                r.get(0)
            })?)
    }

    /// Gives the database a new epoch: run after restoring it from a backup, so devices re-send.
    pub fn new_epoch(&self) -> Result<String, ServerError> {
        let e = uuid::Uuid::now_v7().to_string();
        self.conn
            .execute("UPDATE meta SET value = ?1 WHERE key = 'epoch'", [&e])?;
        Ok(e)
    }

    /// Whether any ward exists.
    pub fn has_wards(&self) -> Result<bool, ServerError> {
        Ok(self
            .conn
            .query_row("SELECT EXISTS(SELECT 1 FROM ward)", [], |r| r.get(0))?)
    }

    /// Creates or renames a ward.
    pub fn upsert_ward(&mut self, w: &Ward) -> Result<(), ServerError> {
        write_ward(&self.conn, w)
    }

    /// Creates or updates a team of `ward_id`, with its shift slots.
    pub fn upsert_team(&mut self, ward_id: &str, t: &Team) -> Result<(), ServerError> {
        let tx = self.conn.transaction()?;
        exists(&tx, "ward", ward_id)?;
        write_team(&tx, ward_id, t)?;
        publish_setup(&tx, &t.id)?;
        tx.commit()?;
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
            )?;
            Ok(())
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
        let tx = self.conn.transaction()?;
        write_ward(&tx, &s.ward)?;
        write_team(&tx, &s.ward.id, &s.team)?;
        for m in &s.members {
            write_member(&tx, &s.team.id, m)?;
        }
        write_route(&tx, &s.team.id, &s.checkpoints)?;
        publish_setup(&tx, &s.team.id)?;
        tx.commit()?;
        Ok(())
    }

    /// Changes an existing team in one transaction and publishes its new setup to the feed.
    fn edit_team(
        &mut self,
        team_id: &str,
        change: impl FnOnce(&Transaction<'_>) -> Result<(), ServerError>,
    ) -> Result<(), ServerError> {
        let tx = self.conn.transaction()?;
        exists(&tx, "team", team_id)?;
        change(&tx)?;
        publish_setup(&tx, team_id)?;
        tx.commit()?;
        Ok(())
    }

    /// The setup a member of `team_id` patrols with.
    pub fn team_setup(&self, team_id: &str) -> Result<WardSetup, ServerError> {
        team_setup(&self.conn, team_id)
    }

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
        let code = secret::new_code();
        self.conn.execute(
            "INSERT INTO enrollment(code_hash, member_id, expires_at) VALUES (?1, ?2, ?3)",
            params![secret::hash(&code), member_id, (now + ttl).to_rfc3339()],
        )?;
        Ok(code)
    }

    /// Redeems a code: once, before it expires. Returns the new token and the device's identity.
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
            return Err(ServerError::Code("unknown"));
        };
        if used_at.is_some() {
            return Err(ServerError::Code("already used"));
        }
        if DateTime::parse_from_rfc3339(&expires_at)
            .map(|t| t < now)
            .unwrap_or(true)
        {
            return Err(ServerError::Code("expired"));
        }
        let token = secret::new_token();
        tx.execute(
            "UPDATE enrollment SET used_at = ?1 WHERE code_hash = ?2",
            params![now.to_rfc3339(), secret::hash(code)],
        )?;
        // Re-enrolling a device (a reinstalled app) replaces its token and un-revokes nothing:
        // a revoked device id stays revoked.
        let revoked: Option<Option<String>> = tx
            .query_row(
                "SELECT revoked_at FROM device WHERE id = ?1",
                [device_id],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(Some(_)) = revoked {
            return Err(ServerError::Revoked);
        }
        tx.execute(
            "INSERT INTO device(id, member_id, token_hash, enrolled_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(id) DO UPDATE SET member_id = excluded.member_id, token_hash = excluded.token_hash",
            params![device_id, member_id, secret::hash(&token), now.to_rfc3339()],
        )?;
        let auth = auth_by_hash(&tx, &secret::hash(&token))?;
        tx.commit()?;
        Ok((token, auth))
    }

    /// The device behind a bearer token; revoked devices are refused.
    pub fn authenticate(&self, token: &str) -> Result<DeviceAuth, ServerError> {
        auth_by_hash(&self.conn, &secret::hash(token))
    }

    /// Stores a batch of events exactly once, in one transaction.
    pub fn push(
        &mut self,
        auth: &DeviceAuth,
        sent_at: DateTime<Utc>,
        events: &[Event],
        now: DateTime<Utc>,
    ) -> Result<PushResponse, ServerError> {
        let epoch = self.epoch()?;
        let tx = self.conn.transaction()?;
        let mut stored = Vec::with_capacity(events.len());
        let mut refused = Vec::new();
        {
            let mut find =
                tx.prepare_cached("SELECT content_hash, device_id FROM event WHERE event_id = ?1")?;
            let mut by_seq =
                tx.prepare_cached("SELECT event_id FROM event WHERE device_id = ?1 AND seq = ?2")?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO event(event_id, device_id, seq, team_id, kind, entity_id, payload, content_hash, client_time, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            let mut feed = tx.prepare_cached(
                "INSERT INTO feed(team_id, kind, leaders, payload) VALUES (?1, ?2, 1, ?3)",
            )?;
            let mut log = tx.prepare_cached(
                "INSERT INTO refusal(event_id, device_id, seq, code, payload, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for e in events {
                let payload = serde_json::to_string(&e.payload).expect("JSON values serialise");
                let outcome: Result<(), (&str, String)> = 'decide: {
                    if e.device_id != auth.device_id {
                        break 'decide Err((
                            "bad_device",
                            format!(
                                "event from device {} sent with another device's token",
                                e.device_id
                            ),
                        ));
                    }
                    if !EVENT_KINDS.contains(&e.kind.as_str()) {
                        break 'decide Err((
                            "bad_kind",
                            format!("unknown event kind '{}'", e.kind),
                        ));
                    }
                    if e.seq < 1
                        || e.event_id.is_empty()
                        || e.event_id.len() > 64
                        || e.entity_id.len() > 64
                    {
                        break 'decide Err((
                            "bad_seq",
                            "sequence must be ≥ 1 and ids at most 64 characters".into(),
                        ));
                    }
                    if payload.len() > MAX_PAYLOAD_BYTES {
                        break 'decide Err((
                            "too_large",
                            format!(
                                "payload is {} bytes; at most {MAX_PAYLOAD_BYTES}",
                                payload.len()
                            ),
                        ));
                    }
                    let hash = content_hash(e, &payload);
                    let existing: Option<(String, String)> = find
                        .query_row([&e.event_id], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?;
                    match existing {
                        Some((h, dev)) if h == hash && dev == e.device_id => Ok(()),
                        Some(_) => {
                            tracing::warn!(event_id = %e.event_id, device = %e.device_id, "event id reused with different content; original kept");
                            Err(("conflict", "an event with this id and other content is already stored; the original is kept".into()))
                        }
                        None => {
                            if by_seq
                                .query_row(params![e.device_id, e.seq], |r| r.get::<_, String>(0))
                                .optional()?
                                .is_some()
                            {
                                break 'decide Err((
                                    "conflict",
                                    format!(
                                        "sequence {} of this device is already another event",
                                        e.seq
                                    ),
                                ));
                            }
                            insert.execute(params![
                                e.event_id,
                                e.device_id,
                                e.seq,
                                auth.team_id,
                                e.kind,
                                e.entity_id,
                                payload,
                                hash,
                                e.client_time.to_rfc3339(),
                                now.to_rfc3339()
                            ])?;
                            let item = serde_json::json!({ "event_id": e.event_id, "device_id": e.device_id, "seq": e.seq,
                                "kind": e.kind, "entity_id": e.entity_id, "payload": e.payload, "client_time": e.client_time });
                            feed.execute(params![auth.team_id, e.kind, item.to_string()])?;
                            Ok(())
                        }
                    }
                };
                match outcome {
                    Ok(()) => stored.push(e.event_id.clone()),
                    Err((code, message)) => {
                        // Logged; only the device's own events settle a sequence number of its.
                        let seq = (e.device_id == auth.device_id && e.seq >= 1).then_some(e.seq);
                        log.execute(params![
                            e.event_id,
                            auth.device_id,
                            seq,
                            code,
                            payload,
                            now.to_rfc3339()
                        ])?;
                        refused.push(EventRefusal {
                            event_id: e.event_id.clone(),
                            code: code.into(),
                            message,
                        });
                    }
                }
            }
        }
        let mut through: i64 = tx.query_row(
            "SELECT stored_through FROM device WHERE id = ?1",
            [&auth.device_id],
            |r| r.get(0),
        )?;
        {
            let mut next = tx.prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM event WHERE device_id = ?1 AND seq = ?2)
                     OR EXISTS(SELECT 1 FROM refusal WHERE device_id = ?1 AND seq = ?2)",
            )?;
            while next.query_row(params![auth.device_id, through + 1], |r| {
                r.get::<_, bool>(0)
            })? {
                through += 1;
            }
        }
        let clock_offset_ms = (now - sent_at).num_milliseconds();
        if clock_offset_ms.abs() > crate::sync::protocol::CLOCK_FLAG_MS {
            tracing::warn!(device = %auth.device_id, clock_offset_ms, "device clock is more than 10 minutes off");
        }
        tx.execute(
            "UPDATE device SET stored_through = ?1, last_seen = ?2, clock_offset_ms = ?3 WHERE id = ?4",
            params![through, now.to_rfc3339(), clock_offset_ms, auth.device_id],
        )?;
        tx.commit()?;
        Ok(PushResponse {
            epoch,
            stored,
            refused,
            stored_through: through,
            clock_offset_ms,
        })
    }

    /// The feed after `after` for this device: its team's setups, and events for leaders.
    pub fn pull(
        &self,
        auth: &DeviceAuth,
        after: i64,
        limit: usize,
    ) -> Result<PullResponse, ServerError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT cursor, kind, payload FROM feed WHERE team_id = ?1 AND cursor > ?2 AND (leaders = 0 OR ?3)
             ORDER BY cursor LIMIT ?4",
        )?;
        let mut items: Vec<FeedItem> = stmt
            .query_map(
                params![auth.team_id, after, auth.sees_logs(), limit as i64 + 1],
                |r| {
                    let payload: String = r.get(2)?;
                    Ok(FeedItem {
                        cursor: r.get(0)?,
                        kind: r.get(1)?,
                        payload: serde_json::from_str(&payload).unwrap_or_default(),
                    })
                },
            )?
            .collect::<Result<_, _>>()?;
        let more = items.len() > limit;
        items.truncate(limit);
        let cursor = items.last().map(|i| i.cursor).unwrap_or(after);
        Ok(PullResponse {
            epoch: self.epoch()?,
            items,
            cursor,
            more,
        })
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
        let n = self.conn.execute(
            "UPDATE device SET revoked_at = COALESCE(revoked_at, ?1) WHERE id = ?2",
            params![now.to_rfc3339(), device_id],
        )?;
        if n == 0 {
            return Err(ServerError::NotFound(format!("device {device_id}")));
        }
        Ok(())
    }

    /// How many events are stored, and how many distinct event ids (equal unless something is wrong).
    pub fn event_counts(&self) -> Result<(i64, i64), ServerError> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*), COUNT(DISTINCT event_id) FROM event",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }
}

/// Refuses an id that names no row of `table` ("ward" or "team").
fn exists(conn: &Connection, table: &str, id: &str) -> Result<(), ServerError> {
    let found: bool = conn.query_row(
        &format!("SELECT EXISTS(SELECT 1 FROM {table} WHERE id = ?1)"),
        [id],
        |r| r.get(0),
    )?;
    if found {
        Ok(())
    } else {
        Err(ServerError::NotFound(format!("{table} {id}")))
    }
}

fn write_ward(conn: &Connection, w: &Ward) -> Result<(), ServerError> {
    conn.execute(
        "INSERT INTO ward(id, name, tz, police_phone, demo) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, tz = excluded.tz, police_phone = excluded.police_phone",
        params![w.id, w.name, w.tz, w.police_phone, w.demo],
    )?;
    Ok(())
}

fn write_team(conn: &Connection, ward_id: &str, t: &Team) -> Result<(), ServerError> {
    conn.execute(
        "INSERT INTO team(id, ward_id, name, leader_phone, slots_json) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, leader_phone = excluded.leader_phone, slots_json = excluded.slots_json",
        params![t.id, ward_id, t.name, t.leader_phone, serde_json::to_string(&t.slots).expect("slots serialise")],
    )?;
    Ok(())
}

fn write_member(conn: &Connection, team_id: &str, m: &Member) -> Result<(), ServerError> {
    if !matches!(m.role.as_str(), "member" | "leader" | "officer" | "admin") {
        return Err(ServerError::Invalid(format!(
            "role '{}' is not member, leader, officer or admin",
            m.role
        )));
    }
    conn.execute(
        "INSERT INTO member(id, team_id, name, role) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, role = excluded.role",
        params![m.id, team_id, m.name, m.role],
    )?;
    Ok(())
}

fn write_route(conn: &Connection, team_id: &str, cps: &[Checkpoint]) -> Result<(), ServerError> {
    conn.execute("DELETE FROM checkpoint WHERE team_id = ?1", [team_id])?;
    let mut stmt = conn.prepare(
        "INSERT INTO checkpoint(id, team_id, name, seq, lat, lon, radius_m, qr_code) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for c in cps {
        stmt.execute(params![
            c.id, team_id, c.name, c.seq, c.pos.lat, c.pos.lon, c.radius_m, c.qr_code
        ])?;
    }
    Ok(())
}

fn content_hash(e: &Event, payload: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        e.kind.as_str(),
        e.entity_id.as_str(),
        payload,
        &e.client_time.to_rfc3339(),
        &e.seq.to_string(),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

fn auth_by_hash(conn: &Connection, token_hash: &str) -> Result<DeviceAuth, ServerError> {
    let row: Option<(DeviceAuth, Option<String>)> = conn
        .query_row(
            "SELECT d.id, m.id, m.role, t.id, t.ward_id, d.revoked_at
             FROM device d JOIN member m ON m.id = d.member_id JOIN team t ON t.id = m.team_id
             WHERE d.token_hash = ?1",
            [token_hash],
            |r| {
                Ok((
                    DeviceAuth {
                        device_id: r.get(0)?,
                        member_id: r.get(1)?,
                        role: r.get(2)?,
                        team_id: r.get(3)?,
                        ward_id: r.get(4)?,
                    },
                    r.get(5)?,
                ))
            },
        )
        .optional()?;
    match row {
        None => Err(ServerError::Unauthorized),
        Some((_, Some(_))) => Err(ServerError::Revoked),
        Some((a, None)) => Ok(a),
    }
}

fn team_setup(conn: &Connection, team_id: &str) -> Result<WardSetup, ServerError> {
    let (team, ward_id): (Team, String) = conn
        .query_row(
            &format!("SELECT {TEAM_COLS}, ward_id FROM team WHERE id = ?1"),
            [team_id],
            |r| Ok((rows::team(r)?, r.get(4)?)),
        )
        .optional()?
        .ok_or_else(|| ServerError::NotFound(format!("team {team_id}")))?;
    let ward = conn.query_row(
        &format!("SELECT {WARD_COLS} FROM ward WHERE id = ?1"),
        [&ward_id],
        rows::ward,
    )?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {MEMBER_COLS} FROM member WHERE team_id = ?1 ORDER BY name"
    ))?;
    let members = stmt
        .query_map([team_id], rows::member)?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {CHECKPOINT_COLS} FROM checkpoint WHERE team_id = ?1 ORDER BY seq"
    ))?;
    let checkpoints = stmt
        .query_map([team_id], rows::checkpoint)?
        .collect::<Result<_, _>>()?;
    Ok(WardSetup {
        ward,
        team,
        members,
        checkpoints,
    })
}

/// Appends the team's current setup to the feed, inside the transaction that changed it.
fn publish_setup(tx: &Transaction<'_>, team_id: &str) -> Result<(), ServerError> {
    let setup = team_setup(tx, team_id)?;
    tx.execute(
        "INSERT INTO feed(team_id, kind, leaders, payload) VALUES (?1, 'setup', 0, ?2)",
        params![
            team_id,
            serde_json::to_string(&setup).expect("setup serialises")
        ],
    )?;
    Ok(())
}
