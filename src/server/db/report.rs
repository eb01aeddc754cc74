//! Reports from the server's stored events: the teams a caller may see, their records for a
//! period, and the one domain function ([`crate::domain::report::report`]) over them. SQL only
//! selects; every figure is the domain's.

use super::enrollment::DeviceAuth;
use crate::domain::period::{Nights, Period};
use crate::domain::report::{report, Report, TeamRecords};
use crate::domain::review::TeamRecord;
use crate::domain::ward::{Role, WardSetup};
use crate::server::access::{self, Need};
use crate::server::error::ServerError;
use crate::wire::api::{ReportQuery, ReportResponse, ReportScope};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use rusqlite::Connection;

/// The teams `auth` may see in `scope`: a leader their own team; an officer or admin any team
/// of their ward, or the ward; an admin every ward (district). Another ward's team or ward is
/// "not found", so nothing says it exists; a member sees no report.
pub fn teams_in_scope(
    conn: &Connection,
    auth: &DeviceAuth,
    scope: ReportScope,
    id: Option<&str>,
) -> Result<Vec<String>, ServerError> {
    if auth.role == Role::Member {
        return Err(ServerError::Forbidden(
            "reports are for team leaders, ward officers and admins".into(),
        ));
    }
    let ward_of = |team: &str| -> Result<Option<String>, ServerError> {
        let mut st = conn.prepare_cached("SELECT ward_id FROM team WHERE id = ?1")?;
        let mut rows = st.query([team])?;
        Ok(match rows.next()? {
            Some(r) => Some(r.get(0)?),
            None => None,
        })
    };
    let teams_of_ward = |ward: &str| -> Result<Vec<String>, ServerError> {
        let mut st = conn.prepare_cached("SELECT id FROM team WHERE ward_id = ?1 ORDER BY id")?;
        let teams = st
            .query_map([ward], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(teams)
    };
    match scope {
        ReportScope::Team => {
            // A team's report is for whoever runs the team (crate::server::access).
            let team = id.unwrap_or(&auth.team_id);
            access::team(auth, team, ward_of(team)?.as_deref(), Need::Run)?;
            Ok(vec![team.to_string()])
        }
        ReportScope::Ward => {
            let ward = id.unwrap_or(&auth.ward_id);
            if ward != auth.ward_id {
                return Err(ServerError::NotFound(format!("ward {ward}")));
            }
            if auth.role == Role::Leader {
                return Err(ServerError::Forbidden(
                    "a ward's report is for its officers and admins".into(),
                ));
            }
            teams_of_ward(ward)
        }
        ReportScope::District => {
            if auth.role != Role::Admin {
                return Err(ServerError::Forbidden(
                    "the district's report is for the server's admins".into(),
                ));
            }
            let mut st = conn.prepare_cached("SELECT id FROM team ORDER BY ward_id, id")?;
            let teams = st
                .query_map([], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(teams)
        }
    }
}

/// The records of `team` for shifts on the evenings `within` (with a day's margin for device
/// clocks either side), and every step taken on its tips, whenever and by whom.
fn team_records(
    conn: &Connection,
    team: &str,
    within: Nights,
) -> Result<Vec<TeamRecord>, ServerError> {
    let edge = |d: chrono::NaiveDate| {
        DateTime::<Utc>::from_naive_utc_and_offset(d.and_time(NaiveTime::MIN), Utc)
    };
    let from = (edge(within.first) - Duration::days(1)).to_rfc3339();
    let to = (edge(within.last) + Duration::days(3)).to_rfc3339();
    Ok(super::review::team_records(conn, team, &from, &to)?.0)
}

/// The report `q` asks for, as `auth` may see it, at `now`: the period, the period just before
/// and the year before, each from one read of the records of the evenings all three cover.
pub fn answer(
    conn: &Connection,
    auth: &DeviceAuth,
    q: &ReportQuery,
    now: DateTime<Utc>,
) -> Result<ReportResponse, ServerError> {
    let period = Period::Range {
        from: q.from,
        to: q.to,
    };
    let bad = |e: crate::domain::period::PeriodError| ServerError::Invalid(e.to_string());
    let nights = period.nights().map_err(bad)?;
    let before = period.previous().map_err(bad)?.nights().map_err(bad)?;
    let year_before = period.year_before().nights().map_err(bad)?;
    let teams = teams_in_scope(conn, auth, q.scope, q.id.as_deref())?;
    let within = Nights {
        first: year_before.first.min(before.first),
        last: nights.last,
    };
    let mut setups: Vec<(WardSetup, Vec<TeamRecord>)> = Vec::with_capacity(teams.len());
    for team in &teams {
        let setup = super::setup::team_setup(conn, team)?;
        setups.push((setup, team_records(conn, team, within)?));
    }
    let input: Vec<TeamRecords<'_>> = setups
        .iter()
        .map(|(setup, records)| TeamRecords { setup, records })
        .collect();
    let of = |n: Nights| -> Report { report(&input, n, now) };
    Ok(ReportResponse {
        report: of(nights),
        before: of(before).total,
        year_before: of(year_before).total,
    })
}
