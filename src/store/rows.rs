//! Reading the ward setup's rows: one column list and one mapping per type, shared by the phone's
//! store and the ward server (their tables have the same columns).

use crate::domain::geofence::LatLon;
use crate::domain::ward::{Checkpoint, Member, Team, Ward};
use rusqlite::Row;

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
    let slots: String = r.get(3)?;
    Ok(Team {
        id: r.get(0)?,
        name: r.get(1)?,
        leader_phone: r.get(2)?,
        slots: serde_json::from_str(&slots).unwrap_or_default(),
    })
}

/// A member from a row of [`MEMBER_COLS`].
pub fn member(r: &Row<'_>) -> rusqlite::Result<Member> {
    Ok(Member {
        id: r.get(0)?,
        name: r.get(1)?,
        role: r.get(2)?,
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
