//! The ward setup's rows, read and written once for both the phone's store and the ward server
//! (their tables have the same columns): one column list, one reader and one writer per type,
//! and the typed corrupt-row error every reader of stored rows uses.

use chrono::{DateTime, Utc};
use patrol_domain::geofence::LatLon;
use patrol_domain::ward::{check_photo_keep_days, Checkpoint, Member, Role, Team, Ward, WardSetup};
use patrol_wire::WireError;
use rusqlite::types::Type;
use rusqlite::Row;

/// The error for a row of `table` with id `id` whose value does not parse: it travels through
/// rusqlite's mapping as a conversion failure and comes out as a typed corrupt-row error
/// ([`corrupt_row`]), so a damaged row is reported with its id, never turned into other data.
pub fn corrupt(table: &'static str, id: impl ToString, detail: impl ToString) -> rusqlite::Error {
    wrap(WireError::new(table, id, detail))
}

fn wrap(e: WireError) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, Type::Text, Box::new(e))
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

/// A stored text value read by `parse`, or the corrupt-row error naming `table`, `id` and the
/// `field` it could not read: the one way every stored value is parsed, never defaulted.
pub fn stored<T>(
    table: &'static str,
    id: &str,
    field: &str,
    value: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, WireError> {
    parse(value).ok_or_else(|| WireError::new(table, id, format!("cannot read {field} '{value}'")))
}

/// Column `col` of a row of `table` with id `id`, read by `parse` as [`stored`] does.
pub fn parsed<T>(
    r: &Row<'_>,
    col: usize,
    (table, id): (&'static str, &str),
    field: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> rusqlite::Result<T> {
    let text: String = r.get(col)?;
    stored(table, id, field, &text, parse).map_err(wrap)
}

/// An optional column, read as [`parsed`] when it holds a value.
pub fn opt_parsed<T>(
    r: &Row<'_>,
    col: usize,
    (table, id): (&'static str, &str),
    field: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> rusqlite::Result<Option<T>> {
    r.get::<_, Option<String>>(col)?
        .map(|text| stored(table, id, field, &text, parse).map_err(wrap))
        .transpose()
}

/// An RFC 3339 time from column `col` of a row of `table` with id `id`.
pub fn time(
    r: &Row<'_>,
    col: usize,
    table: &'static str,
    id: &str,
) -> rusqlite::Result<DateTime<Utc>> {
    parsed(r, col, (table, id), "time", parse_time)
}

/// An optional RFC 3339 time, as [`time`].
pub fn opt_time(
    r: &Row<'_>,
    col: usize,
    table: &'static str,
    id: &str,
) -> rusqlite::Result<Option<DateTime<Utc>>> {
    opt_parsed(r, col, (table, id), "time", parse_time)
}

/// A member's role from column `col` of the member row with id `id`.
pub fn role(r: &Row<'_>, col: usize, id: &str) -> rusqlite::Result<Role> {
    parsed(r, col, ("member", id), "role", Role::from_code)
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
pub const WARD_COLS: &str = "id, name, tz, police_phone, demo, photo_keep_days";
/// Columns of a team, in the order [`team`] reads them.
pub const TEAM_COLS: &str = "id, name, leader_phone, slots_json";
/// Columns of a member, in the order [`member`] reads them.
pub const MEMBER_COLS: &str = "id, name, role";
/// Columns of a checkpoint, in the order [`checkpoint`] reads them.
pub const CHECKPOINT_COLS: &str = "id, name, seq, lat, lon, radius_m, qr_code";

/// A ward from a row of [`WARD_COLS`].
pub fn ward(r: &Row<'_>) -> rusqlite::Result<Ward> {
    let id: String = r.get(0)?;
    let days: i64 = r.get(5)?;
    let photo_keep_days = u16::try_from(days)
        .ok()
        .and_then(|d| check_photo_keep_days(d).ok())
        .ok_or_else(|| corrupt("ward", &id, format!("cannot read photo_keep_days '{days}'")))?;
    Ok(Ward {
        name: r.get(1)?,
        tz: r.get(2)?,
        police_phone: r.get(3)?,
        demo: r.get(4)?,
        photo_keep_days,
        id,
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
    Ok(Member {
        role: role(r, 2, &id)?,
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

/// The setup of team `team_id`: its ward, the team, its members (leaders first, then by name)
/// and its route in order; `None` when there is no such team.
pub fn team_setup(
    conn: &rusqlite::Connection,
    team_id: &str,
) -> rusqlite::Result<Option<WardSetup>> {
    use rusqlite::OptionalExtension;
    let Some((team, ward_id)) = conn
        .query_row(
            &format!("SELECT {TEAM_COLS}, ward_id FROM team WHERE id = ?1"),
            [team_id],
            |r| Ok((team(r)?, r.get::<_, String>(4)?)),
        )
        .optional()?
    else {
        return Ok(None);
    };
    let ward = conn.query_row(
        &format!("SELECT {WARD_COLS} FROM ward WHERE id = ?1"),
        [&ward_id],
        ward,
    )?;
    let members = conn
        .prepare(&format!(
            "SELECT {MEMBER_COLS} FROM member WHERE team_id = ?1 ORDER BY role = 'leader' DESC, role = 'deputy' DESC, name"
        ))?
        .query_map([team_id], member)?
        .collect::<Result<_, _>>()?;
    let checkpoints = conn
        .prepare(&format!(
            "SELECT {CHECKPOINT_COLS} FROM checkpoint WHERE team_id = ?1 ORDER BY seq"
        ))?
        .query_map([team_id], checkpoint)?
        .collect::<Result<_, _>>()?;
    Ok(Some(WardSetup {
        ward,
        team,
        members,
        checkpoints,
    }))
}

/// Creates or updates a ward.
pub fn write_ward(conn: &rusqlite::Connection, w: &Ward) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO ward(id, name, tz, police_phone, demo, photo_keep_days) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, tz = excluded.tz, police_phone = excluded.police_phone,
           photo_keep_days = excluded.photo_keep_days",
        rusqlite::params![w.id, w.name, w.tz, w.police_phone, w.demo, w.photo_keep_days],
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
