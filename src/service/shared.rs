//! Commands that need the network (enroll, sync now) next to the local ones, over a service that
//! the UI's commands and the background sync share: a RefCell in the browser worker, a Mutex on
//! desktop. The store is never held across a network wait.

use super::api::{Command, Notice, Reply};
use super::error::ApiError;
use super::handle::Service;
use crate::store::Store;
use crate::sync::engine::{self, StoreAccess, SyncError, Transport};
use chrono::Utc;

/// A service shared between tasks.
pub trait SharedService {
    /// Runs `f` with the service.
    fn with<R>(&self, f: impl FnOnce(&mut Service) -> R) -> R;
}

impl SharedService for std::cell::RefCell<Service> {
    fn with<R>(&self, f: impl FnOnce(&mut Service) -> R) -> R {
        f(&mut self.borrow_mut())
    }
}

impl SharedService for std::sync::Mutex<Service> {
    fn with<R>(&self, f: impl FnOnce(&mut Service) -> R) -> R {
        f(&mut self.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

struct StoreOf<'a, S>(&'a S);

impl<S: SharedService> StoreAccess for StoreOf<'_, S> {
    fn with<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        self.0.with(|svc| f(svc.store_mut()))
    }
}

impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Network(detail) => ApiError::new("err.sync_network").arg("detail", detail),
            SyncError::Server { status: 403, .. } => ApiError::new("err.sync_revoked"),
            SyncError::Server { status: 401, .. } => ApiError::new("err.not_enrolled"),
            SyncError::Server { body, .. } if body.error == "bad_code" => {
                ApiError::new("err.enroll_code").arg("detail", body.message)
            }
            SyncError::Server { status, body } => ApiError::new("err.sync_server")
                .arg("status", status)
                .arg("detail", body.message),
            SyncError::NotEnrolled => ApiError::new("err.not_enrolled"),
            SyncError::Store(e) => e.into(),
        }
    }
}

/// Runs any command: network ones through `transport_for(server_url)`, the rest locally.
pub async fn handle<S: SharedService, T: Transport>(
    svc: &S,
    cmd: Command,
    transport_for: impl Fn(&str) -> T,
) -> Reply {
    let outcome = match cmd {
        Command::Enroll { server_url, code } => {
            let transport = transport_for(&server_url);
            engine::enroll(&StoreOf(svc), &transport, &server_url, &code)
                .await
                .map(|_| Notice::Enrolled)
        }
        Command::SyncNow => sync(svc, &transport_for).await.map(|_| Notice::Synced),
        local => return svc.with(|s| s.handle(local, Utc::now())),
    };
    match outcome {
        Ok(notice) => {
            let mut reply = svc.with(|s| s.handle(Command::State, Utc::now()));
            reply.notice = Some(notice);
            reply
        }
        Err(e) => Reply {
            result: Err(e.into()),
            notice: None,
        },
    }
}

/// One background sync round; `Ok(false)` when the device is not enrolled (nothing to do).
pub async fn sync<S: SharedService, T: Transport>(
    svc: &S,
    transport_for: &impl Fn(&str) -> T,
) -> Result<bool, SyncError> {
    let Some(url) = svc.with(|s| s.store().sync_value("server_url"))? else {
        return Ok(false);
    };
    engine::sync_once(&StoreOf(svc), &transport_for(&url), Utc::now).await?;
    Ok(true)
}
