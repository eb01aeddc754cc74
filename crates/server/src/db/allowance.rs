//! The night-duty allowance on the server: each ward's rules, a team's monthly sheet worked out by
//! [`patrol_domain::allowance::sheet`] from the team's stored shifts and its leaders' marks, the
//! marks appended (never edited) and the month closed with the sheet as it stood. SQL only
//! selects and appends; every figure is the domain's.

use super::enrollment::DeviceAuth;
use super::review::parsed;
use super::team::open_team;
use super::{audit, exists, ServerDb};
use crate::access::Need;
use crate::error::ServerError;
use chrono::{DateTime, Datelike, Duration, Utc};
use patrol_domain::allowance::{
    self, check_mark, AllowanceRules, Mark, MarkKind, SheetMember, YearMonth,
};
use patrol_domain::shift::night_of;
use patrol_domain::ward::WardSetup;
use patrol_store::rows::{self, MEMBER_COLS};
use patrol_wire::api::{
    AllowanceClosed, AllowanceMarkRequest, AllowanceResponse, AuditAction, MyAllowanceResponse,
};
use rusqlite::{params, Connection, OptionalExtension};

/// The rules of `ward_id`: its own, or the default ones when it has set none.
pub fn rules(conn: &Connection, ward_id: &str) -> Result<AllowanceRules, ServerError> {
    let kept = conn
        .prepare_cached("SELECT rules_json FROM allowance_rules WHERE ward_id = ?1")?
        .query_row([ward_id], |r| {
            rows::json::<AllowanceRules>(r, 0, "allowance_rules", ward_id)
        })
        .optional()?;
    match kept {
        None => Ok(AllowanceRules::default()),
        Some(r) => r.validate().map_err(|e| {
            ServerError::Corrupt(patrol_wire::WireError::new("allowance_rules", ward_id, e))
        }),
    }
}

impl ServerDb {
    /// Sets the allowance rules of `ward_id` (the administrator's command), after checking them.
    pub fn set_allowance_rules(
        &mut self,
        ward_id: &str,
        rules: AllowanceRules,
    ) -> Result<AllowanceRules, ServerError> {
        let rules = rules
            .validate()
            .map_err(|e| ServerError::Invalid(format!("ward {ward_id}: {e}")))?;
        let tx = self.conn.transaction()?;
        exists(&tx, "ward", ward_id)?;
        tx.execute(
            "INSERT INTO allowance_rules(ward_id, rules_json) VALUES (?1, ?2)
             ON CONFLICT(ward_id) DO UPDATE SET rules_json = excluded.rules_json",
            params![
                ward_id,
                serde_json::to_string(&rules).expect("rules serialise")
            ],
        )?;
        tx.commit()?;
        Ok(rules)
    }

    /// Appends `auth`'s mark on a member's night of `team_id`'s sheet, refused once the night's
    /// month is closed. Only the mark and its audit record are written here, on the one writer;
    /// the sheet as it now stands is read after ([`sheet`]).
    pub fn allowance_mark(
        &mut self,
        auth: &DeviceAuth,
        team_id: &str,
        req: &AllowanceMarkRequest,
        now: DateTime<Utc>,
    ) -> Result<YearMonth, ServerError> {
        let tx = self.conn.transaction()?;
        let setup = open_team(&tx, auth, team_id, Need::Run)?;
        let month = YearMonth::new(req.night.year(), req.night.month())
            .map_err(|e| ServerError::Invalid(e.to_string()))?;
        let reason = check_mark(month, req.night, &req.reason)
            .map_err(|e| ServerError::Invalid(e.to_string()))?;
        let tonight = night_of(now, setup.ward.time_zone());
        if req.night > tonight {
            return Err(ServerError::Invalid(format!(
                "night {} has not come yet (tonight is {tonight})",
                req.night
            )));
        }
        // The members the sheet lists are the only ones it takes marks for.
        if !sheet_members(&tx, team_id)?
            .iter()
            .any(|m| m.id == req.member_id)
        {
            return Err(ServerError::NotFound(format!(
                "member {} in team {team_id}",
                req.member_id
            )));
        }
        if closed(&tx, team_id, month)?.is_some() {
            return Err(ServerError::MonthClosed(month.to_string()));
        }
        tx.execute(
            "INSERT INTO allowance_mark(team_id, month, member_id, night, kind, reason, by_member, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                team_id,
                month.to_string(),
                req.member_id,
                req.night.to_string(),
                req.kind.code(),
                reason,
                auth.member_id,
                now.to_rfc3339()
            ],
        )?;
        let change = serde_json::to_value(req).expect("requests serialise");
        audit::append(
            &tx,
            auth,
            team_id,
            AuditAction::AllowanceMark,
            &req.member_id,
            &change,
            now,
        )?;
        tx.commit()?;
        Ok(month)
    }

    /// Closes `month` of `team_id`'s sheet for `auth`, keeping the sheet as it stands now; a month
    /// already closed is answered as it was closed. A month whose last night is not over yet
    /// cannot be closed.
    pub fn allowance_close(
        &mut self,
        auth: &DeviceAuth,
        team_id: &str,
        month: YearMonth,
        now: DateTime<Utc>,
    ) -> Result<AllowanceResponse, ServerError> {
        let tx = self.conn.transaction()?;
        let setup = open_team(&tx, auth, team_id, Need::Run)?;
        if let Some(kept) = closed(&tx, team_id, month)? {
            return Ok(kept);
        }
        let rules = rules(&tx, &setup.ward.id)?;
        if !rules.month_over(month, setup.ward.time_zone(), now) {
            return Err(ServerError::Invalid(format!(
                "{month} can be closed once its last night is over"
            )));
        }
        let members = sheet_members(&tx, team_id)?;
        let mut answer = work_out(&tx, &setup, &rules, month, now, &members)?;
        answer.closed = Some(AllowanceClosed {
            by: auth.member_id.clone(),
            at: now,
        });
        tx.execute(
            "INSERT INTO allowance_closed(team_id, month, by_member, at, answer_json)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                team_id,
                month.to_string(),
                auth.member_id,
                now.to_rfc3339(),
                serde_json::to_string(&answer).expect("sheets serialise")
            ],
        )?;
        audit::append(
            &tx,
            auth,
            team_id,
            AuditAction::AllowanceClose,
            team_id,
            &serde_json::json!({ "month": month }),
            now,
        )?;
        tx.commit()?;
        Ok(answer)
    }
}

/// `team_id`'s sheet of `month` for `auth` (whoever runs the team): as closed, or as it stands at
/// `now`.
pub fn sheet(
    conn: &Connection,
    auth: &DeviceAuth,
    team_id: &str,
    month: YearMonth,
    now: DateTime<Utc>,
) -> Result<AllowanceResponse, ServerError> {
    let tx = conn.unchecked_transaction()?;
    let setup = open_team(&tx, auth, team_id, Need::Run)?;
    let answer = current(&tx, &setup, month, now, |members| members)?;
    tx.finish()?;
    Ok(answer)
}

/// The caller's own line of their team's sheet of `month` (any role with a team): worked out for
/// them alone (the cap is each member's own), or read from the month as closed.
pub fn mine(
    conn: &Connection,
    auth: &DeviceAuth,
    month: YearMonth,
    now: DateTime<Utc>,
) -> Result<MyAllowanceResponse, ServerError> {
    let tx = conn.unchecked_transaction()?;
    let setup = open_team(&tx, auth, &auth.team_id, Need::ReadRoster)?;
    let answer = current(&tx, &setup, month, now, |members| {
        members
            .into_iter()
            .filter(|m| m.id == auth.member_id)
            .collect()
    })?;
    tx.finish()?;
    let line = answer
        .sheet
        .lines
        .iter()
        .find(|l| l.member.id == auth.member_id);
    Ok(MyAllowanceResponse {
        month,
        paid: line.map_or(0, |l| l.paid),
        over_cap: line.map_or(0, |l| l.over_cap),
        cap_nights: answer.sheet.rules.cap_nights,
        allowance_vnd: line.map_or(0, |l| l.allowance_vnd),
        closed: answer.closed.is_some(),
    })
}

/// The sheet of `month` for the team of `setup`: as it was closed, or worked out at `now` for the
/// members `pick` keeps of the sheet's.
fn current(
    conn: &Connection,
    setup: &WardSetup,
    month: YearMonth,
    now: DateTime<Utc>,
    pick: impl FnOnce(Vec<SheetMember>) -> Vec<SheetMember>,
) -> Result<AllowanceResponse, ServerError> {
    let team_id = setup.team.id.as_str();
    if let Some(kept) = closed(conn, team_id, month)? {
        return Ok(kept);
    }
    let rules = rules(conn, &setup.ward.id)?;
    let members = pick(sheet_members(conn, team_id)?);
    work_out(conn, setup, &rules, month, now, &members)
}

/// The sheet of a closed month as it was closed, or `None` while the month is open.
fn closed(
    conn: &Connection,
    team_id: &str,
    month: YearMonth,
) -> Result<Option<AllowanceResponse>, ServerError> {
    let key = format!("{team_id}/{month}");
    // The answer as it was closed, names included: a team renamed since keeps its signed heading.
    let row = conn
        .prepare_cached(
            "SELECT answer_json FROM allowance_closed WHERE team_id = ?1 AND month = ?2",
        )?
        .query_row(params![team_id, month.to_string()], |r| {
            rows::json::<AllowanceResponse>(r, 0, "allowance_closed", &key)
        })
        .optional()?;
    Ok(row)
}

/// Works out the sheet of `month` for the team of `setup` and `members` (only they are on it:
/// an id a phone wrote that is nobody of the team, or an officer on a mixed patrol, paid
/// otherwise, counts nothing here) from the team's stored shifts and marks.
fn work_out(
    conn: &Connection,
    setup: &WardSetup,
    rules: &AllowanceRules,
    month: YearMonth,
    now: DateTime<Utc>,
    members: &[SheetMember],
) -> Result<AllowanceResponse, ServerError> {
    let team_id = setup.team.id.as_str();
    let tz = setup.ward.time_zone();
    // Every version of the shifts naming the evenings from the one before the month to its last
    // (a shift counts at most 12 hours, so none of an earlier evening reaches the month): chosen
    // by the night they name, through the index the report's nights use, whatever the phones'
    // clocks said.
    let rows = conn
        .prepare_cached(
            "SELECT event_id, kind, payload FROM event
              WHERE team_id = ?1 AND kind IN ('shift_started', 'shift_ended')
                AND json_extract(payload, '$.night') BETWEEN ?2 AND ?3
              ORDER BY cursor",
        )?
        .query_map(
            params![
                team_id,
                (month.first() - Duration::days(1)).to_string(),
                month.last().to_string()
            ],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?
        .collect::<Result<Vec<(String, String, String)>, _>>()?;
    let (records, _) = parsed(rows);
    let on_sheet = |id: &str| members.iter().any(|m| m.id == id);
    let duties: Vec<_> = allowance::duties(&records, &setup.team, tz, now)
        .into_iter()
        .filter(|d| on_sheet(&d.member_id))
        .collect();
    let marks: Vec<Mark> = marks(conn, team_id, month)?
        .into_iter()
        .filter(|m| on_sheet(&m.member_id))
        .collect();
    Ok(AllowanceResponse {
        ward_name: setup.ward.name.clone(),
        team_id: team_id.to_string(),
        team_name: setup.team.name.clone(),
        sheet: allowance::sheet(rules, tz, month, members, &duties, &marks),
        closed: None,
    })
}

/// The team's members as the sheet lists them: leader, deputies, members, each by name; those
/// who left after them. Officers and admins are not on a team's sheet.
fn sheet_members(conn: &Connection, team_id: &str) -> Result<Vec<SheetMember>, ServerError> {
    let members = conn
        .prepare_cached(&format!(
            "SELECT {MEMBER_COLS}, left_at IS NOT NULL FROM member
              WHERE team_id = ?1 AND role IN ('member', 'deputy', 'leader')
              ORDER BY left_at IS NOT NULL, role = 'leader' DESC, role = 'deputy' DESC, name, id"
        ))?
        .query_map([team_id], |r| {
            let m = rows::member(r)?;
            Ok(SheetMember {
                id: m.id,
                name: m.name,
                role: m.role,
                left: r.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(members)
}

/// The marks on `team_id`'s sheet of `month`, in the order they were made.
fn marks(conn: &Connection, team_id: &str, month: YearMonth) -> Result<Vec<Mark>, ServerError> {
    let rows = conn
        .prepare_cached(
            "SELECT id, member_id, night, kind, reason, by_member, at FROM allowance_mark
             WHERE team_id = ?1 AND month = ?2 ORDER BY id",
        )?
        .query_map(params![team_id, month.to_string()], |r| {
            let id: i64 = r.get(0)?;
            let key = id.to_string();
            Ok(Mark {
                member_id: r.get(1)?,
                night: rows::parsed(r, 2, ("allowance_mark", &key), "night", |t| {
                    patrol_wire::ymd::parse(t).ok()
                })?,
                kind: rows::parsed(r, 3, ("allowance_mark", &key), "kind", MarkKind::from_code)?,
                reason: r.get(4)?,
                by: r.get(5)?,
                at: rows::time(r, 6, "allowance_mark", &key)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use patrol_store::migrate;

    /// A database of the version before the deputy role, with members, their devices and a
    /// roster, opened by this build: every row and every key kept, and a deputy can be stored.
    #[test]
    fn the_member_table_made_again_keeps_its_rows_and_their_children() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut conn = Connection::open(dir.path().join(super::super::DB_FILE)).unwrap();
            migrate::run(&mut conn, super::super::MIGRATIONS, 12).unwrap();
            conn.execute_batch(
                "INSERT INTO ward(id, name, tz, police_phone, demo) VALUES ('w1', 'W1', 'Asia/Ho_Chi_Minh', '113', 0);
                 INSERT INTO team VALUES ('t1', 'w1', 'T1', '090', '[]');
                 INSERT INTO member VALUES ('m1', 't1', 'M1', 'leader', NULL), ('m2', 't1', 'M2', 'member', '2026-01-01T00:00:00Z');
                 INSERT INTO device(id, member_id, token_hash, enrolled_at) VALUES ('d1', 'm1', 'h1', 'x');
                 INSERT INTO roster(team_id, night, slot, member_id) VALUES ('t1', '2026-12-08', 'ca1', 'm2');",
            )
            .unwrap();
            assert!(conn
                .execute("UPDATE member SET role = 'deputy' WHERE id = 'm2'", [])
                .is_err());
        }
        let db = ServerDb::open(dir.path()).unwrap();
        let conn = db.conn();
        let members: Vec<(String, String, Option<String>)> = conn
            .prepare("SELECT id, role, left_at FROM member ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            members,
            vec![
                ("m1".into(), "leader".into(), None),
                (
                    "m2".into(),
                    "member".into(),
                    Some("2026-01-01T00:00:00Z".into())
                )
            ]
        );
        conn.execute("UPDATE member SET role = 'deputy' WHERE id = 'm2'", [])
            .unwrap();
        assert!(conn
            .execute("UPDATE member SET role = 'chief' WHERE id = 'm2'", [])
            .is_err());
        // The children still name the member table, with their keys enforced.
        let fk: bool = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert!(fk);
        assert!(conn
            .execute(
                "INSERT INTO device(id, member_id, token_hash, enrolled_at) VALUES ('d9', 'nobody', 'h9', 'x')",
                []
            )
            .is_err());
        assert!(conn
            .execute("DELETE FROM member WHERE id = 'm1'", [])
            .is_err());
    }
}
