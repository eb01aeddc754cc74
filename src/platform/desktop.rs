//! The desktop target: the store is a file in the user's data folder, used from the UI's task.

use crate::platform::protocol::StartError;
use crate::service::{ApiError, Command, Reply, Service};
use crate::store::Store;
use chrono::Utc;
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

    /// Runs a command; a write takes about a millisecond, so it runs right here.
    pub async fn call(&self, cmd: Command) -> Reply {
        let mut service = self.service.lock().unwrap_or_else(|p| p.into_inner());
        service.handle(cmd, Utc::now())
    }
}
