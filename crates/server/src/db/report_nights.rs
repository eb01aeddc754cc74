//! What each (team, night) comes to ([`NightFigures`]), kept by the server so a report adds up a
//! few rows a night instead of reading every event (issue 9).
//!
//! - Marked in the transaction that stores events: [`catch_up`] reads the events stored since the
//!   last catch-up (`meta.report_through`, an event cursor), finds the (team, night)s they bear on
//!   (a shift's nights, the night of a record's shift, of a corrected observation's shift, of a
//!   followed-up tip's shift) and marks each (`report_dirty`). A push calls it before committing,
//!   so a push costs what its own events cost, however large their night has grown.
//! - A marked night is worked out from its records by whoever reads it ([`kept`]) until the
//!   server works it out once and drops its mark ([`settle_quiet`]), after it has been quiet for
//!   [`QUIET_SECS`]: a night being patrolled is not read again after every push.
//! - Valid only for the setup they were worked out with (`report_team.setup_key`: zone, slots,
//!   route): a team whose setup changed since is worked out again at its next catch-up; and for the
//!   categories and actions they count (`meta.report_shape`, [`reshape`] at the server's start).
//! - Trusted only when current: [`kept`] gives nothing for a team while events were written by
//!   other means (the cursor moved past `report_through`) or its setup changed, and the report
//!   reads that team's records instead. [`crate::db::ServerDb::open`] catches up.

use crate::error::ServerError;
use chrono::{DateTime, NaiveDate, Utc};
use patrol_domain::observation::{Action, Category};
use patrol_domain::report_nights::{by_night, NightFigures};
use patrol_domain::review::TeamRecord;
use patrol_domain::ward::WardSetup;
use patrol_wire::event::records_of;
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};

/// More new events than this and a catch-up works out every night of their teams afresh.
const REBUILD_AFTER: i64 = 5_000;

/// How long a marked night must have had no new event before the server works it out and drops
/// its mark.
pub const QUIET_SECS: i64 = 60;

/// The kept figures' own version: raised when what a night's figures hold changes (2: tips
/// passed to the police at any step), so nights kept before are worked out again.
const FIGURES_VERSION: u32 = 2;

/// What the kept figures depend on in a setup (zone, team, slots, route) and their version, as
/// a hash.
pub fn setup_key(s: &WardSetup) -> String {
    let text = serde_json::to_string(&(
        FIGURES_VERSION,
        &s.ward.tz,
        &s.team.id,
        &s.team.slots,
        &s.checkpoints,
    ))
    .expect("setups serialise");
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// What the kept figures count, in order: the categories' and the actions' codes.
fn shape() -> String {
    serde_json::to_string(&(Category::ALL, Action::ALL)).expect("codes serialise")
}

/// Drops every kept figure when this build counts other categories or actions than the ones they
/// were worked out with (`meta.report_shape`: one added, taken off or moved), so the catch-up that
/// follows works them all out again with no version to remember. A database that has none takes
/// this build's: every build before it counted the same.
pub(crate) fn reshape(conn: &Connection) -> Result<(), ServerError> {
    let now = shape();
    let kept: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'report_shape'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if kept.as_ref().is_some_and(|k| *k != now) {
        conn.execute_batch(
            "DELETE FROM report_night; DELETE FROM report_team; DELETE FROM report_dirty;",
        )?;
    }
    if kept.as_ref() != Some(&now) {
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('report_shape', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [now],
        )?;
    }
    Ok(())
}

/// The nights of `team` from `first` to `last`, if they can be trusted for `setup`: every stored
/// event caught up, worked out with this setup, every row readable. A marked night is worked out
/// here from its records (its kept row, if any, is behind). In night order.
pub fn kept(
    conn: &Connection,
    team: &str,
    setup: &WardSetup,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<Option<Vec<NightFigures>>, ServerError> {
    if behind(conn)? {
        return Ok(None);
    }
    let key: Option<String> = conn
        .prepare_cached("SELECT setup_key FROM report_team WHERE team_id = ?1")?
        .query_row([team], |r| r.get(0))
        .optional()?;
    if key.as_deref() != Some(setup_key(setup).as_str()) {
        return Ok(None);
    }
    let (first_s, last_s) = (first.to_string(), last.to_string());
    let marked: BTreeSet<String> = conn
        .prepare_cached(
            "SELECT night FROM report_dirty WHERE team_id = ?1 AND night >= ?2 AND night <= ?3",
        )?
        .query_map(params![team, first_s, last_s], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut st = conn.prepare_cached(
        "SELECT night, figures FROM report_night WHERE team_id = ?1 AND night >= ?2 AND night <= ?3",
    )?;
    let rows = st
        .query_map(params![team, first_s, last_s], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::with_capacity(rows.len() + marked.len());
    for (night, row) in rows {
        if marked.contains(&night) {
            continue;
        }
        match serde_json::from_str(&row) {
            Ok(n) => out.push(n),
            Err(e) => {
                tracing::warn!(team, error = %e, "kept night figures do not parse; reading records");
                return Ok(None);
            }
        }
    }
    for night in &marked {
        let Ok(night) = night.parse::<NaiveDate>() else {
            continue;
        };
        out.extend(work_out(conn, team, setup, night)?);
    }
    out.sort_by_key(|n: &NightFigures| n.night);
    Ok(Some(out))
}

/// Whether events were stored since the last catch-up.
pub fn behind(conn: &Connection) -> Result<bool, ServerError> {
    Ok(through(conn)? < last_cursor(conn)?)
}

fn through(conn: &Connection) -> Result<i64, ServerError> {
    let t: Option<String> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'report_through'")?
        .query_row([], |r| r.get(0))
        .optional()?;
    Ok(t.and_then(|t| t.parse().ok()).unwrap_or(0))
}

fn last_cursor(conn: &Connection) -> Result<i64, ServerError> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(cursor), 0) FROM event")?
        .query_row([], |r| r.get(0))?)
}

/// Brings the kept figures up to every stored event, on `conn` (inside the caller's
/// transaction: the push that stored the events, or the server's start): the nights the new
/// events bear on are marked at `now`. The setups of the teams the new events bear on are
/// checked, or of every team when `every_team`; a team whose setup changed is worked out afresh.
pub fn catch_up(
    conn: &Connection,
    every_team: bool,
    now: DateTime<Utc>,
) -> Result<(), ServerError> {
    catch_up_after(conn, every_team, now, None)
}

/// [`catch_up`] for a push: `stored` are the records it stored (team, kind code, payload), all
/// of them after cursor `before`. When nothing else waited (`report_through` was `before`), their
/// nights are read from them as they are, without reading them back.
pub fn catch_up_push(
    conn: &Connection,
    now: DateTime<Utc>,
    before: i64,
    stored: &[(&str, &str, &serde_json::Value)],
) -> Result<(), ServerError> {
    catch_up_after(conn, false, now, Some((before, stored)))
}

/// A record a push stored: its event id, its kind's code, its payload.
type PushedRecord<'a> = (&'a str, &'a str, &'a serde_json::Value);

fn catch_up_after(
    conn: &Connection,
    every_team: bool,
    now: DateTime<Utc>,
    pushed: Option<(i64, &[PushedRecord])>,
) -> Result<(), ServerError> {
    let (from, to) = (through(conn)?, last_cursor(conn)?);
    // A push's own records are always read as they are, however many (a group of pushes may
    // hold thousands): a rebuild is for events stored by other means.
    let own = pushed.filter(|(before, _)| *before == from);
    let rebuild = own.is_none() && to - from > REBUILD_AFTER;
    let nights = match own {
        _ if to <= from => BTreeSet::new(),
        Some((_, stored)) => nights_of(conn, stored.iter().copied())?,
        None if rebuild => BTreeSet::new(),
        None => touched(conn, from)?,
    };
    let teams: BTreeSet<String> = if every_team || rebuild {
        conn.prepare_cached("SELECT id FROM team")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?
    } else {
        nights.iter().map(|(t, _)| t.clone()).collect()
    };
    let mut setups: HashMap<String, WardSetup> = HashMap::new();
    let mut fresh: BTreeSet<String> = BTreeSet::new();
    for team in teams {
        // A team since removed has no figures to keep; one whose setup does not read has none
        // it can trust, and is worked out afresh once it reads again.
        let setup = match super::setup::team_setup(conn, &team) {
            Ok(s) => s,
            Err(ServerError::NotFound(_) | ServerError::Corrupt(_)) => {
                conn.execute("DELETE FROM report_team WHERE team_id = ?1", [&team])?;
                continue;
            }
            Err(e) => return Err(e),
        };
        let key: Option<String> = conn
            .prepare_cached("SELECT setup_key FROM report_team WHERE team_id = ?1")?
            .query_row([&team], |r| r.get(0))
            .optional()?;
        if rebuild || key.as_deref() != Some(setup_key(&setup).as_str()) {
            rebuild_team(conn, &team, &setup)?;
            fresh.insert(team.clone());
        }
        setups.insert(team, setup);
    }
    let mut mark = conn.prepare_cached(
        "INSERT INTO report_dirty(team_id, night, marked_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(team_id, night) DO UPDATE SET marked_at = excluded.marked_at",
    )?;
    let now = now.to_rfc3339();
    for (team, night) in nights {
        if setups.contains_key(&team) && !fresh.contains(&team) {
            mark.execute(params![team, night.to_string(), now])?;
        }
    }
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('report_through', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [to.to_string()],
    )?;
    Ok(())
}

/// Works out every night of `team` afresh from all its records.
fn rebuild_team(conn: &Connection, team: &str, setup: &WardSetup) -> Result<(), ServerError> {
    let (records, _) = super::review::team_records(conn, team, "", "~")?;
    conn.execute("DELETE FROM report_night WHERE team_id = ?1", [team])?;
    conn.execute("DELETE FROM report_dirty WHERE team_id = ?1", [team])?;
    for n in by_night(setup, &records, |_| true).values() {
        write(conn, team, n)?;
    }
    conn.execute(
        "INSERT INTO report_team(team_id, setup_key) VALUES (?1, ?2)
         ON CONFLICT(team_id) DO UPDATE SET setup_key = excluded.setup_key",
        params![team, setup_key(setup)],
    )?;
    Ok(())
}

fn write(conn: &Connection, team: &str, n: &NightFigures) -> Result<(), ServerError> {
    conn.prepare_cached(
        "INSERT INTO report_night(team_id, night, figures) VALUES (?1, ?2, ?3)
         ON CONFLICT(team_id, night) DO UPDATE SET figures = excluded.figures",
    )?
    .execute(params![
        team,
        n.night.to_string(),
        serde_json::to_string(n).expect("figures serialise")
    ])?;
    Ok(())
}

/// What `night` of `team` comes to, from the records that bear on it (see [`night_records`]);
/// `None` when none does.
fn work_out(
    conn: &Connection,
    team: &str,
    setup: &WardSetup,
    night: NaiveDate,
) -> Result<Option<NightFigures>, ServerError> {
    let records = night_records(conn, team, night)?;
    Ok(by_night(setup, &records, |n| n == night).remove(&night))
}

/// Works out again, on the writer `conn`, at most `max` of the marked nights that had no new event
/// since `quiet_before`, each in its own transaction, and drops their marks; gives how many.
pub fn settle_quiet(
    conn: &mut Connection,
    quiet_before: DateTime<Utc>,
    max: usize,
) -> Result<usize, ServerError> {
    let quiet: Vec<(String, String)> = conn
        .prepare_cached(
            "SELECT team_id, night FROM report_dirty WHERE marked_at < ?1 ORDER BY marked_at LIMIT ?2",
        )?
        .query_map(params![quiet_before.to_rfc3339(), max as i64], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    for (team, night) in &quiet {
        let tx = conn.transaction()?;
        tx.execute(
            "DELETE FROM report_dirty WHERE team_id = ?1 AND night = ?2",
            params![team, night],
        )?;
        let key: Option<String> = tx
            .prepare_cached("SELECT setup_key FROM report_team WHERE team_id = ?1")?
            .query_row([team], |r| r.get(0))
            .optional()?;
        let current = super::setup::team_setup(&tx, team)
            .ok()
            .filter(|s| key.as_deref() == Some(setup_key(s).as_str()));
        match (current, night.parse::<NaiveDate>()) {
            (Some(setup), Ok(day)) => match work_out(&tx, team, &setup, day)? {
                Some(n) => write(&tx, team, &n)?,
                None => {
                    tx.prepare_cached(
                        "DELETE FROM report_night WHERE team_id = ?1 AND night = ?2",
                    )?
                    .execute(params![team, night])?;
                }
            },
            // A team gone, unreadable or with another setup since has no kept figures it can
            // trust: they are dropped, so reports read its records until a catch-up works it
            // out afresh (a mark dropped with its row kept would leave that row stale).
            _ => {
                tx.execute("DELETE FROM report_team WHERE team_id = ?1", [team])?;
            }
        }
        tx.commit()?;
    }
    Ok(quiet.len())
}

impl super::ServerDb {
    /// Works out one marked night quiet for [`QUIET_SECS`] at `now` and drops its mark; gives
    /// whether there was one.
    pub fn settle_quiet_night(&mut self, now: DateTime<Utc>) -> Result<bool, ServerError> {
        let quiet_before = now - chrono::Duration::seconds(QUIET_SECS);
        Ok(settle_quiet(&mut self.conn, quiet_before, 1)? > 0)
    }
}

/// How many nights wait to be worked out again.
pub fn marked(conn: &Connection) -> Result<i64, ServerError> {
    Ok(conn.query_row("SELECT COUNT(*) FROM report_dirty", [], |r| r.get(0))?)
}

/// The records of `team` that bear on `night`, in the order they were stored: every version of
/// each shift any version of which names the night; the check-ins, observations and
/// corrections of those shifts; the corrections of their observations; any record of the team
/// stored under an id one of those has (so a record seen twice counts where it was seen first);
/// and the steps on their observations, whoever took them.
fn night_records(
    conn: &Connection,
    team: &str,
    night: NaiveDate,
) -> Result<Vec<TeamRecord>, ServerError> {
    type Row = (i64, String, String, String);
    let row = |r: &rusqlite::Row<'_>| -> rusqlite::Result<Row> {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    };
    let mut rows: HashMap<i64, Row> = HashMap::new();
    let shift_ids: Vec<String> = conn
        .prepare_cached(
            "SELECT DISTINCT json_extract(payload, '$.id') FROM event
              WHERE team_id = ?1 AND kind IN ('shift_started', 'shift_ended')
                AND json_extract(payload, '$.night') = ?2
                AND json_extract(payload, '$.id') IS NOT NULL",
        )?
        .query_map(params![team, night.to_string()], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut by_id = conn.prepare_cached(
        "SELECT cursor, event_id, kind, payload FROM event
          WHERE team_id = ?1 AND json_extract(payload, '$.id') = ?2",
    )?;
    let mut of_shift = conn.prepare_cached(
        "SELECT cursor, event_id, kind, payload FROM event
          WHERE team_id = ?1 AND kind IN ('checked_in', 'observed', 'corrected')
            AND json_extract(payload, '$.shift_id') = ?2",
    )?;
    let mut corrections = conn.prepare_cached(
        "SELECT cursor, event_id, kind, payload FROM event
          WHERE team_id = ?1 AND kind = 'corrected' AND json_extract(payload, '$.target_id') = ?2",
    )?;
    let mut steps = conn.prepare_cached(
        "SELECT cursor, event_id, kind, payload FROM event
          WHERE kind = 'tip_followed_up' AND json_extract(payload, '$.observation_id') = ?2
            AND ?2 IN (SELECT entity_id FROM event WHERE kind = 'observed' AND team_id = ?1)",
    )?;
    let mut found: Vec<Row> = Vec::new();
    for id in &shift_ids {
        found.extend(
            by_id
                .query_map(params![team, id], row)?
                .filter_map(shift_row),
        );
        found.extend(
            of_shift
                .query_map(params![team, id], row)?
                .collect::<Result<Vec<_>, _>>()?,
        );
    }
    let observations: Vec<String> = found
        .iter()
        .filter(|r| r.2 == "observed")
        .filter_map(|r| payload_id(&r.3))
        .collect();
    for o in &observations {
        found.extend(
            corrections
                .query_map(params![team, o], row)?
                .collect::<Result<Vec<_>, _>>()?,
        );
    }
    let ids: BTreeSet<String> = found
        .iter()
        .filter(|r| matches!(r.2.as_str(), "checked_in" | "observed" | "corrected"))
        .filter_map(|r| payload_id(&r.3))
        .collect();
    for id in &ids {
        found.extend(
            by_id
                .query_map(params![team, id], row)?
                .collect::<Result<Vec<_>, _>>()?,
        );
    }
    for o in &observations {
        found.extend(
            steps
                .query_map(params![team, o], row)?
                .collect::<Result<Vec<_>, _>>()?,
        );
    }
    for r in found {
        rows.insert(r.0, r);
    }
    let mut rows: Vec<Row> = rows.into_values().collect();
    rows.sort_by_key(|r| r.0);
    let (records, _) = records_of(rows.into_iter().map(|(_, id, kind, p)| (id, kind, p)));
    Ok(records)
}

/// A row of `by_id` that is a shift's version (ids are looked up across kinds).
fn shift_row(
    r: rusqlite::Result<(i64, String, String, String)>,
) -> Option<(i64, String, String, String)> {
    r.ok()
        .filter(|r| matches!(r.2.as_str(), "shift_started" | "shift_ended"))
}

fn payload_id(payload: &str) -> Option<String> {
    field(payload, "id")
}

fn field(payload: &str, name: &str) -> Option<String> {
    text(&serde_json::from_str(payload).ok()?, name)
}

/// A text field of a parsed payload.
fn text(v: &serde_json::Value, name: &str) -> Option<String> {
    v.get(name)?.as_str().map(str::to_string)
}

/// The (team, night)s the events stored after cursor `from` bear on.
fn touched(conn: &Connection, from: i64) -> Result<BTreeSet<(String, NaiveDate)>, ServerError> {
    let new: Vec<(String, String, String)> = conn
        .prepare_cached(
            "SELECT team_id, kind, payload FROM event WHERE cursor > ?1 ORDER BY cursor",
        )?
        .query_map([from], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let parsed: Vec<(String, String, serde_json::Value)> = new
        .into_iter()
        .map(|(team, kind, payload)| {
            let v = serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null);
            (team, kind, v)
        })
        .collect();
    nights_of(
        conn,
        parsed.iter().map(|(t, k, v)| (t.as_str(), k.as_str(), v)),
    )
}

/// The (team, night)s these records (team, kind code, payload) bear on.
fn nights_of<'a>(
    conn: &Connection,
    records: impl Iterator<Item = (&'a str, &'a str, &'a serde_json::Value)>,
) -> Result<BTreeSet<(String, NaiveDate)>, ServerError> {
    let mut out = BTreeSet::new();
    // The shifts already looked up: a batch's records mostly name the same one.
    let mut shifts_seen: BTreeSet<(String, String)> = BTreeSet::new();
    for (team, kind, payload) in records {
        match kind {
            "shift_started" | "shift_ended" => {
                if let Some(id) = text(payload, "id") {
                    if shifts_seen.insert((team.to_string(), id.clone())) {
                        shift_nights(conn, team, &id, &mut out)?;
                    }
                }
            }
            "checked_in" | "observed" | "corrected" => {
                if let Some(shift) = text(payload, "shift_id") {
                    if shifts_seen.insert((team.to_string(), shift.clone())) {
                        shift_nights(conn, team, &shift, &mut out)?;
                    }
                }
                if kind == "corrected" {
                    if let Some(target) = text(payload, "target_id") {
                        observation_nights(conn, team, &target, &mut out)?;
                    }
                }
            }
            "tip_followed_up" => {
                if let Some(o) = text(payload, "observation_id") {
                    let teams: Vec<String> = conn
                        .prepare_cached(
                            "SELECT DISTINCT team_id FROM event WHERE kind = 'observed' AND entity_id = ?1",
                        )?
                        .query_map([&o], |r| r.get(0))?
                        .collect::<Result<_, _>>()?;
                    for t in teams {
                        observation_nights(conn, &t, &o, &mut out)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Adds the nights any stored version of shift `id` of `team` names.
fn shift_nights(
    conn: &Connection,
    team: &str,
    id: &str,
    out: &mut BTreeSet<(String, NaiveDate)>,
) -> Result<(), ServerError> {
    let nights: Vec<Option<String>> = conn
        .prepare_cached(
            "SELECT json_extract(payload, '$.night') FROM event
              WHERE team_id = ?1 AND json_extract(payload, '$.id') = ?2
                AND kind IN ('shift_started', 'shift_ended')",
        )?
        .query_map(params![team, id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for n in nights.into_iter().flatten() {
        if let Ok(night) = n.parse::<NaiveDate>() {
            out.insert((team.to_string(), night));
        }
    }
    Ok(())
}

/// Adds the nights of the shifts of `team`'s observations stored under id `id`.
fn observation_nights(
    conn: &Connection,
    team: &str,
    id: &str,
    out: &mut BTreeSet<(String, NaiveDate)>,
) -> Result<(), ServerError> {
    let shifts: Vec<Option<String>> = conn
        .prepare_cached(
            "SELECT json_extract(payload, '$.shift_id') FROM event
              WHERE team_id = ?1 AND json_extract(payload, '$.id') = ?2 AND kind = 'observed'",
        )?
        .query_map(params![team, id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for s in shifts.into_iter().flatten() {
        shift_nights(conn, team, &s, out)?;
    }
    Ok(())
}
