//! `GET /api/v1/report`: the figures of a team, a ward or the district for a range of evenings,
//! with the period before and the year before; who may see which is decided from the token.

use super::auth::Device;
use super::Shared;
use crate::db;
use crate::error::ServerError;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use patrol_wire::api::{ReportQuery, ReportResponse};
use std::sync::Arc;

/// The report's route.
pub fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/api/v1/report", get(report))
}

async fn report(
    State(shared): State<Arc<Shared>>,
    Device(auth): Device,
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ReportResponse>, ServerError> {
    let Query(q) = query.map_err(|e| ServerError::BadRequest(e.body_text()))?;
    Ok(Json(
        shared
            .read_long(move |conn| db::report::answer(conn, &auth, &q, patrol_clock::now()))
            .await?,
    ))
}
