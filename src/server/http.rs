//! The HTTP face of the ward server: /api/v1 (enroll, push, pull, health) and the PWA's files.

use super::db::{DeviceAuth, ServerDb};
use super::error::ServerError;
use crate::sync::protocol::{
    EnrollRequest, EnrollResponse, ErrorBody, PushRequest, MAX_BATCH, MAX_BODY_BYTES,
};
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Token-bucket limits: `burst` requests at once, refilled at `per_second`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Bucket size.
    pub burst: f64,
    /// Refill rate.
    pub per_second: f64,
}

/// Rate limits of the API.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Enrollment attempts per client address.
    pub enroll_per_ip: Limit,
    /// Pushes per device.
    pub push_per_device: Limit,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            enroll_per_ip: Limit {
                burst: 10.0,
                per_second: 0.2,
            },
            push_per_device: Limit {
                burst: 40.0,
                per_second: 20.0,
            },
        }
    }
}

#[derive(Default)]
struct Buckets(Mutex<HashMap<String, (f64, Instant)>>);

impl Buckets {
    fn take(&self, key: &str, limit: Limit) -> Result<(), ServerError> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if map.len() > 100_000 {
            map.retain(|_, (_, at)| now.duration_since(*at).as_secs() < 600);
        }
        let (tokens, at) = map.entry(key.to_string()).or_insert((limit.burst, now));
        *tokens =
            (*tokens + now.duration_since(*at).as_secs_f64() * limit.per_second).min(limit.burst);
        *at = now;
        if *tokens < 1.0 {
            return Err(ServerError::RateLimited);
        }
        *tokens -= 1.0;
        Ok(())
    }
}

/// What every handler shares.
pub struct Shared {
    db: Mutex<ServerDb>,
    limits: Limits,
    buckets: Buckets,
}

impl Shared {
    /// Wraps an opened database.
    pub fn new(db: ServerDb, limits: Limits) -> Arc<Self> {
        Arc::new(Shared {
            db: Mutex::new(db),
            limits,
            buckets: Buckets::default(),
        })
    }

    /// Runs `f` on the database off the async threads.
    pub async fn with_db<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut ServerDb) -> Result<T, ServerError> + Send + 'static,
    ) -> Result<T, ServerError> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut db = me.db.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut db)
        })
        .await
        .map_err(|e| ServerError::Invalid(format!("worker stopped: {e}")))?
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let status = match &self {
            ServerError::BadRequest(_) | ServerError::Code(_) => StatusCode::BAD_REQUEST,
            ServerError::Unauthorized => StatusCode::UNAUTHORIZED,
            ServerError::Revoked => StatusCode::FORBIDDEN,
            ServerError::NotFound(_) => StatusCode::NOT_FOUND,
            ServerError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ServerError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ServerError::Db(e) => {
                tracing::error!(error = %e, "database error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        (
            status,
            Json(ErrorBody {
                error: self.code().into(),
                message: self.to_string(),
            }),
        )
            .into_response()
    }
}

/// A JSON body whose every rejection (syntax, shape, size, nesting) is a 400 with our error body.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ServerError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(rejection) => Err(ServerError::BadRequest(rejection.body_text())),
        }
    }
}

fn bearer(headers: &HeaderMap) -> Result<String, ServerError> {
    let value = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or(ServerError::Unauthorized)?;
    let token = value
        .strip_prefix("Bearer ")
        .ok_or(ServerError::Unauthorized)?
        .trim();
    if token.is_empty() || token.len() > 128 {
        return Err(ServerError::Unauthorized);
    }
    Ok(token.to_string())
}

async fn authenticate(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
) -> Result<DeviceAuth, ServerError> {
    let token = bearer(headers)?;
    shared.with_db(move |db| db.authenticate(&token)).await
}

async fn health(State(shared): State<Arc<Shared>>) -> Result<Json<serde_json::Value>, ServerError> {
    let epoch = shared.with_db(|db| db.epoch()).await?;
    Ok(Json(
        serde_json::json!({ "ok": true, "epoch": epoch, "api": "v1" }),
    ))
}

async fn enroll(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Body(req): Body<EnrollRequest>,
) -> Result<Json<EnrollResponse>, ServerError> {
    shared.buckets.take(
        &format!("enroll:{}", ip_key(addr.ip())),
        shared.limits.enroll_per_ip,
    )?;
    let resp = shared
        .with_db(move |db| {
            let (token, auth) = db.redeem(&req.code, &req.device_id, Utc::now())?;
            Ok(EnrollResponse {
                token,
                member_id: auth.member_id,
                role: auth.role,
                setup: db.team_setup(&auth.team_id)?,
                epoch: db.epoch()?,
            })
        })
        .await?;
    tracing::info!(member = %resp.member_id, "device enrolled");
    Ok(Json(resp))
}

async fn push(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Body(req): Body<PushRequest>,
) -> Result<Json<crate::sync::protocol::PushResponse>, ServerError> {
    let auth = authenticate(&shared, &headers).await?;
    shared.buckets.take(
        &format!("push:{}", auth.device_id),
        shared.limits.push_per_device,
    )?;
    if req.events.len() > MAX_BATCH {
        return Err(ServerError::BadRequest(format!(
            "a batch holds at most {MAX_BATCH} events; this one has {}",
            req.events.len()
        )));
    }
    Ok(Json(
        shared
            .with_db(move |db| db.push(&auth, req.sent_at, &req.events, Utc::now()))
            .await?,
    ))
}

#[derive(Deserialize)]
struct PullQuery {
    after: Option<i64>,
    limit: Option<usize>,
}

async fn pull(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: Result<Query<PullQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<crate::sync::protocol::PullResponse>, ServerError> {
    let Query(q) = query.map_err(|e| ServerError::BadRequest(e.body_text()))?;
    let auth = authenticate(&shared, &headers).await?;
    let after = q.after.unwrap_or(0).max(0);
    let limit = q.limit.unwrap_or(200).clamp(1, 1000);
    Ok(Json(
        shared
            .with_db(move |db| db.pull(&auth, after, limit))
            .await?,
    ))
}

async fn api_not_found() -> ServerError {
    ServerError::NotFound("no such API; this server speaks /api/v1".into())
}

fn ip_key(ip: IpAddr) -> String {
    ip.to_string()
}

/// The whole app: the API under /api/v1, and the PWA from `dist` (index.html for unknown paths).
pub fn router(shared: Arc<Shared>, dist: Option<PathBuf>) -> Router {
    let api = Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/enroll", post(enroll))
        .route("/api/v1/push", post(push))
        .route("/api/v1/pull", get(pull))
        .route("/api/{*rest}", get(api_not_found).post(api_not_found))
        .with_state(shared)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    let app = match dist {
        Some(dir) => {
            let index = dir.join("index.html");
            api.fallback_service(
                tower_http::services::ServeDir::new(dir)
                    .fallback(tower_http::services::ServeFile::new(index)),
            )
        }
        None => api,
    };
    app.layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Serves `router` on `listener` until `shutdown` resolves; in-flight requests finish first.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
