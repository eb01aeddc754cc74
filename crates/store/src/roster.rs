//! The roster as this phone was sent it: each member's coming assignments, replaced whole by the
//! latest roster feed item for that member.

use super::{Store, StoreError};
use chrono::NaiveDate;
use patrol_domain::roster::Assignment;
use patrol_wire::api::RosterFeed;
use patrol_wire::WireError;
use rusqlite::{params, Connection};

/// Replaces what is held for the item's member from its night on with its assignments.
pub fn write_roster(conn: &Connection, feed: &RosterFeed) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM roster_duty WHERE member_id = ?1 AND night >= ?2",
        params![feed.member_id, feed.from.to_string()],
    )?;
    let mut insert = conn
        .prepare("INSERT OR IGNORE INTO roster_duty(member_id, night, slot) VALUES (?1, ?2, ?3)")?;
    for a in feed.assignments.iter().filter(|a| a.night >= feed.from) {
        insert.execute(params![feed.member_id, a.night.to_string(), a.slot])?;
    }
    Ok(())
}

impl Store {
    /// The assignments held from night `from` on, by night, slot and member.
    pub fn duties(&self, from: NaiveDate) -> Result<Vec<Assignment>, StoreError> {
        let mut stmt = self.conn().prepare(
            "SELECT night, slot, member_id FROM roster_duty WHERE night >= ?1
             ORDER BY night, slot, member_id",
        )?;
        let rows = stmt.query_map([from.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (night, slot, member_id) = row?;
            let night = night.parse().map_err(|e: chrono::ParseError| {
                StoreError::CorruptRow(WireError::new(
                    "roster duty",
                    &member_id,
                    format!("night '{night}': {e}"),
                ))
            })?;
            out.push(Assignment {
                night,
                slot,
                member_id,
            });
        }
        Ok(out)
    }
}
