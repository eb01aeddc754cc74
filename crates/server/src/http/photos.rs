//! The photo endpoints (docs/api.md "Photos", [`patrol_wire::photo`]): a device uploads, in
//! pieces, the files its own pushed records name; a file's bytes are kept once on disk, but each
//! ward's copy is its own (uploaded by one of its devices, its upload state told to its devices
//! only); it is read by whoever of that ward reads an observation naming it, and answered 404 to
//! everyone else, exactly as a file that does not exist.

use super::auth::Device;
use super::{blocking, Shared};
use crate::db::photos::{self, Reading, Upload};
use crate::db::DeviceAuth;
use crate::error::ServerError;
use crate::photo_files::FileError;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::StreamExt;
use patrol_domain::photo::PhotoHash;
use patrol_wire::photo::{PhotoRefusal, UploadState, CHUNK_BYTES, RECEIVED_HEADER, SIZE_HEADER};
use serde::Deserialize;
use std::sync::Arc;

/// The photo routes.
pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/api/v1/photos/{hash}/upload",
            get(upload_state).put(upload_piece),
        )
        .route("/api/v1/photos/{hash}", get(read_photo))
}

/// The HTTP status of each refusal.
pub fn status(refusal: PhotoRefusal) -> StatusCode {
    match refusal {
        PhotoRefusal::UnknownPhoto => StatusCode::NOT_FOUND,
        PhotoRefusal::OffsetMismatch => StatusCode::CONFLICT,
        PhotoRefusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        PhotoRefusal::HashMismatch | PhotoRefusal::NotImage | PhotoRefusal::Metadata => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        PhotoRefusal::WardQuota => StatusCode::INSUFFICIENT_STORAGE,
    }
}

fn unknown(hash: &str) -> ServerError {
    ServerError::Photo(
        PhotoRefusal::UnknownPhoto,
        format!("no record of this device names photo {hash}"),
    )
}

/// The hash in the path; anything else names no photo.
fn parse_hash(text: &str) -> Result<PhotoHash, ServerError> {
    text.parse().map_err(|_| unknown(text))
}

/// A file error as the phone reads it: a refusal, or the server's own failure (500).
fn file_error(e: FileError) -> ServerError {
    match e.refusal() {
        Some(refusal) => ServerError::Photo(refusal, e.to_string()),
        None => ServerError::Internal(e.to_string()),
    }
}

/// The upload of `hash` by `auth`'s device, or 404 when none of its records names it.
async fn find_upload(
    shared: &Arc<Shared>,
    auth: DeviceAuth,
    hash: &PhotoHash,
) -> Result<Upload, ServerError> {
    let h = hash.clone();
    shared
        .read(move |conn| photos::upload(conn, &auth, &h))
        .await?
        .ok_or_else(|| unknown(hash.as_str()))
}

/// What the server holds of the upload: all of it once its ward's copy is stored, else the
/// ward's partial copy.
async fn state_of(
    shared: &Arc<Shared>,
    hash: &PhotoHash,
    upload: &Upload,
) -> Result<UploadState, ServerError> {
    if let Some(blob) = upload.stored {
        return Ok(UploadState {
            received: blob.size,
            size: blob.size,
            stored: true,
        });
    }
    let (me, h, w) = (shared.clone(), hash.clone(), upload.ward_id.clone());
    let mut received = blocking(move || me.photos().received(&w, &h).map_err(file_error)).await?;
    if received > upload.declared {
        // More than the record says: not this photo. Dropped, so the upload starts again.
        tracing::warn!(photo = %hash, received, declared = upload.declared, "a partial photo overran its size");
        let (me, h, w) = (shared.clone(), hash.clone(), upload.ward_id.clone());
        blocking(move || {
            me.photos().drop_partial(&w, &h);
            Ok(())
        })
        .await?;
        received = 0;
    }
    Ok(UploadState {
        received,
        size: upload.declared,
        stored: false,
    })
}

async fn upload_state(
    State(shared): State<Arc<Shared>>,
    Device(auth): Device,
    Path(hash): Path<String>,
) -> Result<Json<UploadState>, ServerError> {
    let hash = parse_hash(&hash)?;
    let upload = find_upload(&shared, auth, &hash).await?;
    Ok(Json(state_of(&shared, &hash, &upload).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PieceQuery {
    offset: u64,
}

/// The piece's bytes, at most [`CHUNK_BYTES`]; a body cut short is an error and keeps nothing.
async fn piece(headers: &HeaderMap, body: Body) -> Result<Vec<u8>, ServerError> {
    let too_large = || {
        ServerError::Photo(
            PhotoRefusal::TooLarge,
            format!("a piece holds at most {CHUNK_BYTES} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > CHUNK_BYTES as u64) {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0) as usize);
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            if super::body_timed_out(&e) {
                ServerError::Timeout(
                    "the piece did not arrive in time; nothing of it was kept".into(),
                )
            } else {
                ServerError::BadRequest(format!(
                    "the piece did not arrive whole ({e}); nothing of it was kept"
                ))
            }
        })?;
        if bytes.len() + chunk.len() > CHUNK_BYTES {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

async fn upload_piece(
    State(shared): State<Arc<Shared>>,
    Device(auth): Device,
    Path(hash): Path<String>,
    query: Result<Query<PieceQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ServerError> {
    let hash = parse_hash(&hash)?;
    let Query(PieceQuery { offset }) = query.map_err(|e| ServerError::BadRequest(e.body_text()))?;
    let upload = find_upload(&shared, auth.clone(), &hash).await?;
    if upload.stored.is_some() {
        return Ok(Json(state_of(&shared, &hash, &upload).await?).into_response());
    }
    // The whole piece first, outside the lock: a slow phone holds up nobody.
    let bytes = piece(&headers, body).await?;
    // The rest runs as its own task: a phone that hangs up (or a timeout) cannot cancel it
    // half-way and let another request append beside a write still under way.
    tokio::spawn(async move { take_piece(shared, auth, hash, offset, bytes).await })
        .await
        .map_err(|e| ServerError::Internal(format!("the upload task failed: {e}")))?
}

/// Appends one whole piece under the file's lock, and checks and keeps the file after its last.
async fn take_piece(
    shared: Arc<Shared>,
    auth: DeviceAuth,
    hash: PhotoHash,
    offset: u64,
    bytes: Vec<u8>,
) -> Result<Response, ServerError> {
    let ward = auth.ward_id.clone();
    let _lock = shared.photos().lock(&ward, &hash).await;
    // Again under the lock: another device of the ward may have finished the same file meanwhile.
    let upload = find_upload(&shared, auth.clone(), &hash).await?;
    let state = state_of(&shared, &hash, &upload).await?;
    if state.stored {
        return Ok(Json(state).into_response());
    }
    if offset != state.received {
        return Ok(offset_mismatch(offset, state));
    }
    let end = offset + bytes.len() as u64;
    if end > upload.declared {
        return Err(ServerError::Photo(
            PhotoRefusal::TooLarge,
            format!(
                "the piece ends at byte {end}, but the record says the photo has {} bytes",
                upload.declared
            ),
        ));
    }
    if offset == 0 && !bytes.is_empty() {
        let now = patrol_clock::now();
        let before = now - chrono::Duration::hours(photos::ABANDONED_AFTER_HOURS);
        let abandoned = shared
            .write(move |db| db.abandon_photo_uploads(before))
            .await?;
        for (w, h) in abandoned
            .into_iter()
            .filter(|(w, h)| (w, h) != (&ward, &hash))
        {
            let me = shared.clone();
            blocking(move || {
                me.photos().drop_partial(&w, &h);
                Ok(())
            })
            .await?;
        }
        let (w, h, declared, quota) = (
            ward.clone(),
            hash.clone(),
            upload.declared,
            shared.photos().ward_quota(),
        );
        shared
            .write(move |db| db.start_photo_upload(&w, &h, declared, quota, now))
            .await?;
    }
    let (me, h, w) = (shared.clone(), hash.clone(), ward.clone());
    let received = blocking(move || {
        me.photos()
            .append(&w, &h, offset, &bytes)
            .map_err(file_error)
    })
    .await?;
    if received < upload.declared {
        return Ok(Json(UploadState {
            received,
            size: upload.declared,
            stored: false,
        })
        .into_response());
    }
    let (me, h, w) = (shared.clone(), hash.clone(), ward.clone());
    let blob = blocking(move || me.photos().finish(&w, &h).map_err(file_error))
        .await
        .inspect_err(|e| {
            tracing::warn!(photo = %hash, device = %auth.device_id, error = %e, "photo refused");
        })?;
    let h = hash.clone();
    shared
        .write(move |db| db.mark_photo_stored(&ward, &h, blob, patrol_clock::now()))
        .await?;
    tracing::info!(photo = %hash, bytes = blob.size, "photo stored");
    Ok(Json(UploadState {
        received: blob.size,
        size: blob.size,
        stored: true,
    })
    .into_response())
}

/// 409 `offset_mismatch`: the error body, and where the next piece must start in the
/// [`RECEIVED_HEADER`] (with the size in [`SIZE_HEADER`]).
fn offset_mismatch(offset: u64, state: UploadState) -> Response {
    let err = ServerError::Photo(
        PhotoRefusal::OffsetMismatch,
        format!(
            "the piece starts at byte {offset}, but the server holds {} bytes: send from there",
            state.received
        ),
    );
    (
        [
            (RECEIVED_HEADER, state.received.to_string()),
            (SIZE_HEADER, state.size.to_string()),
        ],
        err,
    )
        .into_response()
}

async fn read_photo(
    State(shared): State<Arc<Shared>>,
    Device(auth): Device,
    Path(hash): Path<String>,
) -> Result<Response, ServerError> {
    let hash = parse_hash(&hash)?;
    let h = hash.clone();
    let reading = shared
        .read(move |conn| photos::reading(conn, &auth, &h))
        .await?;
    let blob = match reading {
        Reading::Stored(blob) => blob,
        Reading::Unseen => {
            return Err(ServerError::Photo(
                PhotoRefusal::UnknownPhoto,
                format!("no photo {hash} that this device may read"),
            ))
        }
        Reading::NotStored => {
            return Err(ServerError::Photo(
                PhotoRefusal::UnknownPhoto,
                format!("photo {hash} is not uploaded yet; ask again later"),
            ))
        }
    };
    let me = shared.clone();
    let bytes = blocking(move || me.photos().read(&hash).map_err(file_error)).await?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, blob.kind.mime()),
            // Revalidated on each read (a revoked device must not read from its cache), and
            // never sniffed or run as anything but an image.
            (header::CACHE_CONTROL, "private, no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (
                header::CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'",
            ),
        ],
        bytes,
    )
        .into_response())
}
