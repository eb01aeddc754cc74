//! The feed devices pull by cursor, each device reading what [`Audience::seen_by`] gives it: its
//! team's setups, the events its role reaches, and the steps taken on its own observations. A row
//! keeps its team, whether it is a log item (`leaders`), and the member it is addressed to; its
//! ward is its team's, joined when read.

use super::enrollment::DeviceAuth;
use crate::audience::{Audience, Reach};
use crate::error::ServerError;
use patrol_store::rows;
use patrol_wire::api::PullResponse;
use patrol_wire::feed::{FeedItem, SETUP_KIND};
use rusqlite::{params, Connection};

/// An item just committed to the feed: its cursor and who reads it, for the announcements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedNote {
    /// The item's cursor.
    pub cursor: i64,
    /// Who reads it.
    pub audience: Audience,
}

/// Appends an item (`kind`, `payload` as JSON) for `audience`, inside the caller's transaction.
/// The audience's ward is its team's.
pub fn append(
    conn: &Connection,
    audience: Audience,
    kind: &str,
    payload: &str,
) -> rusqlite::Result<FeedNote> {
    conn.prepare_cached(
        "INSERT INTO feed(team_id, kind, leaders, member_id, payload) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        audience.team_id,
        kind,
        audience.log,
        audience.member_id,
        payload
    ])?;
    Ok(FeedNote {
        cursor: conn.last_insert_rowid(),
        audience,
    })
}

/// Appends the team's new setup (`payload`) for `audience` and deletes the team's earlier setup
/// items, inside the caller's transaction: the feed holds one setup per team, its newest.
pub fn replace_setup(
    conn: &Connection,
    audience: Audience,
    payload: &str,
) -> rusqlite::Result<FeedNote> {
    let note = append(conn, audience, SETUP_KIND, payload)?;
    conn.prepare_cached("DELETE FROM feed WHERE team_id = ?1 AND kind = ?2 AND cursor < ?3")?
        .execute(params![note.audience.team_id, SETUP_KIND, note.cursor])?;
    Ok(note)
}

/// A page holds items of at most about this many bytes of payload (and always one item).
pub const PAGE_BYTES: usize = 256 * 1024;

/// The feed after `after` for this device, read on any connection: at most `limit` items and
/// about [`PAGE_BYTES`]; no setup at or below the one its enrollment answer carried. A stored item whose payload
/// is not JSON is a corrupt row named by its cursor, never sent as something else. The query is
/// [`Audience::seen_by`] in SQL (the tests hold the two to each other).
pub fn pull(
    conn: &Connection,
    auth: &DeviceAuth,
    after: i64,
    limit: usize,
) -> Result<PullResponse, ServerError> {
    let mut stmt = conn.prepare_cached(
        "SELECT f.cursor, f.kind, f.payload, length(CAST(f.payload AS BLOB)) FROM feed f
           JOIN team t ON t.id = f.team_id
         WHERE f.cursor > ?1 AND t.ward_id = ?2
           AND (f.member_id = ?3
                OR (f.leaders = 0 AND f.team_id = ?4)
                OR (f.leaders = 1 AND ?5 = 'team' AND f.team_id = ?4)
                OR (f.leaders = 1 AND ?5 = 'ward'))
           AND NOT (f.kind = ?8 AND f.cursor <= COALESCE(
                 (SELECT setup_seen FROM device WHERE id = ?7), 0))
         ORDER BY f.cursor LIMIT ?6",
    )?;
    let (mut items, mut bytes, mut more) = (Vec::new(), 0usize, false);
    let mut found = stmt.query(params![
        after,
        auth.ward_id,
        auth.member_id,
        auth.team_id,
        Reach::of(auth.role).code(),
        limit as i64 + 1,
        auth.device_id,
        SETUP_KIND
    ])?;
    while let Some(r) = found.next()? {
        let size = r.get::<_, Option<i64>>(3)?.unwrap_or(0) as usize;
        if items.len() == limit || (!items.is_empty() && bytes + size > PAGE_BYTES) {
            more = true;
            break;
        }
        bytes += size;
        let cursor: i64 = r.get(0)?;
        items.push(FeedItem {
            kind: r.get(1)?,
            payload: rows::json(r, 2, "feed", &cursor.to_string())?,
            cursor,
        });
    }
    drop(found);
    let cursor = items.last().map(|i| i.cursor).unwrap_or(after);
    Ok(PullResponse {
        epoch: super::epoch(conn)?,
        items,
        cursor,
        more,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::ServerDb;
    use patrol_domain::ward::Role;

    /// Every combination of audience against every kind of reader: the query gives exactly the
    /// items [`Audience::seen_by`] gives.
    #[test]
    fn the_query_is_the_audience_rule() {
        let dir = tempfile::tempdir().unwrap();
        let db = ServerDb::open(dir.path()).unwrap();
        db.conn()
            .execute_batch(
                "INSERT INTO ward(id, name, tz, police_phone, demo)
                                  VALUES ('w1', 'W1', 'Asia/Ho_Chi_Minh', '113', 0),
                                         ('w2', 'W2', 'Asia/Ho_Chi_Minh', '113', 0);
                 INSERT INTO team VALUES ('t1', 'w1', 'T1', '090', '[]'), ('t2', 'w1', 'T2', '090', '[]'),
                                         ('t3', 'w2', 'T3', '090', '[]');",
            )
            .unwrap();
        let mut audiences = Vec::new();
        for (team, ward) in [("t1", "w1"), ("t2", "w1"), ("t3", "w2")] {
            for log in [false, true] {
                for member_id in [None, Some("m1"), Some("l1")] {
                    audiences.push(Audience {
                        team_id: team.into(),
                        ward_id: ward.into(),
                        log,
                        member_id: member_id.map(Into::into),
                    });
                }
            }
        }
        let notes: Vec<FeedNote> = audiences
            .into_iter()
            .map(|a| append(db.conn(), a, "observed", "{}").unwrap())
            .collect();
        for role in Role::ALL {
            for (member, team, ward) in [("m1", "t1", "w1"), ("l1", "t2", "w1"), ("m1", "t3", "w2")]
            {
                let auth = DeviceAuth {
                    device_id: "d".into(),
                    member_id: member.into(),
                    role,
                    team_id: team.into(),
                    ward_id: ward.into(),
                };
                let page = pull(db.conn(), &auth, 0, 1000).unwrap();
                let got: Vec<i64> = page.items.iter().map(|i| i.cursor).collect();
                let want: Vec<i64> = notes
                    .iter()
                    .filter(|n| n.audience.seen_by(&auth))
                    .map(|n| n.cursor)
                    .collect();
                assert!(!want.is_empty(), "{auth:?}");
                assert_eq!(got, want, "{auth:?}");
            }
        }
    }

    /// A database of the first version, with a setup, an observation and a step stored by the
    /// server before it checked steps, and a cursor floor raised by a restore: migrated, the step
    /// is addressed to its observation's author, the rest to nobody, and new cursors stay above
    /// the floor.
    #[test]
    fn the_migration_fills_existing_rows_and_keeps_the_cursor_floor() {
        use patrol_store::migrate;
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("ward.db")).unwrap();
        migrate::run(&mut conn, super::super::MIGRATIONS, 1).unwrap();
        conn.execute_batch(
            r#"INSERT INTO ward VALUES ('w1', 'W', 'Asia/Ho_Chi_Minh', '113', 0);
               INSERT INTO team VALUES ('t1', 'w1', 'T', '090', '[]');
               INSERT INTO member VALUES ('m1', 't1', 'M', 'member'), ('l1', 't1', 'L', 'leader');
               INSERT INTO device(id, member_id, token_hash, enrolled_at)
                 VALUES ('dm', 'm1', 'h1', 'x'), ('dl', 'l1', 'h2', 'x');
               INSERT INTO event(event_id, device_id, seq, team_id, kind, entity_id, payload, content_hash, client_time, received_at)
                 VALUES ('e1', 'dm', 1, 't1', 'observed', 'o1', '{}', 'h', 'x', 'x'),
                        ('e2', 'dl', 1, 't1', 'tip_followed_up', 'f1', '{"observation_id": "o1"}', 'h', 'x', 'x');
               INSERT INTO feed(team_id, kind, leaders, payload) VALUES
                 ('t1', 'setup', 0, '{}'),
                 ('t1', 'observed', 1, '{"payload": {}}'),
                 ('t1', 'tip_followed_up', 1, '{"payload": {"observation_id": "o1"}}');
               UPDATE sqlite_sequence SET seq = 40 WHERE name = 'feed';"#,
        )
        .unwrap();
        migrate::run(&mut conn, super::super::MIGRATIONS, 2).unwrap();
        let rows: Vec<(i64, String, Option<String>)> = conn
            .prepare("SELECT cursor, team_id, member_id FROM feed ORDER BY cursor")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            [
                (1, "t1".to_string(), None),
                (2, "t1".to_string(), None),
                (3, "t1".to_string(), Some("m1".to_string()))
            ]
        );
        let next = append(&conn, Audience::setup("t1", "w1"), "setup", "{}").unwrap();
        assert_eq!(next.cursor, 41);
    }
}
