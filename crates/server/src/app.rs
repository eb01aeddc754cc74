//! The ward server built from one typed configuration by one function, [`Application::build`],
//! which `ward-server serve`, the tests and the benchmarks all use.

use super::db::ServerDb;
use super::error::ServerError;
use super::http::announce::AnnounceLimits;
use super::http::proxy::TrustedProxies;
use super::http::serve::{self, ConnLimits};
use super::http::{self, Limits, RequestTimeouts, Shared};
use super::photo_files::{PhotoFiles, DEFAULT_WARD_QUOTA};
use super::tls::{Tls, TlsSource};
use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Everything `serve` needs to know.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on ("127.0.0.1:0" picks a free port).
    pub addr: String,
    /// The data directory (ward.db, photos/).
    pub data: PathBuf,
    /// The built web app, if served.
    pub dist: Option<PathBuf>,
    /// Rate limits.
    pub limits: Limits,
    /// Connection limits.
    pub conn: ConnLimits,
    /// Request time limits.
    pub timeouts: RequestTimeouts,
    /// Announcement streams (their total is lowered to half of `conn.max_connections`).
    pub announce: AnnounceLimits,
    /// Plain HTTP, behind a proxy, or HTTPS.
    pub transport: Transport,
    /// Bytes of stored photos each ward may hold (`<data>/photos`).
    pub photo_quota: u64,
}

/// How phones reach the server. Browsers give a page storage, a service worker and the location
/// only over HTTPS (or on the phone's own localhost), so plain HTTP is for loopback alone.
#[derive(Debug, Clone, PartialEq)]
pub enum Transport {
    /// Plain HTTP on a loopback address (this machine only: development and tests).
    Plain,
    /// Plain HTTP behind a reverse proxy that terminates TLS; these proxies' forwarded client
    /// addresses are believed.
    BehindProxy(TrustedProxies),
    /// HTTPS served by the ward server itself.
    Tls(TlsSource),
}

impl Transport {
    /// The proxies whose forwarded addresses are believed (none unless behind a proxy).
    pub fn proxies(&self) -> TrustedProxies {
        match self {
            Transport::BehindProxy(p) => p.clone(),
            _ => TrustedProxies::default(),
        }
    }
}

/// Refuses a transport phones could not use: plain HTTP on an address other than loopback with no
/// proxy named.
pub fn check_transport(addr: SocketAddr, transport: &Transport) -> Result<(), ServerError> {
    match transport {
        Transport::Plain if !addr.ip().is_loopback() => Err(ServerError::Invalid(format!(
            "refusing to serve plain http:// on {addr}: phones open the app only over https:// \
             (browsers allow no storage, offline use or location on other pages), so nobody \
             could use it. Serve HTTPS with --tls-cert and --tls-key, or --acme-domain for a \
             Let's Encrypt certificate, or run behind a reverse proxy that terminates TLS and \
             name it with --behind-proxy ADDRESS (see docs/deploy.md)"
        ))),
        Transport::BehindProxy(p) if p.is_empty() => Err(ServerError::Invalid(
            "behind a proxy, name the proxy's address (--behind-proxy)".into(),
        )),
        _ => Ok(()),
    }
}
impl ServerConfig {
    /// Defaults for `data`, listening on `addr`, serving no web app.
    pub fn new(addr: impl Into<String>, data: impl Into<PathBuf>) -> Self {
        ServerConfig {
            addr: addr.into(),
            data: data.into(),
            dist: None,
            limits: Limits::default(),
            conn: ConnLimits::default(),
            timeouts: RequestTimeouts::default(),
            announce: AnnounceLimits::default(),
            transport: Transport::Plain,
            photo_quota: DEFAULT_WARD_QUOTA,
        }
    }
}

/// A bound, ready server.
pub struct Application {
    listener: tokio::net::TcpListener,
    local: SocketAddr,
    shared: Arc<Shared>,
    config: ServerConfig,
    tls: Option<Tls>,
    extra: Router<Arc<Shared>>,
}

impl Application {
    /// Binds the address, checks the transport on it and the certificate, then opens (creating
    /// and migrating) the database: a refused start leaves no database behind.
    pub async fn build(config: ServerConfig) -> Result<Self, ServerError> {
        let listener = tokio::net::TcpListener::bind(&config.addr)
            .await
            .map_err(|e| ServerError::Invalid(format!("cannot listen on {}: {e}", config.addr)))?;
        let local = listener
            .local_addr()
            .map_err(|e| ServerError::Internal(e.to_string()))?;
        // Checked on the bound address, so a host name that resolves to a public one counts too.
        check_transport(local, &config.transport)?;
        let tls = match &config.transport {
            Transport::Tls(source) => Some(Tls::from_source(source, chrono::Utc::now())?),
            _ => None,
        };
        let db = ServerDb::open(&config.data)?;
        let photos = PhotoFiles::new(&config.data, config.photo_quota);
        let dropped = photos.drop_unowned_partials();
        if dropped > 0 {
            tracing::info!(
                dropped,
                "partial photo uploads of the old layout dropped; phones send them again"
            );
        }
        let proxies = config.transport.proxies();
        Ok(Application {
            listener,
            local,
            shared: Shared::new(
                db,
                photos,
                config.limits,
                proxies,
                AnnounceLimits {
                    total: config.announce.total.min(config.conn.max_connections / 2),
                    ..config.announce
                },
            ),
            config,
            tls,
            extra: Router::new(),
        })
    }

    /// Adds routes beside the API (the tests add one that panics).
    pub fn with_routes(mut self, extra: Router<Arc<Shared>>) -> Self {
        self.extra = extra;
        self
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// "http://ADDR", or "https://ADDR" when it serves TLS.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.local)
    }

    /// The database and limits every handler shares.
    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Serves until `shutdown` resolves; announcement streams end then, and requests in flight
    /// finish first.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let shared = self.shared.clone();
        // Stopped with the server, however it stops.
        let settling = AbortOnDrop(tokio::spawn(settle_nights(self.shared.clone())));
        let shutdown = async move {
            shutdown.await;
            shared.announcer().close();
        };
        let mut app = http::router(
            self.extra,
            self.shared,
            self.config.dist,
            self.config.timeouts,
        );
        if self.tls.is_some() {
            app = app.layer(axum::middleware::map_response(strict_transport));
        }
        let proxies = self.config.transport.proxies();
        let served = serve::serve(
            self.listener,
            app,
            self.config.conn,
            self.tls,
            proxies,
            shutdown,
        )
        .await;
        // The settle task stops here, before the database goes (AbortOnDrop).
        drop(settling);
        served
    }
}

/// How often the server looks for quiet nights whose report figures wait to be worked out.
const SETTLE_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Works out, one at a time on the writer (pushes take their turns between), each night marked
/// by pushes and quiet since ([`crate::db::report_nights`]); runs until aborted.
async fn settle_nights(shared: Arc<Shared>) {
    loop {
        tokio::time::sleep(SETTLE_EVERY).await;
        loop {
            match shared
                .write(|db| db.settle_quiet_night(patrol_clock::now()))
                .await
            {
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot work out a night's report figures; trying again later");
                    break;
                }
            }
        }
    }
}

/// Over HTTPS served here, tells browsers to come back over HTTPS only, for a year (not the
/// parent domain's other hosts: a ward's name may share one). Behind a proxy, the proxy says it.
async fn strict_transport(mut res: axum::response::Response) -> axum::response::Response {
    res.headers_mut().insert(
        axum::http::header::STRICT_TRANSPORT_SECURITY,
        axum::http::HeaderValue::from_static("max-age=31536000"),
    );
    res
}

/// A background task stopped when this is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
