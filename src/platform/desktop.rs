//! The desktop target: the store is a file in the user's data folder; a background task syncs it.

use crate::platform::protocol::StartError;
use crate::service::door;
use crate::service::{ApiError, Change, Command, Reply, Service};
use crate::store::Store;
use crate::sync::http::HttpTransport;
use crate::sync::schedule::{Next, Schedule, Trigger};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// A handle on the store; cheap to clone.
#[derive(Clone)]
pub struct Core {
    service: Arc<Mutex<Service>>,
    /// The database file, to reopen after its storage failed.
    path: Arc<std::path::PathBuf>,
    triggers: mpsc::UnboundedSender<Trigger>,
    rounds: watch::Receiver<u64>,
}

impl PartialEq for Core {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.service, &other.service)
    }
}

fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    (nanos % 1000) as f64 / 1000.0
}

/// The background sync task, planned by the shared [`Schedule`] from each trigger in turn (none
/// is lost while a round runs) and from how each round ended. Each finished round bumps `rounds`.
async fn sync_loop(
    service: Arc<Mutex<Service>>,
    mut triggers: mpsc::UnboundedReceiver<Trigger>,
    rounds: watch::Sender<u64>,
) {
    let mut schedule = Schedule::default();
    let mut next = schedule.next(Trigger::Started, jitter());
    loop {
        // Some(received) when woken by the app (None once the app is gone), None when the timer ran out.
        let woken = match next {
            Next::In(ms) => tokio::select! {
                t = triggers.recv() => Some(t),
                _ = tokio::time::sleep(Duration::from_millis(ms)) => None,
            },
            Next::WhenPoked => Some(triggers.recv().await),
        };
        match woken {
            Some(Some(trigger)) => {
                next = schedule.next(trigger, jitter());
                continue;
            }
            Some(None) => return,
            None => {}
        }
        let outcome = door::background_sync(&*service, &HttpTransport::new).await;
        next = schedule.next(Trigger::Ended(outcome), jitter());
        rounds.send_modify(|n| *n += 1);
    }
}

impl Core {
    /// None: the desktop's store opens in milliseconds, and the first screen waits for it (the
    /// web's `Core::early` gives a new phone's store before it is open).
    pub fn early() -> Option<Core> {
        None
    }

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
        let (triggers, received) = mpsc::unbounded_channel();
        let (tx, rounds) = watch::channel(0);
        tokio::spawn(sync_loop(service.clone(), received, tx));
        Ok(Core {
            service,
            path: Arc::new(path),
            triggers,
            rounds,
        })
    }

    /// Runs a command; local writes take about a millisecond, so they run right here, and
    /// enrolling or syncing goes to the ward server without holding the store while waiting.
    pub async fn call(&self, cmd: Command) -> Reply {
        let trigger = cmd.sync_trigger();
        let reply = door::handle(&*self.service, cmd, HttpTransport::new, || {
            Store::open_file(&self.path)
        })
        .await;
        if let (true, Some(trigger)) = (reply.result.is_ok(), trigger) {
            // The loop ends only with the app.
            let _ = self.triggers.send(trigger);
        }
        reply
    }

    /// Calls `f` with what changed after every background sync round (on the UI's thread).
    pub fn on_update(&self, f: impl Fn(Change) + 'static) {
        let (service, mut rounds) = (self.service.clone(), self.rounds.clone());
        dioxus::prelude::spawn(async move {
            while rounds.changed().await.is_ok() {
                if let Ok(change) = door::refreshed(&*service) {
                    f(change);
                }
            }
        });
    }
}
