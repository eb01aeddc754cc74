//! Reports from the server's stored events: the teams a caller may see, what their nights came
//! to (kept by [`super::report_nights`], or worked out from the records), and the domain's sum
//! over them ([`patrol_domain::report_nights::finish`], the last step of
//! [`patrol_domain::report::report`]). SQL only selects; every figure is the domain's.

use super::enrollment::DeviceAuth;
use crate::access::{self, Need};
use crate::error::ServerError;
use chrono::{DateTime, Utc};
use patrol_domain::period::{Nights, Period};
use patrol_domain::report::{Planned, Report, TeamReport};
use patrol_domain::report_nights::{by_night, finish, NightFigures};
use patrol_domain::ward::{Role, WardSetup};
use patrol_wire::api::{ReportQuery, ReportResponse, ReportScope};
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
            // A team's report is for whoever runs the team (crate::access).
            let team = id.unwrap_or(&auth.team_id);
            access::team(auth, team, ward_of(team)?.as_deref(), Need::Run)?;
            Ok(vec![team.to_string()])
        }
        ReportScope::Ward => {
            let ward = id.unwrap_or(&auth.ward_id);
            if ward != auth.ward_id {
                return Err(ServerError::NotFound(format!("ward {ward}")));
            }
            if auth.role.runs_team() {
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

/// What the nights `within` of `team` came to: the kept figures
/// ([`super::report_nights::kept`]) when they can be trusted, else worked out from every record
/// of the team.
fn team_nights(
    conn: &Connection,
    team: &str,
    setup: &WardSetup,
    within: Nights,
) -> Result<Vec<NightFigures>, ServerError> {
    if let Some(kept) = super::report_nights::kept(conn, team, setup, within.first, within.last)? {
        return Ok(kept);
    }
    let (records, _) = super::review::team_records(conn, team, "", "~")?;
    Ok(by_night(setup, &records, |n| within.contains(n))
        .into_values()
        .collect())
}

/// The report `q` asks for, as `auth` may see it, at `now`: the period, the period just before
/// and the year before, each the sum of what the teams' nights came to (read once, in one read
/// transaction, for the evenings all three cover), finished for `now`.
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
    let bad = |e: patrol_domain::period::PeriodError| ServerError::Invalid(e.to_string());
    let nights = period.nights().map_err(bad)?;
    let before = period.previous().map_err(bad)?.nights().map_err(bad)?;
    let year_before = period.year_before().nights().map_err(bad)?;
    let tx = conn.unchecked_transaction()?;
    let teams = teams_in_scope(&tx, auth, q.scope, q.id.as_deref())?;
    let within = Nights {
        first: year_before.first.min(before.first),
        last: nights.last,
    };
    let mut read: Vec<(WardSetup, Vec<NightFigures>, Planned)> = Vec::with_capacity(teams.len());
    for team in &teams {
        let setup = super::setup::team_setup(&tx, team)?;
        let kept = team_nights(&tx, team, &setup, within)?;
        let planned = super::roster::planned(&tx, team, within.first, within.last)?;
        read.push((setup, kept, planned));
    }
    tx.finish()?;
    let of = |n: Nights| -> Report {
        let teams: Vec<TeamReport> = read
            .iter()
            .map(|(setup, kept, planned)| TeamReport {
                ward_id: setup.ward.id.clone(),
                ward_name: setup.ward.name.clone(),
                team_id: setup.team.id.clone(),
                team_name: setup.team.name.clone(),
                figures: finish(setup, n, kept, planned, now),
            })
            .collect();
        let total = teams.iter().map(|t| &t.figures).sum();
        Report {
            nights: n,
            now,
            teams,
            total,
        }
    };
    Ok(ReportResponse {
        report: of(nights),
        before: of(before).total,
        year_before: of(year_before).total,
    })
}
