//! The ward setup's rows, read and written once for both the phone's store and the ward server
//! (their tables have the same columns): one column list, one reader and one writer per type,
//! and the typed corrupt-row error every reader of stored rows uses.

use crate::domain::geofence::LatLon;
use crate::domain::ward::{Checkpoint, Member, Role, Team, Ward};
use crate::wire::WireError;
use chrono::{DateTime, Utc};
use rusqlite::types::Type;
use rusqlite::Row;

/// The error for a row of `table` with id `id` whose value does not parse: it travels through
/// rusqlite's mapping as a conversion failure and comes out as a typed corrupt-row error
/// ([`corrupt_row`]), so a damaged row is reported with its id, never turned into other data.
pub fn corrupt(table: &'static str, id: impl ToString, detail: impl ToString) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        Type::Text,
        Box::new(WireError::new(table, id, detail)),
    )
}

/// The corrupt row behind a rusqlite error made by [`corrupt`], if it is one.
pub fn corrupt_row(e: &rusqlite::Error) -> Option<WireError> {
    match e {
        rusqlite::Error::FromSqlConversionFailure(_, _, inner) => {
            inner.downcast_ref::<WireError>().cloned()
        }
        _ => None,
    }
}

/// An RFC 3339 time from column `col` of a row of `table` with id `id`.
pub fn time(
    r: &Row<'_>,
    col: usize,
    table: &'static str,
    id: &str,
) -> rusqlite::Result<DateTime<Utc>> {
    let text: String = r.get(col)?;
    parse_time(&text).ok_or_else(|| corrupt(table, id, format!("bad time '{text}'")))
}

/// An optional RFC 3339 time, as [`time`].
pub fn opt_time(
    r: &Row<'_>,
    col: usize,
    table: &'static str,
    id: &str,
) -> rusqlite::Result<Option<DateTime<Utc>>> {
    match r.get::<_, Option<String>>(col)? {
        None => Ok(None),
        Some(text) => parse_time(&text)
            .map(Some)
            .ok_or_else(|| corrupt(table, id, format!("bad time '{text}'"))),
    }
}

/// An RFC 3339 time, or `None` when the text is not one.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A JSON value of type `T` from column `col` of a row of `table` with id `id`.
pub fn json<T: serde::de::DeserializeOwned>(
    r: &Row<'_>,
    col: usize,
    table: &'static str,
    id: &str,
) -> rusqlite::Result<T> {
    let text: String = r.get(col)?;
    serde_json::from_str(&text).map_err(|e| corrupt(table, id, e))
}

/// Columns of a ward, in the order [`ward`] reads them.
pub const WARD_COLS: &str = "id, name, tz, police_phone, demo";
/// Columns of a team, in the order [`team`] reads them.
pub const TEAM_COLS: &str = "id, name, leader_phone, slots_json";
/// Columns of a member, in the order [`member`] reads them.
pub const MEMBER_COLS: &str = "id, name, role";
/// Columns of a checkpoint, in the order [`checkpoint`] reads them.
pub const CHECKPOINT_COLS: &str = "id, name, seq, lat, lon, radius_m, qr_code";

/// A ward from a row of [`WARD_COLS`].
pub fn ward(r: &Row<'_>) -> rusqlite::Result<Ward> {
    Ok(Ward {
        id: r.get(0)?,
        name: r.get(1)?,
        tz: r.get(2)?,
        police_phone: r.get(3)?,
        demo: r.get(4)?,
    })
}

/// A team from a row of [`TEAM_COLS`].
pub fn team(r: &Row<'_>) -> rusqlite::Result<Team> {
    let id: String = r.get(0)?;
    Ok(Team {
        slots: json(r, 3, "team", &id)?,
        name: r.get(1)?,
        leader_phone: r.get(2)?,
        id,
    })
}

/// A member from a row of [`MEMBER_COLS`].
pub fn member(r: &Row<'_>) -> rusqlite::Result<Member> {
    let id: String = r.get(0)?;
    let role: String = r.get(2)?;
    Ok(Member {
        role: Role::from_code(&role)
            .ok_or_else(|| corrupt("member", &id, format!("unknown role '{role}'")))?,
        name: r.get(1)?,
        id,
    })
}

/// A checkpoint from a row of [`CHECKPOINT_COLS`].
pub fn checkpoint(r: &Row<'_>) -> rusqlite::Result<Checkpoint> {
    Ok(Checkpoint {
        id: r.get(0)?,
        name: r.get(1)?,
        seq: r.get(2)?,
        pos: LatLon {
            lat: r.get(3)?,
            lon: r.get(4)?,
        },
        radius_m: r.get(5)?,
        qr_code: r.get(6)?,
    })
}

/// Creates or updates a ward.
pub fn write_ward(conn: &rusqlite::Connection, w: &Ward) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO ward(id, name, tz, police_phone, demo) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, tz = excluded.tz, police_phone = excluded.police_phone",
        rusqlite::params![w.id, w.name, w.tz, w.police_phone, w.demo],
    )?;
    Ok(())
}

/// Creates or updates a team of `ward_id`.
pub fn write_team(conn: &rusqlite::Connection, ward_id: &str, t: &Team) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO team(id, ward_id, name, leader_phone, slots_json) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, leader_phone = excluded.leader_phone, slots_json = excluded.slots_json",
        rusqlite::params![t.id, ward_id, t.name, t.leader_phone, serde_json::to_string(&t.slots).expect("slots serialise")],
    )?;
    Ok(())
}

/// Creates or updates a member of `team_id`.
pub fn write_member(
    conn: &rusqlite::Connection,
    team_id: &str,
    m: &Member,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO member(id, team_id, name, role) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, role = excluded.role",
        rusqlite::params![m.id, team_id, m.name, m.role.code()],
    )?;
    Ok(())
}

/// Replaces the route of `team_id`.
pub fn write_route(
    conn: &rusqlite::Connection,
    team_id: &str,
    cps: &[Checkpoint],
) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM checkpoint WHERE team_id = ?1", [team_id])?;
    let mut stmt = conn.prepare(
        "INSERT INTO checkpoint(id, team_id, name, seq, lat, lon, radius_m, qr_code) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for c in cps {
        stmt.execute(rusqlite::params![
            c.id, team_id, c.name, c.seq, c.pos.lat, c.pos.lon, c.radius_m, c.qr_code
        ])?;
    }
    Ok(())
}
