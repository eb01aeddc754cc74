//! The sync engine: push the outbox in batches, then pull the feed; the network is a [`Transport`]
//! so the same engine runs in the browser's worker and on native.

use crate::domain::photo::PhotoHash;
use crate::store::sync_state::SyncKey;
use crate::store::{outbox, Store, StoreError};
use crate::wire::api::{
    EnrollRequest, EnrollResponse, ErrorBody, MyAllowanceResponse, PullResponse, PushRequest,
    PushResponse, ReportQuery, ReportResponse,
};
use crate::wire::photo::{PhotoRefusal, UploadState, CHUNK_BYTES};
use crate::wire::team::{TeamAnswer, TeamCall};
use chrono::{DateTime, Utc};
use std::future::Future;
use thiserror::Error;

/// Events per push; well under the server's limit.
pub const BATCH: usize = 200;

/// Why a sync round stopped.
#[derive(Debug, Error)]
pub enum SyncError {
    /// No connection, a timeout, a cut body: try again later.
    #[error("no connection to the ward server: {0}")]
    Network(String),
    /// The server answered with an error.
    #[error("the ward server answered {status}: {}", body.message)]
    Server {
        /// HTTP status.
        status: u16,
        /// Its error body.
        body: ErrorBody,
    },
    /// This device is not enrolled yet.
    #[error("this device is not enrolled with a ward server")]
    NotEnrolled,
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The server's code for a device whose access was taken away (docs/api.md).
pub const REVOKED: &str = "revoked";

impl SyncError {
    /// A stable code, kept as the last sync error for the UI to put in words.
    pub fn code(&self) -> &'static str {
        match self {
            SyncError::Network(_) => "network",
            // Only the server's own code says so: another 403 is a refusal of this request.
            SyncError::Server { body, .. } if body.error == REVOKED => "revoked",
            SyncError::Server { status: 401, .. } => "unauthorized",
            // Too many requests, or the server too busy to start this one (503 `busy`).
            SyncError::Server {
                status: 429 | 503, ..
            } => "busy",
            // The request took longer than the server waits: a slow link, as a lost one.
            SyncError::Server { status: 408, .. } => "network",
            SyncError::Server { status, .. } if *status >= 500 => "server_down",
            SyncError::Server { .. } => "refused",
            SyncError::NotEnrolled => "not_enrolled",
            SyncError::Store(_) => "store",
        }
    }

    /// Whether trying again later can help (network, 408, 429, 5xx).
    pub fn retryable(&self) -> bool {
        match self {
            SyncError::Network(_) => true,
            SyncError::Server { status, .. } => matches!(*status, 408 | 429) || *status >= 500,
            _ => false,
        }
    }

    /// How a round that failed with this error ended, for the schedule.
    pub fn outcome(&self) -> super::schedule::Outcome {
        if self.retryable() {
            super::schedule::Outcome::Retryable
        } else {
            super::schedule::Outcome::Permanent
        }
    }
}

/// Brief access to something shared between tasks (the store, the service): a RefCell in the
/// browser's worker, a Mutex on desktop. The engine never holds it across a network wait, so the
/// UI's commands are answered while a sync is under way.
pub trait Shared<T> {
    /// Runs `f` with the shared value.
    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R;
}

impl<T> Shared<T> for std::cell::RefCell<T> {
    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.borrow_mut())
    }
}

impl<T> Shared<T> for std::sync::Mutex<T> {
    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// The ward server as the engine sees it.
pub trait Transport {
    /// POST /api/v1/enroll.
    fn enroll(
        &self,
        req: &EnrollRequest,
    ) -> impl Future<Output = Result<EnrollResponse, SyncError>>;
    /// POST /api/v1/push.
    fn push(
        &self,
        token: &str,
        req: &PushRequest,
    ) -> impl Future<Output = Result<PushResponse, SyncError>>;
    /// GET /api/v1/pull?after=.
    fn pull(
        &self,
        token: &str,
        after: i64,
    ) -> impl Future<Output = Result<PullResponse, SyncError>>;
    /// GET /api/v1/report?scope=&id=&from=&to=.
    fn report(
        &self,
        token: &str,
        query: &ReportQuery,
    ) -> impl Future<Output = Result<ReportResponse, SyncError>>;
    /// One call of the team API on team `team_id` (docs/api.md, "The team API").
    fn team(
        &self,
        token: &str,
        team_id: &str,
        call: &TeamCall,
    ) -> impl Future<Output = Result<TeamAnswer, SyncError>>;
    /// GET /api/v1/allowance/mine?month=: the caller's own nights on their team's sheet (its own
    /// call, so the members' build carries none of the team API's answers).
    fn my_allowance(
        &self,
        token: &str,
        month: crate::domain::allowance::YearMonth,
    ) -> impl Future<Output = Result<MyAllowanceResponse, SyncError>>;
    /// GET /api/v1/photos/{hash}/upload: how much of the photo the server holds.
    fn photo_state(
        &self,
        token: &str,
        hash: &PhotoHash,
    ) -> impl Future<Output = Result<UploadState, SyncError>>;
    /// PUT /api/v1/photos/{hash}/upload?offset=: one piece of at most [`CHUNK_BYTES`].
    fn photo_put(
        &self,
        token: &str,
        hash: &PhotoHash,
        offset: u64,
        piece: &[u8],
    ) -> impl Future<Output = Result<UploadState, SyncError>>;
    /// GET /api/v1/photos/{hash}: the image's MIME type and bytes.
    fn photo_get(
        &self,
        token: &str,
        hash: &PhotoHash,
    ) -> impl Future<Output = Result<(String, Vec<u8>), SyncError>>;
    /// Whether the connection is a metered mobile link (photos may then wait for Wi-Fi).
    fn metered(&self) -> bool;
}

impl SyncError {
    /// A reply that does not parse as what was asked for (a cut or garbled body): retried later.
    pub fn unreadable(e: impl std::fmt::Display) -> Self {
        SyncError::Network(format!("unreadable reply: {e}"))
    }
}

/// What one sync round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Report {
    /// Events the server now holds from this round.
    pub sent: usize,
    /// Events the server refused (parked, visible).
    pub refused: usize,
    /// Events queued again after a new epoch or a lost acknowledgement.
    pub requeued: usize,
    /// Feed items pulled and applied.
    pub pulled: usize,
    /// Feed items this device could not read (recorded, skipped).
    pub rejected: usize,
    /// Images (photos and thumbnails) the server now holds from this round.
    pub photos_sent: usize,
    /// Images the server refused for good (kept on the phone, shown).
    pub photos_refused: usize,
    /// Images the server would not take this round for another reason (tried again next round).
    pub photos_skipped: usize,
}

/// The setting that keeps full-size photos for Wi-Fi ("1"); thumbnails go on any link.
pub const PHOTOS_WIFI_ONLY: &str = "photos_wifi_only";

/// This device's token, or "not enrolled".
fn token<S: Shared<Store>>(store: &S) -> Result<String, SyncError> {
    store
        .with(|s| s.sync_value(SyncKey::Token))?
        .ok_or(SyncError::NotEnrolled)
}

/// Uploads the images whose records the server already holds, thumbnails first, each in pieces
/// from where the server's copy ends (a cut connection resumes, never restarts). Called after the
/// records went, so on a poor link the text of every observation arrives before any picture.
/// Then drops the full-size photos the server has held for the ward's keeping period.
pub async fn upload_photos<S: Shared<Store>, T: Transport>(
    store: &S,
    transport: &T,
    now: impl Fn() -> DateTime<Utc>,
) -> Result<Report, SyncError> {
    let token = token(store)?;
    let wifi_only = store.with(|s| s.setting(PHOTOS_WIFI_ONLY))?.as_deref() == Some("1");
    let waiting = store.with(|s| s.photos_waiting(wifi_only && transport.metered()))?;
    let mut report = Report::default();
    for w in waiting {
        let Some(bytes) = store.with(|s| s.photo(&w.hash))?.and_then(|p| p.data) else {
            continue;
        };
        match upload_one(transport, &token, &w.hash, &bytes).await {
            Ok(()) => {
                store.with(|s| s.photo_uploaded(&w.hash, now()))?;
                report.photos_sent += 1;
            }
            Err(SyncError::Server { status, body }) => {
                match PhotoRefusal::from_code(&body.error) {
                    Some(why) if is_final(why) => {
                        store.with(|s| s.photo_refused(&w.hash, why))?;
                        report.photos_refused += 1;
                    }
                    // The ward's storage is full: the photos wait here; the records are all there.
                    Some(PhotoRefusal::WardQuota) => {
                        store.with(|s| s.set_sync_error(Some(PhotoRefusal::WardQuota.code())))?;
                        break;
                    }
                    // Revoked or unknown token: the round stops, as for records.
                    _ if status == 401 || status == 403 => {
                        return Err(SyncError::Server { status, body })
                    }
                    // Any other refusal of this photo (a copy the server found garbled): the next
                    // photos go on; this one is tried again next round.
                    _ => report.photos_skipped += 1,
                }
            }
            Err(e) => return Err(e),
        }
    }
    // Free space: full-size photos the server has held for the ward's period (thumbnails stay).
    let keep = store
        .with(|s| s.ward())?
        .ok_or(StoreError::NoWard)?
        .photo_keep();
    store.with(|s| s.drop_uploaded_photos(now() - keep))?;
    Ok(report)
}

/// A refusal that sending again cannot cure: the image is kept here and not sent again.
fn is_final(why: PhotoRefusal) -> bool {
    matches!(
        why,
        PhotoRefusal::UnknownPhoto
            | PhotoRefusal::TooLarge
            | PhotoRefusal::HashMismatch
            | PhotoRefusal::NotImage
            | PhotoRefusal::Metadata
    )
}

/// Sends one image from the end of the server's copy, piece by piece.
async fn upload_one<T: Transport>(
    transport: &T,
    token: &str,
    hash: &PhotoHash,
    bytes: &[u8],
) -> Result<(), SyncError> {
    let mut state = transport.photo_state(token, hash).await?;
    let mut mismatches = 0;
    let mut restarted = false;
    while !state.stored {
        let from = state.received.min(bytes.len() as u64) as usize;
        let to = (from + CHUNK_BYTES).min(bytes.len());
        match transport
            .photo_put(token, hash, from as u64, &bytes[from..to])
            .await
        {
            Ok(next) if next.stored || next.received > from as u64 => state = next,
            Ok(_) => {
                return Err(SyncError::unreadable(format!(
                    "the server took no bytes of photo {hash} at {from}"
                )))
            }
            // Another round of this device sent a piece meanwhile: ask where the copy ends.
            Err(SyncError::Server { body, .. })
                if mismatches < 3
                    && PhotoRefusal::from_code(&body.error)
                        == Some(PhotoRefusal::OffsetMismatch) =>
            {
                mismatches += 1;
                state = transport.photo_state(token, hash).await?;
            }
            // The server's copy did not hash to the name (another upload of the same file
            // interleaved): it dropped it; start again from zero, once.
            Err(SyncError::Server { body, .. })
                if !restarted
                    && PhotoRefusal::from_code(&body.error) == Some(PhotoRefusal::HashMismatch) =>
            {
                restarted = true;
                state = transport.photo_state(token, hash).await?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Redeems an enrollment code and saves the credentials and setup.
pub async fn enroll<S: Shared<Store>, T: Transport>(
    store: &S,
    transport: &T,
    server_url: &str,
    code: &str,
) -> Result<(), SyncError> {
    let device_id = store.with(|s| outbox::device_id(s.conn()))?;
    let resp = transport
        .enroll(&EnrollRequest {
            code: code.trim().to_string(),
            device_id,
        })
        .await?;
    store.with(|s| s.save_enrollment(server_url, &resp))?;
    Ok(())
}

/// One round: push until the queue is empty (or stuck), then pull until the feed is exhausted;
/// once more when a page came from a new epoch (a restored server: what it lost goes again).
pub async fn sync_once<S: Shared<Store>, T: Transport>(
    store: &S,
    transport: &T,
    now: impl Fn() -> DateTime<Utc>,
) -> Result<Report, SyncError> {
    let token = token(store)?;
    let mut report = Report::default();
    let result = async {
        for _pass in 0..2 {
            push_all(store, transport, &token, &now, &mut report).await?;
            if !pull_all(store, transport, &token, &now, &mut report).await? {
                break;
            }
        }
        Ok::<_, SyncError>(())
    }
    .await;
    if let Err(e) = &result {
        store.with(|s| s.set_sync_error(Some(e.code())))?;
    }
    result.map(|_| report)
}

/// Pushes until the queue is empty (or stuck).
async fn push_all<S: Shared<Store>, T: Transport>(
    store: &S,
    transport: &T,
    token: &str,
    now: &impl Fn() -> DateTime<Utc>,
    report: &mut Report,
) -> Result<(), SyncError> {
    loop {
        let (batch, before) = store.with(|s| {
            Ok::<_, StoreError>((
                outbox::pending(s.conn(), BATCH)?,
                outbox::pending_count(s.conn())?,
            ))
        })?;
        if batch.is_empty() {
            break;
        }
        let reply = transport
            .push(
                token,
                &PushRequest {
                    sent_at: now(),
                    events: batch,
                },
            )
            .await?;
        let (applied, after) = store.with(|s| {
            let applied = s.apply_push(&reply, now())?;
            Ok::<_, StoreError>((applied, outbox::pending_count(s.conn())?))
        })?;
        report.sent += applied.marked_sent;
        report.refused += applied.refused;
        report.requeued += applied.requeued;
        // A gap the server cannot fill (it lost events this device no longer has) would loop forever.
        if after >= before && applied.requeued == 0 {
            break;
        }
    }
    Ok(())
}

/// Pulls until the feed is exhausted; gives whether a page came from a new epoch and put events
/// back in the queue.
async fn pull_all<S: Shared<Store>, T: Transport>(
    store: &S,
    transport: &T,
    token: &str,
    now: &impl Fn() -> DateTime<Utc>,
    report: &mut Report,
) -> Result<bool, SyncError> {
    let mut requeued = false;
    loop {
        let after = store.with(|s| s.cursor())?;
        let page = transport.pull(token, after).await?;
        let applied = store.with(|s| s.apply_pull(&page, now()))?;
        report.pulled += applied.applied;
        report.rejected += applied.rejected;
        report.requeued += applied.requeued;
        requeued |= applied.requeued > 0;
        if !page.more {
            return Ok(requeued);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(status: u16, code: &str) -> SyncError {
        SyncError::Server {
            status,
            body: ErrorBody::new(code, "x"),
        }
    }

    #[test]
    fn a_busy_or_slow_server_is_tried_again_and_said_as_such() {
        for (status, error, code, again) in [
            (503, "busy", "busy", true),
            (429, "rate_limited", "busy", true),
            (408, "timeout", "network", true),
            (500, "internal", "server_down", true),
            (400, "bad_request", "refused", false),
            (401, "unauthorized", "unauthorized", false),
            (403, "revoked", "revoked", false),
            // A refusal of this request, not of the phone.
            (403, "forbidden", "refused", false),
        ] {
            let e = server(status, error);
            assert_eq!((e.code(), e.retryable()), (code, again), "{status}");
        }
    }
}
