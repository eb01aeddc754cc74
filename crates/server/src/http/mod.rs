//! The HTTP face of the ward server: /api/v1 (enroll, push, pull, announce, photos, health) and the PWA's
//! files. Writes go to the one writer, and what they commit to the feed is announced; reads (auth,
//! pull, health) go to the read pool.

pub mod announce;
pub mod auth;
pub mod limit;
pub mod photos;
pub mod proxy;
pub mod report;
pub mod serve;
pub mod static_files;
pub mod team;

use super::db::{self, DeviceAuth, ReadPool, ServerDb};
use super::error::ServerError;
use crate::photo_files::PhotoFiles;
use announce::{AnnounceLimits, Announcer};
use auth::{Client, Device};
use axum::extract::{DefaultBodyLimit, FromRequest, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use limit::{Buckets, Limit};
use patrol_wire::api::{
    EnrollRequest, EnrollResponse, ErrorBody, PullResponse, PushRequest, PushResponse, MAX_BATCH,
    MAX_BODY_BYTES,
};
use patrol_wire::event::Event;
use proxy::TrustedProxies;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Rate limits of the API.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Every API request per client address (many phones may share one carrier address).
    pub per_address: Limit,
    /// Enrollment attempts per client address.
    pub enroll_per_address: Limit,
    /// Pushes and pulls per device.
    pub per_device: Limit,
    /// Client addresses and devices remembered at most, each.
    pub max_tracked: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_address: Limit {
                burst: 600.0,
                per_second: 100.0,
            },
            enroll_per_address: Limit {
                burst: 10.0,
                per_second: 0.2,
            },
            per_device: Limit {
                burst: 40.0,
                per_second: 20.0,
            },
            max_tracked: 100_000,
        }
    }
}

/// Time limits on one request.
#[derive(Debug, Clone, Copy)]
pub struct RequestTimeouts {
    /// A request body must arrive within this.
    pub body: Duration,
    /// A whole request must be answered within this.
    pub total: Duration,
}

impl Default for RequestTimeouts {
    fn default() -> Self {
        RequestTimeouts {
            body: Duration::from_secs(30),
            total: Duration::from_secs(60),
        }
    }
}

/// What every handler shares.
pub struct Shared {
    /// The one writer, taken in the order asked for (a fair lock: no push waits behind later ones).
    writer: Arc<tokio::sync::Mutex<ServerDb>>,
    readers: ReadPool,
    /// Reads under way at most ([`READERS`]): each holds a connection of the pool and a thread.
    read_slots: Arc<tokio::sync::Semaphore>,
    /// Long reads under way at most ([`LONG_READS`]), so reports never hold every read slot.
    long_slots: Arc<tokio::sync::Semaphore>,
    /// Pushes waiting for the writer, stored a group at a time ([`store_pushes`]).
    pushes: tokio::sync::mpsc::Sender<PushJob>,
    limits: Limits,
    proxies: TrustedProxies,
    addr_buckets: Buckets<IpAddr>,
    enroll_buckets: Buckets<IpAddr>,
    device_buckets: Buckets<String>,
    announcer: Announcer,
    photos: PhotoFiles,
}

impl Shared {
    /// Wraps an opened database and its photo files; `proxies` are believed about the client's
    /// address.
    pub fn new(
        db: ServerDb,
        photos: PhotoFiles,
        limits: Limits,
        proxies: TrustedProxies,
        announce: AnnounceLimits,
    ) -> Arc<Self> {
        let readers = ReadPool::new(db.path());
        let (pushes, queued) = tokio::sync::mpsc::channel(PUSH_QUEUE);
        let shared = Arc::new(Shared {
            writer: Arc::new(tokio::sync::Mutex::new(db)),
            readers,
            read_slots: Arc::new(tokio::sync::Semaphore::new(READERS)),
            long_slots: Arc::new(tokio::sync::Semaphore::new(LONG_READS)),
            pushes,
            limits,
            proxies,
            addr_buckets: Buckets::new(limits.max_tracked),
            enroll_buckets: Buckets::new(limits.max_tracked),
            device_buckets: Buckets::new(limits.max_tracked),
            announcer: Announcer::new(announce),
            photos,
        });
        tokio::spawn(store_pushes(Arc::downgrade(&shared), queued));
        shared
    }

    /// Stores a pushed batch with the others waiting (one transaction for the group, each batch
    /// in its own savepoint): the device's answer. A batch that finds the queue full, or waits
    /// past [`WRITE_WAIT`], is answered [`ServerError::Busy`] with nothing stored.
    pub async fn push(
        self: &Arc<Self>,
        auth: DeviceAuth,
        sent_at: chrono::DateTime<chrono::Utc>,
        events: Vec<Event>,
    ) -> Result<PushResponse, ServerError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = PushJob {
            auth,
            sent_at,
            events,
            asked: std::time::Instant::now(),
            reply,
        };
        self.pushes.try_send(job).map_err(|e| match e {
            tokio::sync::mpsc::error::TrySendError::Full(_) => ServerError::Busy(RETRY_AFTER_BUSY),
            tokio::sync::mpsc::error::TrySendError::Closed(_) => {
                ServerError::Internal("the push queue stopped".into())
            }
        })?;
        answer
            .await
            .map_err(|_| ServerError::Internal("the push queue stopped".into()))?
    }

    /// The photo files.
    pub fn photos(&self) -> &PhotoFiles {
        &self.photos
    }

    /// The announcements of committed feed items.
    pub fn announcer(&self) -> &Announcer {
        &self.announcer
    }

    /// Runs `f` on the one writer, off the async threads; what it committed to the feed is
    /// announced before the writer is let go, so announcements keep commit order. Writers take
    /// turns in the order they asked; one that cannot have the writer within [`WRITE_WAIT`] is
    /// answered [`ServerError::Busy`] with nothing done. Once it has the writer, `f` runs to its
    /// end even if the request is dropped meanwhile (a phone that hung up re-sends, and is answered
    /// from what was stored).
    pub async fn write<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut ServerDb) -> Result<T, ServerError> + Send + 'static,
    ) -> Result<T, ServerError> {
        self.write_within(WRITE_WAIT, f).await
    }

    /// [`Shared::write`], waiting at most `wait` for the writer (what is left of a wait begun
    /// earlier: a queued push's).
    async fn write_within<T: Send + 'static>(
        self: &Arc<Self>,
        wait: Duration,
        f: impl FnOnce(&mut ServerDb) -> Result<T, ServerError> + Send + 'static,
    ) -> Result<T, ServerError> {
        let mut db = tokio::time::timeout(wait, self.writer.clone().lock_owned())
            .await
            .map_err(|_| ServerError::Busy(RETRY_AFTER_BUSY))?;
        let me = self.clone();
        blocking(move || {
            let out = f(&mut db);
            me.announcer.announce(db.take_fresh());
            out
        })
        .await
    }

    /// [`Shared::read`] for a read that may take long (a report over many records): at most
    /// [`LONG_READS`] of them at once, so the token checks of every request keep read slots.
    pub async fn read_long<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&rusqlite::Connection) -> Result<T, ServerError> + Send + 'static,
    ) -> Result<T, ServerError> {
        let _long = turn(&self.long_slots).await?;
        self.read(f).await
    }

    /// Runs `f` on a read-only connection of the pool, off the async threads; at most
    /// [`READERS`] at once, the others waiting their turn (at most [`WRITE_WAIT`], then
    /// [`ServerError::Busy`]).
    pub async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&rusqlite::Connection) -> Result<T, ServerError> + Send + 'static,
    ) -> Result<T, ServerError> {
        let slot = turn(&self.read_slots).await?;
        let me = self.clone();
        blocking(move || {
            let out = me.readers.read(f);
            drop(slot);
            out
        })
        .await
    }
}

/// One of `slots`, waited for in turn at most [`WRITE_WAIT`] (then [`ServerError::Busy`]).
async fn turn(
    slots: &Arc<tokio::sync::Semaphore>,
) -> Result<tokio::sync::OwnedSemaphorePermit, ServerError> {
    tokio::time::timeout(WRITE_WAIT, slots.clone().acquire_owned())
        .await
        .map_err(|_| ServerError::Busy(RETRY_AFTER_BUSY))?
        .map_err(|_| ServerError::Internal("the server is stopping".into()))
}

/// A push waiting for the writer.
struct PushJob {
    auth: DeviceAuth,
    sent_at: chrono::DateTime<chrono::Utc>,
    events: Vec<Event>,
    asked: std::time::Instant,
    reply: tokio::sync::oneshot::Sender<Result<PushResponse, ServerError>>,
}

/// Pushes that may wait for the writer at once; one more is answered `busy`.
const PUSH_QUEUE: usize = 256;
/// Batches stored in one transaction at most, and events: a group commits (and syncs to disk)
/// once, so a busy night costs one commit per group rather than per phone.
const GROUP_BATCHES: usize = 64;
const GROUP_EVENTS: usize = 5_000;

/// Takes the waiting pushes a group at a time and stores each group in one transaction on the
/// writer; runs until the server's state is dropped.
async fn store_pushes(
    shared: std::sync::Weak<Shared>,
    mut queued: tokio::sync::mpsc::Receiver<PushJob>,
) {
    // A job that would have taken the last group past its events: the next group's first.
    let mut carried: Option<PushJob> = None;
    loop {
        let first = match carried.take() {
            Some(job) => job,
            None => match queued.recv().await {
                Some(job) => job,
                None => return,
            },
        };
        let mut events = first.events.len();
        let mut jobs = vec![first];
        while jobs.len() < GROUP_BATCHES {
            match queued.try_recv() {
                Ok(job) if events + job.events.len() <= GROUP_EVENTS => {
                    events += job.events.len();
                    jobs.push(job);
                }
                Ok(job) => {
                    carried = Some(job);
                    break;
                }
                Err(_) => break,
            }
        }
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let (late, jobs): (Vec<PushJob>, Vec<PushJob>) = jobs
            .into_iter()
            .partition(|j| j.asked.elapsed() > WRITE_WAIT);
        for job in late {
            let _ = job.reply.send(Err(ServerError::Busy(RETRY_AFTER_BUSY)));
        }
        // The group waits for the writer only what is left of its oldest batch's wait: every
        // push is answered, stored or busy, within about WRITE_WAIT and its own work.
        let Some(oldest) = jobs.iter().map(|j| j.asked).min() else {
            continue;
        };
        let (inputs, replies): (Vec<_>, Vec<_>) = jobs
            .into_iter()
            .map(|j| ((j.auth, j.sent_at, j.events), j.reply))
            .unzip();
        let stored = shared
            .write_within(WRITE_WAIT.saturating_sub(oldest.elapsed()), move |db| {
                let batches: Vec<db::events::PushBatch<'_>> = inputs
                    .iter()
                    .map(|(auth, sent_at, events)| db::events::PushBatch {
                        auth,
                        sent_at: *sent_at,
                        events,
                    })
                    .collect();
                db.push_group(&batches, patrol_clock::now())
            })
            .await;
        match stored {
            Ok(answers) => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    let _ = reply.send(answer);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, batches = replies.len(), "a group of pushes was not stored");
                for reply in replies {
                    let _ = reply.send(Err(match &e {
                        ServerError::Busy(secs) => ServerError::Busy(*secs),
                        other => {
                            ServerError::Internal(format!("the batch was not stored: {other}"))
                        }
                    }));
                }
            }
        }
    }
}

/// How long a request waits for the writer (or a read connection) before it is answered 503
/// `busy` with nothing done: a push is answered within this and its own work.
pub const WRITE_WAIT: Duration = Duration::from_secs(10);
/// The seconds a `busy` answer asks the phone to wait (its `Retry-After`).
pub const RETRY_AFTER_BUSY: u64 = 5;
/// Reads under way at once, at most: SQLite reads in WAL run beside the writer, and more than a
/// few per core only add connections (each with its own page cache) and threads.
pub const READERS: usize = 8;
/// Long reads (reports) under way at once, at most: they take read slots from nobody else's share.
pub const LONG_READS: usize = 2;

/// Runs blocking work on tokio's blocking threads; a panic there is the server's fault (500).
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ServerError> + Send + 'static,
) -> Result<T, ServerError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) if e.is_panic() => {
            tracing::error!(error = %e, "a database task panicked");
            Err(ServerError::Internal("a database task failed".into()))
        }
        Err(e) => Err(ServerError::Internal(format!("worker stopped: {e}"))),
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let status = match &self {
            ServerError::BadRequest(_) | ServerError::Code(_) => StatusCode::BAD_REQUEST,
            ServerError::Unauthorized => StatusCode::UNAUTHORIZED,
            ServerError::Revoked | ServerError::Forbidden(_) => StatusCode::FORBIDDEN,
            ServerError::DeviceTaken => StatusCode::CONFLICT,
            ServerError::NotFound(_) => StatusCode::NOT_FOUND,
            ServerError::RateLimited | ServerError::TooManyStreams(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ServerError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ServerError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ServerError::UnsupportedEncoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ServerError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ServerError::Busy(secs) => {
                let mut resp = (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(ErrorBody::new(self.code(), self.to_string())),
                )
                    .into_response();
                resp.headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, (*secs).into());
                return resp;
            }
            ServerError::Photo(refusal, _) => photos::status(*refusal),
            ServerError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ServerError::MonthClosed(_) => StatusCode::CONFLICT,
            ServerError::Corrupt(row) => {
                tracing::error!(%row, "damaged row");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            ServerError::Db(e) => {
                tracing::error!(error = %e, "database error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            ServerError::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        (
            status,
            Json(ErrorBody {
                reason: match &self {
                    ServerError::Code(why) => Some(*why),
                    _ => None,
                },
                ..ErrorBody::new(self.code(), self.to_string())
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
        // A length declared over the limit is refused at once, before any of the body is awaited
        // (an inflated body carries no length: the limit counts it as it arrives).
        let declared = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if let Some(n) = declared.filter(|&n| n > MAX_BODY_BYTES as u64) {
            return Err(ServerError::TooLarge(format!(
                "the body declares {n} bytes; a body holds at most {MAX_BODY_BYTES} bytes"
            )));
        }
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ServerError::TooLarge(format!(
                    "{}; a body holds at most {MAX_BODY_BYTES} bytes once inflated",
                    rejection.body_text()
                )))
            }
            Err(rejection) if body_timed_out(&rejection) => Err(ServerError::Timeout(
                "the request body did not arrive in time; nothing of it was kept".into(),
            )),
            Err(rejection) => Err(ServerError::BadRequest(rejection.body_text())),
        }
    }
}

/// Whether an error (or one of its sources) is the body time limit running out.
pub(super) fn body_timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(err) = next {
        if err.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        next = err.source();
    }
    false
}

/// Gives the answers made by the layers below the handlers (a method a path does not take, a body
/// encoding the server does not read, a request over its time) the JSON error body every other
/// error has, keeping their headers (`Allow`, `Accept-Encoding`).
async fn json_errors(res: Response) -> Response {
    if res.headers().contains_key(axum::http::header::CONTENT_TYPE) {
        return res;
    }
    let err = match res.status() {
        StatusCode::METHOD_NOT_ALLOWED => ServerError::MethodNotAllowed(format!(
            "this path takes {}",
            res.headers()
                .get(axum::http::header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("other methods")
        )),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ServerError::UnsupportedEncoding(
            "a request body travels plain or with Content-Encoding gzip or br".into(),
        ),
        StatusCode::REQUEST_TIMEOUT => {
            ServerError::Timeout("the request took too long; try again".into())
        }
        _ => return res,
    };
    let mut out = err.into_response();
    for h in [
        axum::http::header::ALLOW,
        axum::http::header::ACCEPT_ENCODING,
    ] {
        if let Some(v) = res.headers().get(&h) {
            out.headers_mut().insert(h, v.clone());
        }
    }
    out
}

/// Puts a body's `Content-Encoding` in the lower case the decompression layer compares against
/// (encodings are case-insensitive: RFC 9110 §8.4), `x-gzip` as `gzip`.
async fn canonical_encoding(mut req: Request) -> Request {
    let header = axum::http::header::CONTENT_ENCODING;
    if let Some(sent) = req.headers().get(&header).and_then(|v| v.to_str().ok()) {
        let lower = sent.trim().to_ascii_lowercase();
        let canonical = if lower == "x-gzip" {
            "gzip".into()
        } else {
            lower
        };
        if canonical != sent {
            if let Ok(v) = axum::http::HeaderValue::from_str(&canonical) {
                req.headers_mut().insert(header, v);
            }
        }
    }
    req
}

async fn health(
    State(shared): State<Arc<Shared>>,
    _client: Client,
) -> Result<Json<serde_json::Value>, ServerError> {
    let epoch = shared.read(db::epoch).await?;
    Ok(Json(
        serde_json::json!({ "ok": true, "epoch": epoch, "api": "v1" }),
    ))
}

async fn enroll(
    State(shared): State<Arc<Shared>>,
    Client(addr): Client,
    Body(req): Body<EnrollRequest>,
) -> Result<Json<EnrollResponse>, ServerError> {
    if !shared.enroll_buckets.take(
        &addr,
        shared.limits.enroll_per_address,
        std::time::Instant::now(),
    ) {
        return Err(ServerError::RateLimited);
    }
    let resp = shared
        .write(move |db| {
            let (token, auth) = db.redeem(&req.code, &req.device_id, patrol_clock::now())?;
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
    Device(auth): Device,
    Body(req): Body<PushRequest>,
) -> Result<Json<PushResponse>, ServerError> {
    if req.events.len() > MAX_BATCH {
        return Err(ServerError::BadRequest(format!(
            "a batch holds at most {MAX_BATCH} events; this one has {}",
            req.events.len()
        )));
    }
    Ok(Json(shared.push(auth, req.sent_at, req.events).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PullQuery {
    after: Option<i64>,
    limit: Option<usize>,
}

async fn pull(
    State(shared): State<Arc<Shared>>,
    Device(auth): Device,
    query: Result<Query<PullQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PullResponse>, ServerError> {
    let Query(q) = query.map_err(|e| ServerError::BadRequest(e.body_text()))?;
    let after = q.after.unwrap_or(0).max(0);
    let limit = q.limit.unwrap_or(200).clamp(1, 1000);
    Ok(Json(
        shared
            .read(move |conn| db::feed::pull(conn, &auth, after, limit))
            .await?,
    ))
}

async fn api_not_found() -> ServerError {
    ServerError::NotFound("no such API; this server speaks /api/v1".into())
}

/// A panic in a handler is the server's fault: a 500 with our error body, and the server goes on.
fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown".into());
    tracing::error!(%detail, "a handler panicked");
    ServerError::Internal("the request failed inside the server".into()).into_response()
}

/// The whole app: the API under /api/v1 beside `extra` routes (the tests add one that panics),
/// and the PWA from `dist` (see [`static_files`]).
pub fn router(
    extra: Router<Arc<Shared>>,
    shared: Arc<Shared>,
    dist: Option<PathBuf>,
    timeouts: RequestTimeouts,
) -> Router {
    // Sync bodies travel compressed both ways: a request body in gzip or brotli is inflated before
    // the body limit counts it (a zip bomb meets 413), an unknown encoding gets 415, and replies
    // are compressed for clients that accept it.
    let api = extra
        .route("/api/v1/health", get(health))
        .route("/api/v1/enroll", post(enroll))
        .route("/api/v1/push", post(push))
        .route("/api/v1/pull", get(pull))
        .route("/api/v1/announce", get(announce::announce))
        .merge(team::routes())
        .merge(report::routes())
        .merge(photos::routes())
        .route("/api/{*rest}", axum::routing::any(api_not_found))
        .with_state(shared)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::decompression::RequestDecompressionLayer::new())
        .layer(axum::middleware::map_request(canonical_encoding))
        .layer(tower_http::compression::CompressionLayer::new());
    let app = match dist {
        Some(dir) => api.fallback_service(static_files::service(dir)),
        None => api,
    };
    app.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
        timeouts.body,
    ))
    .layer(tower_http::timeout::TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        timeouts.total,
    ))
    .layer(axum::middleware::map_response(json_errors))
    .layer(tower_http::catch_panic::CatchPanicLayer::custom(
        panic_response,
    ))
    .layer(tower_http::trace::TraceLayer::new_for_http())
}
