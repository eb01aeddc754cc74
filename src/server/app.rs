//! The ward server built from one typed configuration by one function, [`Application::build`],
//! which `ward-server serve`, the tests and the benchmarks all use.

use super::db::ServerDb;
use super::error::ServerError;
use super::http::serve::{self, ConnLimits};
use super::http::{self, Limits, RequestTimeouts, Shared};
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
    /// The data directory (ward.db).
    pub data: PathBuf,
    /// The built web app, if served.
    pub dist: Option<PathBuf>,
    /// Rate limits.
    pub limits: Limits,
    /// Connection limits.
    pub conn: ConnLimits,
    /// Request time limits.
    pub timeouts: RequestTimeouts,
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
        }
    }
}

/// A bound, ready server.
pub struct Application {
    listener: tokio::net::TcpListener,
    local: SocketAddr,
    shared: Arc<Shared>,
    config: ServerConfig,
    extra: Router<Arc<Shared>>,
}

impl Application {
    /// Opens (creating and migrating) the database and binds the address.
    pub async fn build(config: ServerConfig) -> Result<Self, ServerError> {
        let db = ServerDb::open(&config.data)?;
        let listener = tokio::net::TcpListener::bind(&config.addr)
            .await
            .map_err(|e| ServerError::Invalid(format!("cannot listen on {}: {e}", config.addr)))?;
        let local = listener
            .local_addr()
            .map_err(|e| ServerError::Internal(e.to_string()))?;
        Ok(Application {
            listener,
            local,
            shared: Shared::new(db, config.limits),
            config,
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

    /// "http://ADDR".
    pub fn url(&self) -> String {
        format!("http://{}", self.local)
    }

    /// The database and limits every handler shares.
    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Serves until `shutdown` resolves; requests in flight finish first.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = http::router(
            self.extra,
            self.shared,
            self.config.dist,
            self.config.timeouts,
        );
        serve::serve(self.listener, app, self.config.conn, shutdown).await
    }
}
