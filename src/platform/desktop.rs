//! The desktop target: the store is a file in the user's data folder; a background task syncs it.

use crate::platform::protocol::StartError;
use crate::service::door;
use crate::service::{ApiError, Change, Command, Reply, Service};
use crate::store::Store;
use crate::sync::http::HttpTransport;
use crate::sync::schedule::{Next, Outcome, Schedule, Trigger};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// A handle on the store; cheap to clone.
#[derive(Clone)]
pub struct Core {
    service: Arc<Mutex<Service>>,
    pokes: Arc<Pokes>,
    rounds: watch::Receiver<u64>,
}

impl PartialEq for Core {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.service, &other.service)
    }
}

/// What woke the loop last, for the schedule.
struct Pokes {
    notify: Notify,
    trigger: Mutex<Option<Trigger>>,
}

impl Pokes {
    fn send(&self, trigger: Trigger) {
        *self.trigger.lock().unwrap_or_else(|p| p.into_inner()) = Some(trigger);
        self.notify.notify_one();
    }
}

fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    (nanos % 1000) as f64 / 1000.0
}

/// The background sync task, planned by the shared [`Schedule`]: after writes (debounced), when
/// enrolled, every minute, and after failures with exponential backoff and jitter. Each finished
/// round bumps `rounds`.
async fn sync_loop(service: Arc<Mutex<Service>>, pokes: Arc<Pokes>, rounds: watch::Sender<u64>) {
    let mut schedule = Schedule::default();
    let mut next = schedule.next(Trigger::Started, jitter());
    loop {
        let woken = match next {
            Next::In(ms) => tokio::select! {
                _ = pokes.notify.notified() => true,
                _ = tokio::time::sleep(Duration::from_millis(ms)) => false,
            },
            Next::WhenPoked => {
                pokes.notify.notified().await;
                true
            }
        };
        if woken {
            let trigger = pokes
                .trigger
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            if let Some(trigger) = trigger {
                next = schedule.next(trigger, jitter());
                continue;
            }
        }
        let outcome = match door::sync(&*service, &HttpTransport::new).await {
            Ok(false) => Outcome::NotEnrolled,
            Ok(true) => Outcome::Synced,
            Err(e) => e.outcome(),
        };
        next = schedule.next(Trigger::Ended(outcome), jitter());
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
        let pokes = Arc::new(Pokes {
            notify: Notify::new(),
            trigger: Mutex::new(None),
        });
        let (tx, rounds) = watch::channel(0);
        tokio::spawn(sync_loop(service.clone(), pokes.clone(), tx));
        Ok(Core {
            service,
            pokes,
            rounds,
        })
    }

    /// Runs a command; local writes take about a millisecond, so they run right here, and
    /// enrolling or syncing goes to the ward server without holding the store while waiting.
    pub async fn call(&self, cmd: Command) -> Reply {
        let trigger = match &cmd {
            Command::Local(local) if local.writes_event() => Some(Trigger::Wrote),
            Command::Enroll { .. } => Some(Trigger::Connected),
            _ => None,
        };
        let reply = door::handle(&*self.service, cmd, HttpTransport::new).await;
        if let (true, Some(trigger)) = (reply.result.is_ok(), trigger) {
            self.pokes.send(trigger);
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
