//! The desktop target: the store is a file in the user's data folder, used from the UI's task.

use crate::platform::protocol::StartError;
use crate::service::{ApiError, Command, Reply, Service};
use crate::store::Store;
use std::sync::{Arc, Mutex};

/// A handle on the store; cheap to clone.
#[derive(Clone)]
pub struct Core {
    service: Arc<Mutex<Service>>,
}

impl PartialEq for Core {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.service, &other.service)
    }
}

impl Core {
    /// Opens the database at $PATROL_DB, or patrol.db in the user's data folder.
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
        Ok(Core {
            service: Arc::new(Mutex::new(Service::new(store))),
        })
    }

    /// Runs a command; local writes take about a millisecond, so they run right here, and
    /// enrolling or syncing goes to the ward server without holding the store while waiting.
    pub async fn call(&self, cmd: Command) -> Reply {
        crate::service::shared::handle(&*self.service, cmd, crate::sync::http::HttpTransport::new)
            .await
    }

    /// Desktop updates come only as replies (sync runs when asked); kept for the same API as the web.
    pub fn on_update(&self, _f: impl Fn(crate::service::AppState) + 'static) {}
}
