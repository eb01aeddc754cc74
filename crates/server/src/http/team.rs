//! The team API: leaders, officers and admins run a team from the phone (roster, members,
//! enrollment codes, devices, route) and officers read the audit. Every handler takes the
//! [`Device`] extractor; what the caller may do is decided from its token in
//! [`crate::access`], never from the body. Described for the app in docs/api.md.

use super::auth::Device;
use super::{Body, Shared};
use crate::db::{allowance, audit, roster, team};
use crate::error::ServerError;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::NaiveDate;
use patrol_domain::allowance::YearMonth;
use patrol_wire::api::{
    AddMemberRequest, AllowanceCloseRequest, AllowanceMarkRequest, AllowanceResponse,
    AuditResponse, DevicesResponse, IssueCodeRequest, IssueCodeResponse, LeftResponse,
    MembersResponse, MyAllowanceResponse, RosterNightRequest, RosterPatternRequest, RosterResponse,
    RosterStatusResponse, RouteRequest, RouteResponse, SetRoleRequest, TeamDevice, TeamMember,
};
use serde::Deserialize;
use std::sync::Arc;

type Answer<T> = Result<Json<T>, ServerError>;

/// The team API's routes, to merge into the API router.
pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v1/team/{team}/roster", get(read_roster))
        .route("/api/v1/team/{team}/roster/status", get(roster_status))
        .route("/api/v1/team/{team}/roster/night", put(set_night))
        .route("/api/v1/team/{team}/roster/pattern", put(set_pattern))
        .route(
            "/api/v1/team/{team}/members",
            get(list_members).post(add_member),
        )
        .route("/api/v1/team/{team}/members/{member}/role", put(set_role))
        .route(
            "/api/v1/team/{team}/members/{member}/left",
            post(member_left),
        )
        .route(
            "/api/v1/team/{team}/members/{member}/code",
            post(issue_code),
        )
        .route("/api/v1/team/{team}/devices", get(list_devices))
        .route("/api/v1/team/{team}/devices/{device}/revoke", post(revoke))
        .route("/api/v1/team/{team}/route", put(set_route))
        .route("/api/v1/audit", get(read_audit))
        .route("/api/v1/team/{team}/allowance", get(read_allowance))
        .route("/api/v1/team/{team}/allowance/marks", post(mark_allowance))
        .route("/api/v1/team/{team}/allowance/close", post(close_allowance))
        .route("/api/v1/allowance/mine", get(my_allowance))
}

fn path<T>(p: Result<Path<T>, PathRejection>) -> Result<T, ServerError> {
    p.map(|Path(v)| v)
        .map_err(|e| ServerError::BadRequest(e.body_text()))
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ServerError> {
    q.map(|Query(v)| v)
        .map_err(|e| ServerError::BadRequest(e.body_text()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeQuery {
    #[serde(with = "patrol_wire::ymd")]
    from: NaiveDate,
    #[serde(with = "patrol_wire::ymd")]
    to: NaiveDate,
}

async fn read_roster(
    State(shared): State<Arc<Shared>>,
    Device(auth): Device,
    team: Result<Path<String>, PathRejection>,
    q: Result<Query<RangeQuery>, QueryRejection>,
) -> Answer<RosterResponse> {
    let team = path(team)?;
    let q = query(q)?;
    Ok(Json(
        shared
            .read(move |conn| roster::roster(conn, &auth, &team, q.from, q.to))
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusQuery {
    absent_nights: Option<u32>,
}

async fn roster_status(
    State(shared): State<Arc<Shared>>,
    Device(auth): Device,
    team: Result<Path<String>, PathRejection>,
    q: Result<Query<StatusQuery>, QueryRejection>,
) -> Answer<RosterStatusResponse> {
    let team = path(team)?;
    let nights = query(q)?.absent_nights.unwrap_or(14);
    Ok(Json(
        shared
            .read(move |conn| roster::status(conn, &auth, &team, nights, patrol_clock::now()))
            .await?,
    ))
}

async fn set_night(
    State(shared): State<Arc<Shared>>,
    Device(auth): Device,
    team: Result<Path<String>, PathRejection>,
    Body(req): Body<RosterNightRequest>,
) -> Answer<RosterResponse> {
    let team = path(team)?;
    Ok(Json(
        shared
            .write(move |db| db.set_roster_night(&auth, &team, &req, patrol_clock::now()))
            .await?,
    ))
}

async fn set_pattern(
    State(shared): State<Arc<Shared>>,
    Device(auth): Device,
    team: Result<Path<String>, PathRejection>,
    Body(req): Body<RosterPatternRequest>,
) -> Answer<RosterResponse> {
    let team = path(team)?;
    Ok(Json(
        shared
            .write(move |db| db.set_roster_pattern(&auth, &team, &req, patrol_clock::now()))
            .await?,
    ))
}

async fn list_members(
    State(shared): State<Arc<Shared>>,
    Device(auth): Device,
    team: Result<Path<String>, PathRejection>,
) -> Answer<MembersResponse> {
    let team = path(team)?;
    Ok(Json(
        shared
            .read(move |conn| team::members(conn, &auth, &team))
            .await?,
    ))
}

async fn add_member(
    State(shared): State<Arc<Shared>>,
    Device(auth): Device,
    team: Result<Path<String>, PathRejection>,
    Body(req): Body<AddMemberRequest>,
) -> Answer<TeamMember> {
    let team = path(team)?;
    Ok(Json(
        shared
            .write(move |db| db.team_add_member(&auth, &team, &req, patrol_clock::now()))
            .await?,
    ))
}

async fn set_role(
    State(shared): State<Arc<Shared>>,
    Device(auth): Device,
    ids: Result<Path<(String, String)>, PathRejection>,
    Body(req): Body<SetRoleRequest>,
) -> Answer<TeamMember> {
    let (team, member) = path(ids)?;
    Ok(Json(
        shared
            .write(move |db| db.team_set_role(&auth, &team, &member, req.role, patrol_clock::now()))
            .await?,
    ))
}

async fn member_left(
    State(shared): State<Arc<Shared>>,
    Device(auth): Device,
    ids: Result<Path<(String, String)>, PathRejection>,
) -> Answer<LeftResponse> {
    let (team, member) = path(ids)?;
    Ok(Json(
        shared
            .write(move |db| db.team_member_left(&auth, &team, &member, patrol_clock::now()))
            .await?,
    ))
}

async fn issue_code(
    State(shared): State<Arc<Shared>>,
    Device(auth): Device,
    ids: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Answer<IssueCodeResponse> {
    let (team, member) = path(ids)?;
    // The body is optional: none, or {"ttl_minutes": N}.
    let req: IssueCodeRequest = if body.iter().all(u8::is_ascii_whitespace) {
        IssueCodeRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ServerError::BadRequest(e.to_string()))?
    };
    let base = base_url(&headers)?;
    Ok(Json(
        shared
            .write(move |db| {
                db.team_issue_code(
                    &auth,
                    &team,
                    &member,
                    req.ttl_minutes,
                    &base,
                    patrol_clock::now(),
                )
            })
            .await?,
    ))
}

/// The address phones reach this server at, from the request's Host: plain http only for this
/// computer (as `issue-code`'s --public-url), https for any other host.
fn base_url(headers: &HeaderMap) -> Result<String, ServerError> {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.len() <= 255)
        .ok_or_else(|| ServerError::BadRequest("the request has no Host".into()))?;
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    let local = match name.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => name.eq_ignore_ascii_case("localhost"),
    };
    Ok(format!("{}://{host}", if local { "http" } else { "https" }))
}

async fn list_devices(
    State(shared): State<Arc<Shared>>,
    Device(auth): Device,
    team: Result<Path<String>, PathRejection>,
) -> Answer<DevicesResponse> {
    let team = path(team)?;
    Ok(Json(
        shared
            .read(move |conn| team::devices(conn, &auth, &team))
            .await?,
    ))
}

async fn revoke(
    State(shared): State<Arc<Shared>>,
    Device(auth): Device,
    ids: Result<Path<(String, String)>, PathRejection>,
) -> Answer<TeamDevice> {
    let (team, device) = path(ids)?;
    Ok(Json(
        shared
            .write(move |db| db.team_revoke(&auth, &team, &device, patrol_clock::now()))
            .await?,
    ))
}

async fn set_route(
    State(shared): State<Arc<Shared>>,
    Device(auth): Device,
    team: Result<Path<String>, PathRejection>,
    Body(req): Body<RouteRequest>,
) -> Answer<RouteResponse> {
    let team = path(team)?;
    Ok(Json(
        shared
            .write(move |db| db.team_set_route(&auth, &team, &req, patrol_clock::now()))
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    after: Option<i64>,
    limit: Option<usize>,
    team: Option<String>,
}

async fn read_audit(
    State(shared): State<Arc<Shared>>,
    Device(auth): Device,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> Answer<AuditResponse> {
    let q = query(q)?;
    crate::access::audit(&auth)?;
    let after = q.after.unwrap_or(0).max(0);
    let limit = q.limit.unwrap_or(200).clamp(1, 1000);
    Ok(Json(
        shared
            .read(move |conn| audit::read(conn, &auth.ward_id, q.team.as_deref(), after, limit))
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MonthQuery {
    month: YearMonth,
}

async fn read_allowance(
    State(shared): State<Arc<Shared>>,
    Device(auth): Device,
    team: Result<Path<String>, PathRejection>,
    q: Result<Query<MonthQuery>, QueryRejection>,
) -> Answer<AllowanceResponse> {
    let team = path(team)?;
    let month = query(q)?.month;
    Ok(Json(
        shared
            .read_long(move |conn| allowance::sheet(conn, &auth, &team, month, patrol_clock::now()))
            .await?,
    ))
}

async fn mark_allowance(
    State(shared): State<Arc<Shared>>,
    Device(auth): Device,
    team: Result<Path<String>, PathRejection>,
    Body(req): Body<AllowanceMarkRequest>,
) -> Answer<AllowanceResponse> {
    let team = path(team)?;
    // The mark on the writer; the sheet it changed read after, on the long-read slots.
    let who = auth.clone();
    let at = team.clone();
    let month = shared
        .write(move |db| db.allowance_mark(&who, &at, &req, patrol_clock::now()))
        .await?;
    Ok(Json(
        shared
            .read_long(move |conn| allowance::sheet(conn, &auth, &team, month, patrol_clock::now()))
            .await?,
    ))
}

async fn close_allowance(
    State(shared): State<Arc<Shared>>,
    Device(auth): Device,
    team: Result<Path<String>, PathRejection>,
    Body(req): Body<AllowanceCloseRequest>,
) -> Answer<AllowanceResponse> {
    let team = path(team)?;
    Ok(Json(
        shared
            .write(move |db| db.allowance_close(&auth, &team, req.month, patrol_clock::now()))
            .await?,
    ))
}

async fn my_allowance(
    State(shared): State<Arc<Shared>>,
    Device(auth): Device,
    q: Result<Query<MonthQuery>, QueryRejection>,
) -> Answer<MyAllowanceResponse> {
    let month = query(q)?.month;
    Ok(Json(
        shared
            .read_long(move |conn| allowance::mine(conn, &auth, month, patrol_clock::now()))
            .await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_https_except_on_this_computer() {
        let url = |host: &str| {
            let mut h = HeaderMap::new();
            h.insert(axum::http::header::HOST, host.parse().unwrap());
            base_url(&h).unwrap()
        };
        assert_eq!(url("127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(url("localhost"), "http://localhost");
        assert_eq!(url("[::1]:8080"), "http://[::1]:8080");
        assert_eq!(url("phuong.example.vn"), "https://phuong.example.vn");
        assert_eq!(url("10.0.0.5:8443"), "https://10.0.0.5:8443");
    }
}
