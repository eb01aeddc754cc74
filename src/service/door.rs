//! The one door into the core for the UI on every platform: local commands run on the store,
//! enrolling and syncing go to the ward server. The service is shared with the background sync (a
//! RefCell in the browser worker, a Mutex on desktop) and never held across a network wait.

use super::api::{Change, Command, Local, Notice, Reply};
use super::error::ApiError;
use super::handle::Service;
use crate::clock;
use crate::domain::photo::PhotoHash;
use crate::store::photos::StoredPhoto;
use crate::store::sync_state::SyncKey;
use crate::store::{Store, StoreError};
use crate::sync::engine::{self, Shared, SyncError, Transport};
use crate::sync::schedule::Outcome;
use crate::wire::api::CodeRefusal;
#[cfg(team_api)]
use crate::wire::api::ReportQuery;
#[cfg(team_api)]
use crate::wire::team::TeamCall;

/// The store inside a shared service, as the sync engine borrows it.
struct StoreOf<'a, S>(&'a S);

impl<S: Shared<Service>> Shared<Store> for StoreOf<'_, S> {
    fn with<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        self.0.with(|svc| f(svc.store_mut()))
    }
}

impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Network(detail) => ApiError::new("err.sync_network").detail(detail),
            SyncError::Server { body, .. } if body.error == engine::REVOKED => {
                ApiError::new("err.sync_revoked")
            }
            SyncError::Server { status: 401, .. } => ApiError::new("err.not_enrolled"),
            // Said in the phone's words, never the server's English sentence.
            SyncError::Server { body, .. } if body.error == "bad_code" => {
                ApiError::new(match body.reason {
                    Some(CodeRefusal::Unknown) => "err.enroll_code_unknown",
                    Some(CodeRefusal::Used) => "err.enroll_code_used",
                    Some(CodeRefusal::Expired) => "err.enroll_code_expired",
                    Some(CodeRefusal::Other) | None => "err.enroll_code",
                })
            }
            SyncError::Server { status, body } => refusal(status, body),
            SyncError::NotEnrolled => ApiError::new("err.not_enrolled"),
            SyncError::Store(e) => e.into(),
        }
    }
}

/// Runs any command: network ones through `transport_for(server_url)`, the rest on the store. A
/// local command that fails because the storage under the database failed is run once more
/// after the database is closed and opened again with `reopen`.
pub async fn handle<S: Shared<Service>, T: Transport>(
    svc: &S,
    cmd: Command,
    transport_for: impl Fn(&str) -> T,
    reopen: impl FnOnce() -> Result<Store, StoreError>,
) -> Reply {
    let outcome = match cmd {
        Command::Local(local) => return run_healing(svc, local, reopen),
        Command::Enroll { server_url, code } => {
            let transport = transport_for(&server_url);
            engine::enroll(&StoreOf(svc), &transport, &server_url, &code)
                .await
                .map(|_| Notice::Enrolled)
        }
        Command::SyncNow => sync(svc, &transport_for).await.map(|_| Notice::Synced),
        Command::ConnectionSeen => {
            return Reply {
                result: Ok(Change::Nothing),
                notice: None,
            }
        }
        #[cfg(team_api)]
        Command::Report { query } => {
            return Reply {
                result: report(svc, &transport_for, &query).await,
                notice: None,
            }
        }
        #[cfg(team_api)]
        Command::Team { call } => {
            return Reply {
                result: team(svc, &transport_for, &call).await,
                notice: None,
            }
        }
        Command::MyAllowance { month } => {
            return Reply {
                result: my_allowance(svc, &transport_for, month).await,
                notice: None,
            }
        }
        Command::Photo { hash } => {
            return Reply {
                result: photo(svc, &transport_for, hash).await,
                notice: None,
            }
        }
    };
    match outcome {
        Ok(notice) => Reply {
            result: refreshed(svc),
            notice: Some(notice),
        },
        Err(e) => Reply {
            result: Err(e.into()),
            notice: None,
        },
    }
}

/// Runs a local command; on a storage failure, reopens the database and runs it once more (or
/// first, when an earlier reopen failed).
fn run_healing<S: Shared<Service>>(
    svc: &S,
    local: Local,
    reopen: impl FnOnce() -> Result<Store, StoreError>,
) -> Reply {
    // After a reopen that failed, the database is opened before anything else.
    if !svc.with(|s| s.store().is_stand_in()) {
        let reply = svc.with(|s| s.run(local.clone(), clock::now()));
        if !matches!(&reply.result, Err(e) if e.is_storage_failure()) {
            return reply;
        }
    }
    match svc.with(|s| s.store_mut().reopen(reopen)) {
        Ok(()) => svc.with(|s| s.run(local, clock::now())),
        Err(e) => Reply {
            result: Err(e.into()),
            notice: None,
        },
    }
}

/// The whole state after a background change (a sync round), as a change the UI applies.
pub fn refreshed<S: Shared<Service>>(svc: &S) -> Result<Change, ApiError> {
    svc.with(|s| s.state(clock::now()))
        .map(|state| Change::Full {
            state: Box::new(state),
        })
        .map_err(ApiError::from)
}

/// One background sync round, and how it ended, for the schedule.
pub async fn background_sync<S: Shared<Service>, T: Transport>(
    svc: &S,
    transport_for: &impl Fn(&str) -> T,
) -> Outcome {
    match sync(svc, transport_for).await {
        Ok(false) => Outcome::NotEnrolled,
        Ok(true) => Outcome::Synced,
        Err(e) => e.outcome(),
    }
}

/// The ward server's address and this device's token, or "not enrolled".
fn credentials<S: Shared<Service>>(svc: &S) -> Result<(String, String), ApiError> {
    let (url, token) = svc.with(|s| {
        let store = s.store();
        Ok::<_, StoreError>((
            store.sync_value(SyncKey::ServerUrl)?,
            store.sync_value(SyncKey::Token)?,
        ))
    })?;
    match (url, token) {
        (Some(url), Some(token)) => Ok((url, token)),
        _ => Err(ApiError::new("err.not_enrolled")),
    }
}

/// A refusal of the ward server in the phone's words, from its stable code (the server's own
/// sentence is kept as the detail, never shown as the message).
fn refusal(status: u16, body: crate::wire::api::ErrorBody) -> ApiError {
    let key = match body.error.as_str() {
        "forbidden" => "err.refused_forbidden",
        "not_found" => "err.refused_not_found",
        "invalid" | "bad_request" | "too_large" => "err.refused_invalid",
        "busy" | "timeout" => "err.server_busy",
        "rate_limited" => "err.rate_limited",
        "month_closed" => "err.allowance_closed",
        _ => {
            return ApiError::new("err.sync_server")
                .arg("status", status)
                .detail(body.message)
        }
    };
    ApiError::new(key).detail(body.message)
}

/// An error of a call that is made online only (reports, the team API, the member's own count), in words: no connection
/// (`offline`), or the server's reason for refusing.
fn online_only(e: SyncError, offline: &'static str) -> ApiError {
    match e {
        SyncError::Network(detail) => ApiError::new(offline).detail(detail),
        e => e.into(),
    }
}

#[cfg(team_api)]
/// A report from the ward server this device is enrolled with. Reports are read there, never
/// kept on the phone, so they need a connection, and the error says so.
async fn report<S: Shared<Service>, T: Transport>(
    svc: &S,
    transport_for: &impl Fn(&str) -> T,
    query: &ReportQuery,
) -> Result<Change, ApiError> {
    let (url, token) = credentials(svc)?;
    match transport_for(&url).report(&token, query).await {
        Ok(r) => Ok(Change::Report {
            report: Box::new(r),
        }),
        Err(e) => Err(online_only(e, "err.report_offline")),
    }
}

#[cfg(team_api)]
/// A call of the team API on this device's team. Changes are made on the server only, so they
/// need a connection, and the error says so; what may be done is decided there from the token.
async fn team<S: Shared<Service>, T: Transport>(
    svc: &S,
    transport_for: &impl Fn(&str) -> T,
    call: &TeamCall,
) -> Result<Change, ApiError> {
    let (url, token) = credentials(svc)?;
    let Some(setup) = svc.with(|s| s.store().setup())? else {
        return Err(ApiError::new("err.not_enrolled"));
    };
    // A route file is read here first, by the rules the server reads it with: a bad one is
    // refused at once, naming its line and column in the phone's words, and is never sent.
    if let TeamCall::Route(req) = call {
        crate::domain::route_file::read(req.format, &req.text)?;
    }
    match transport_for(&url).team(&token, &setup.team.id, call).await {
        Ok(answer) => Ok(Change::Team {
            answer: Box::new(answer),
        }),
        Err(e) => Err(online_only(e, "err.team_offline")),
    }
}

/// The member's own nights on their team's sheet of `month`, as the ward server counts them.
async fn my_allowance<S: Shared<Service>, T: Transport>(
    svc: &S,
    transport_for: &impl Fn(&str) -> T,
    month: crate::domain::allowance::YearMonth,
) -> Result<Change, ApiError> {
    let (url, token) = credentials(svc)?;
    transport_for(&url)
        .my_allowance(&token, month)
        .await
        .map(|mine| Change::MyAllowance { mine })
        .map_err(|e| online_only(e, "err.team_offline"))
}

/// An image from this device, else from the ward server (a leader's view of a member's photo, a
/// full-size photo dropped here to free space).
async fn photo<S: Shared<Service>, T: Transport>(
    svc: &S,
    transport_for: &impl Fn(&str) -> T,
    hash: PhotoHash,
) -> Result<Change, ApiError> {
    if let Some(StoredPhoto {
        mime,
        data: Some(data),
    }) = svc.with(|s| s.store().photo(&hash))?
    {
        return Ok(Change::Photo { hash, mime, data });
    }
    let (url, token) = credentials(svc)?;
    match transport_for(&url).photo_get(&token, &hash).await {
        Ok((mime, data)) => Ok(Change::Photo { hash, mime, data }),
        Err(SyncError::Network(detail)) => Err(ApiError::new("err.photo_offline").detail(detail)),
        Err(SyncError::Server { status: 404, .. }) => Err(ApiError::new("err.photo_missing")),
        Err(e) => Err(e.into()),
    }
}

/// One sync round; `Ok(false)` when the device is not enrolled (nothing to do).
async fn sync<S: Shared<Service>, T: Transport>(
    svc: &S,
    transport_for: &impl Fn(&str) -> T,
) -> Result<bool, SyncError> {
    let Some(url) = svc.with(|s| s.store().sync_value(SyncKey::ServerUrl))? else {
        return Ok(false);
    };
    let transport = transport_for(&url);
    engine::sync_once(&StoreOf(svc), &transport, clock::now).await?;
    engine::upload_photos(&StoreOf(svc), &transport, clock::now).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::api::ErrorBody;

    fn refused(status: u16, code: &str) -> ApiError {
        SyncError::Server {
            status,
            body: ErrorBody::new(code, "the server's own English sentence"),
        }
        .into()
    }

    #[test]
    fn a_refusal_is_worded_by_its_code_and_only_revoked_says_revoked() {
        assert_eq!(refused(403, "revoked").key, "err.sync_revoked");
        let forbidden = refused(403, "forbidden");
        assert_eq!(forbidden.key, "err.refused_forbidden");
        assert_eq!(
            forbidden.args,
            vec![],
            "nothing of the server's words in the message"
        );
        assert_eq!(
            forbidden.detail.as_deref(),
            Some("the server's own English sentence")
        );
        assert_eq!(refused(404, "not_found").key, "err.refused_not_found");
        assert_eq!(refused(422, "invalid").key, "err.refused_invalid");
        assert_eq!(refused(409, "month_closed").key, "err.allowance_closed");
        assert_eq!(refused(503, "busy").key, "err.server_busy");
        assert_eq!(refused(429, "rate_limited").key, "err.rate_limited");
        assert_eq!(refused(418, "teapot").key, "err.sync_server");
    }
}
