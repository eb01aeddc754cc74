//! The team's roster on the server: replaced a night or a weekly pattern at a time by those who
//! run the team (checked by [`patrol_domain::roster::validate`]), read by range, and sent to each
//! member whose coming assignments changed as a `roster` feed item addressed to them.

use super::enrollment::DeviceAuth;
use super::feed::{self, FeedNote};
use super::team::{open_team, tz_of};
use super::{audit, ServerDb};
use crate::access::Need;
use crate::audience::Audience;
use crate::error::ServerError;
use chrono::{DateTime, NaiveDate, Utc};
use patrol_domain::roster::{self, Assignment, NightPlan, RosterError, WeeklyPattern};
use patrol_domain::shift::night_of;
use patrol_wire::api::AuditAction;
use patrol_wire::api::{
    RosterFeed, RosterNightRequest, RosterPatternRequest, RosterResponse, RosterSlot,
    RosterStatusResponse, ROSTER_KIND,
};
use rusqlite::{params, Connection};
use std::collections::BTreeSet;

fn invalid(e: RosterError) -> ServerError {
    ServerError::Invalid(e.to_string())
}

impl ServerDb {
    /// Replaces one night's roster of `team_id` for `auth`.
    pub fn set_roster_night(
        &mut self,
        auth: &DeviceAuth,
        team_id: &str,
        req: &RosterNightRequest,
        now: DateTime<Utc>,
    ) -> Result<RosterResponse, ServerError> {
        let plan = NightPlan {
            night: req.night,
            slots: req.slots.clone(),
        };
        let change = serde_json::to_value(req).expect("requests serialise");
        self.replace_roster(
            auth,
            team_id,
            (req.night, req.night),
            plan.assignments(),
            AuditAction::RosterNight,
            change,
            now,
        )
    }

    /// Replaces every night of a range of `team_id`'s roster with a weekly pattern, for `auth`.
    pub fn set_roster_pattern(
        &mut self,
        auth: &DeviceAuth,
        team_id: &str,
        req: &RosterPatternRequest,
        now: DateTime<Utc>,
    ) -> Result<RosterResponse, ServerError> {
        // Who may act first: a caller without reach learns nothing from what it sent.
        open_team(&self.conn, auth, team_id, Need::Run)?;
        let mut pattern = WeeklyPattern::default();
        for (day, slots) in &req.weekly {
            let wd = roster::parse_weekday(day).ok_or_else(|| {
                ServerError::Invalid(format!(
                    "'{day}' is not a weekday; write mon, tue, wed, thu, fri, sat or sun"
                ))
            })?;
            let i = wd.num_days_from_monday() as usize;
            if !pattern.days[i].is_empty() {
                return Err(ServerError::Invalid(format!(
                    "weekday '{day}' appears twice"
                )));
            }
            pattern.days[i] = slots.clone();
        }
        let planned = pattern.expand(req.from, req.to).map_err(invalid)?;
        let change = serde_json::to_value(req).expect("requests serialise");
        self.replace_roster(
            auth,
            team_id,
            (req.from, req.to),
            planned,
            AuditAction::RosterPattern,
            change,
            now,
        )
    }

    /// Replaces the nights `from..=to` of the roster with `planned`, in one transaction with its
    /// audit record and the feed items of every member whose coming assignments changed.
    #[allow(clippy::too_many_arguments)]
    fn replace_roster(
        &mut self,
        auth: &DeviceAuth,
        team_id: &str,
        (from, to): (NaiveDate, NaiveDate),
        planned: Vec<Assignment>,
        action: AuditAction,
        change: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<RosterResponse, ServerError> {
        let tx = self.conn.transaction()?;
        let setup = open_team(&tx, auth, team_id, Need::Run)?;
        let tz = tz_of(&setup.ward.tz);
        let today = night_of(now, tz);
        roster::nights(from, to).map_err(invalid)?;
        if from < today {
            return Err(invalid(RosterError::PastNight { night: from, today }));
        }
        let active = active_members(&tx, team_id)?;
        roster::validate(&planned, &setup.team.slots, &active, today).map_err(invalid)?;
        let before = read_range(&tx, team_id, from, to, None)?;
        tx.execute(
            "DELETE FROM roster WHERE team_id = ?1 AND night BETWEEN ?2 AND ?3",
            params![team_id, from.to_string(), to.to_string()],
        )?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO roster(team_id, night, slot, member_id) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for a in &planned {
                insert.execute(params![team_id, a.night.to_string(), a.slot, a.member_id])?;
            }
        }
        audit::append(&tx, auth, team_id, action, team_id, &change, now)?;
        let after = read_range(&tx, team_id, from, to, None)?;
        let old: BTreeSet<&Assignment> = before.iter().collect();
        let new: BTreeSet<&Assignment> = after.iter().collect();
        let touched: BTreeSet<&str> = old
            .symmetric_difference(&new)
            .map(|a| a.member_id.as_str())
            .collect();
        let mut notes = Vec::new();
        for member in touched {
            notes.push(publish_member(&tx, &setup.ward.id, team_id, member, today)?);
        }
        tx.commit()?;
        self.fresh.extend(notes);
        Ok(RosterResponse {
            team_id: team_id.into(),
            from,
            to,
            assignments: after,
        })
    }
}

/// The roster of `team_id` from `from` to `to` as `auth` may read it: a member reads only their
/// own assignments.
pub fn roster(
    conn: &Connection,
    auth: &DeviceAuth,
    team_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<RosterResponse, ServerError> {
    open_team(conn, auth, team_id, Need::ReadRoster)?;
    roster::nights(from, to).map_err(invalid)?;
    let only = (auth.role == patrol_domain::ward::Role::Member).then_some(auth.member_id.as_str());
    Ok(RosterResponse {
        team_id: team_id.into(),
        from,
        to,
        assignments: read_range(conn, team_id, from, to, only)?,
    })
}

/// Nights back (besides tonight) whose planned slots the status checks for missed ones.
pub const MISSED_LOOKBACK_NIGHTS: i64 = 30;

/// The roster's state at `now` for those who run `team_id`: who is due tonight, the planned slots
/// of the last nights no shift ran, and the active members on no shift in the last
/// `absent_nights` nights. Shifts are the team's records as the team log reads them.
pub fn status(
    conn: &Connection,
    auth: &DeviceAuth,
    team_id: &str,
    absent_nights: u32,
    now: DateTime<Utc>,
) -> Result<RosterStatusResponse, ServerError> {
    let setup = open_team(conn, auth, team_id, Need::Run)?;
    if !(1..=roster::MAX_PATTERN_NIGHTS as u32).contains(&absent_nights) {
        return Err(ServerError::Invalid(format!(
            "absent_nights must be between 1 and {}",
            roster::MAX_PATTERN_NIGHTS
        )));
    }
    let tz = tz_of(&setup.ward.tz);
    let tonight = night_of(now, tz);
    let planned = read_range(
        conn,
        team_id,
        tonight - chrono::Duration::days(MISSED_LOOKBACK_NIGHTS),
        tonight,
        None,
    )?;
    let shifts: Vec<_> = super::review::team_view(conn, team_id)?
        .log
        .shifts
        .into_iter()
        .map(|l| l.shift)
        .collect();
    Ok(RosterStatusResponse {
        team_id: team_id.into(),
        tonight,
        due_tonight: planned
            .iter()
            .filter(|a| a.night == tonight)
            .cloned()
            .collect(),
        missed: roster::missed(&planned, &shifts, &setup.team.slots, now, tz),
        absent: roster::absent(
            &active_members(conn, team_id)?,
            &shifts,
            tonight,
            absent_nights,
        ),
        absent_nights,
    })
}

/// The team's active members' ids (those who have not left).
pub(super) fn active_members(conn: &Connection, team_id: &str) -> Result<Vec<String>, ServerError> {
    Ok(conn
        .prepare_cached("SELECT id FROM member WHERE team_id = ?1 AND left_at IS NULL")?
        .query_map([team_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// The slots `team_id`'s roster plans on the nights `from`..=`to`, for its reports.
pub(super) fn planned(
    conn: &Connection,
    team_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<patrol_domain::report::Planned, ServerError> {
    let mut out = patrol_domain::report::Planned::new();
    for a in read_range(conn, team_id, from, to, None)? {
        out.entry(a.night).or_default().insert(a.slot);
    }
    Ok(out)
}

fn read_range(
    conn: &Connection,
    team_id: &str,
    from: NaiveDate,
    to: NaiveDate,
    member: Option<&str>,
) -> Result<Vec<Assignment>, ServerError> {
    Ok(conn
        .prepare_cached(
            "SELECT night, slot, member_id FROM roster
             WHERE team_id = ?1 AND night BETWEEN ?2 AND ?3 AND (?4 IS NULL OR member_id = ?4)
             ORDER BY night, slot, member_id",
        )?
        .query_map(
            params![team_id, from.to_string(), to.to_string(), member],
            |r| {
                let member: String = r.get(2)?;
                Ok(Assignment {
                    night: patrol_store::rows::parsed(r, 0, ("roster", &member), "night", |t| {
                        t.parse().ok()
                    })?,
                    slot: r.get(1)?,
                    member_id: member,
                })
            },
        )?
        .collect::<Result<_, _>>()?)
}

/// Appends `member_id`'s coming assignments (from night `today` on) as a roster feed item
/// addressed to them (and read by the team's leaders and the ward's officers).
pub(super) fn publish_member(
    conn: &Connection,
    ward_id: &str,
    team_id: &str,
    member_id: &str,
    today: NaiveDate,
) -> Result<FeedNote, ServerError> {
    // Nights are stored as YYYY-MM-DD, so the last date of year 9999 is after every one of them.
    let last = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date");
    let assignments = read_range(conn, team_id, today, last, Some(member_id))?
        .into_iter()
        .map(|a| RosterSlot {
            night: a.night,
            slot: a.slot,
        })
        .collect();
    let payload = RosterFeed {
        team_id: team_id.into(),
        member_id: member_id.into(),
        from: today,
        assignments,
    };
    Ok(feed::append(
        conn,
        Audience {
            team_id: team_id.into(),
            ward_id: ward_id.into(),
            log: true,
            member_id: Some(member_id.into()),
        },
        ROSTER_KIND,
        &serde_json::to_string(&payload).expect("roster items serialise"),
    )?)
}
