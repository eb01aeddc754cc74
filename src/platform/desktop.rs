//! The desktop target: the store is a file in the user's data folder; a background task syncs it.

use crate::platform::protocol::StartError;
use crate::service::shared;
use crate::service::{ApiError, AppState, Command, Reply, Service};
use crate::store::Store;
use crate::sync::engine::backoff_ms;
use crate::sync::http::HttpTransport;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// After a write, wait this long for more before syncing (debounce).
const AFTER_WRITE: Duration = Duration::from_millis(1_500);
/// Between successful syncs.
const PERIOD: Duration = Duration::from_secs(60);

/// A handle on the store; cheap to clone.
#[derive(Clone)]
pub struct Core {
    service: Arc<Mutex<Service>>,
    poke: Arc<Notify>,
    rounds: watch::Receiver<u64>,
}

impl PartialEq for Core {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.service, &other.service)
    }
}

/// The background sync task: a round after writes (debounced), every minute, and after failures
/// with exponential backoff and jitter. Each finished round bumps `rounds`.
async fn sync_loop(service: Arc<Mutex<Service>>, poke: Arc<Notify>, rounds: watch::Sender<u64>) {
    let mut failures = 0u32;
    let mut wait = Duration::from_secs(1);
    loop {
        tokio::select! {
            _ = poke.notified() => tokio::time::sleep(AFTER_WRITE).await,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = match shared::sync(&*service, &HttpTransport::new).await {
            Ok(_) => {
                failures = 0;
                PERIOD
            }
            Err(e) if e.retryable() => {
                failures += 1;
                let unit = (std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .subsec_nanos()
                    % 1000) as f64
                    / 1000.0;
                Duration::from_millis(backoff_ms(failures - 1, unit))
            }
            // Revoked or refused as a whole: wait for the member (a write pokes the loop).
            Err(_) => Duration::from_secs(24 * 3600),
        };
        rounds.send_modify(|n| *n += 1);
    }
}

impl Core {
    /// Opens the database at $PATROL_DB, or patrol.db in the user's data folder, and starts syncing.
    pub async fn start() -> Result<Core, StartError> {
        let path = match std::env::var_os("PATROL_DB") {
            Some(p) => std::path::PathBuf::from(p),
            None => {
                let dir = dirs::data_dir()
                    .unwrap_or_else(|| ".".into())
                    .join("patrol-companion");
                std::fs::create_dir_all(&dir).map_err(|e| StartError::Unsupported {
                    detail: e.to_string(),
                })?;
                dir.join("patrol.db")
            }
        };
        let store = Store::open_file(&path).map_err(|e| StartError::Store {
            error: ApiError::from(e),
        })?;
        let service = Arc::new(Mutex::new(Service::new(store)));
        let poke = Arc::new(Notify::new());
        let (tx, rounds) = watch::channel(0);
        tokio::spawn(sync_loop(service.clone(), poke.clone(), tx));
        Ok(Core {
            service,
            poke,
            rounds,
        })
    }

    /// Runs a command; local writes take about a millisecond, so they run right here, and
    /// enrolling or syncing goes to the ward server without holding the store while waiting.
    pub async fn call(&self, cmd: Command) -> Reply {
        let writes = cmd.writes_event() || matches!(cmd, Command::Enroll { .. });
        let reply = shared::handle(&*self.service, cmd, HttpTransport::new).await;
        if writes && reply.result.is_ok() {
            self.poke.notify_one();
        }
        reply
    }

    /// Calls `f` with the fresh state after every background sync round (on the UI's thread).
    pub fn on_update(&self, f: impl Fn(AppState) + 'static) {
        let (service, mut rounds) = (self.service.clone(), self.rounds.clone());
        dioxus::prelude::spawn(async move {
            while rounds.changed().await.is_ok() {
                let state = service
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .state(chrono::Utc::now());
                if let Ok(state) = state {
                    f(state);
                }
            }
        });
    }
}
