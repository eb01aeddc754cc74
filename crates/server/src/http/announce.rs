//! GET /api/v1/announce: server-sent events that tell an open app, within moments, that items it
//! reads were committed, so it pulls at once (its timer stays the fallback). Every write's
//! committed items go out on one broadcast channel, which never blocks the writer: a stream that
//! falls behind loses the detail and is told the latest cursor instead. Each stream reads only
//! what [`Audience::seen_by`](crate::audience::Audience::seen_by) gives its token.
//!
//! Bounded: a few streams per device and a global cap (429 beyond), never more than half the
//! connection slots; a comment keeps a quiet stream alive, a stream ends after `max_age` (the app
//! opens a new one, its token checked again) and when the server shuts down.

use super::auth::Device;
use super::Shared;
use crate::db::{DeviceAuth, FeedNote};
use crate::error::ServerError;
use axum::extract::State;
use axum::http::header::HeaderName;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use futures_util::Stream;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::{broadcast, watch};

/// The SSE event name of an announcement; its data is a cursor.
pub const FEED_EVENT: &str = "feed";

/// Writes remembered for streams that have not read them yet; one that falls further behind is
/// told the latest cursor.
const BACKLOG: usize = 256;

/// Limits on the announcement streams.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnnounceLimits {
    /// Open streams per device at most.
    pub per_device: usize,
    /// Open streams at most in all; the server lowers it to half its connection slots, so streams
    /// never keep pushes and pulls out.
    pub total: usize,
    /// A comment is sent after this long without an event (proxies and carriers drop quiet
    /// connections).
    pub keep_alive: Duration,
    /// A stream ends after this long; the app opens a new one, and its token is checked again.
    pub max_age: Duration,
}

impl Default for AnnounceLimits {
    fn default() -> Self {
        AnnounceLimits {
            per_device: 3,
            total: 256,
            keep_alive: Duration::from_secs(25),
            max_age: Duration::from_secs(10 * 60),
        }
    }
}

/// The open streams, counted.
#[derive(Debug, Default)]
struct Open {
    total: usize,
    per_device: HashMap<String, usize>,
}

/// The announcements: the broadcast of committed items, and the streams listening to it.
pub struct Announcer {
    sent: broadcast::Sender<Arc<[FeedNote]>>,
    latest: Arc<AtomicI64>,
    closing: watch::Sender<bool>,
    open: Arc<Mutex<Open>>,
    limits: AnnounceLimits,
}

impl Announcer {
    /// No streams yet; `limits` as the server applies them.
    pub fn new(limits: AnnounceLimits) -> Self {
        Announcer {
            sent: broadcast::channel(BACKLOG).0,
            latest: Arc::new(AtomicI64::new(0)),
            closing: watch::channel(false).0,
            open: Arc::new(Mutex::new(Open::default())),
            limits,
        }
    }

    /// Tells every stream of items just committed (in commit order). Never waits.
    pub fn announce(&self, notes: Vec<FeedNote>) {
        let Some(last) = notes.iter().map(|n| n.cursor).max() else {
            return;
        };
        self.latest.fetch_max(last, Ordering::SeqCst);
        // An error only means no stream is open.
        let _ = self.sent.send(notes.into());
    }

    /// Ends every stream, now and for good (the server is shutting down).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// How many streams are open.
    pub fn open_streams(&self) -> usize {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).total
    }

    /// A stream for `auth`'s device, if it is within the limits.
    fn listen(&self, auth: DeviceAuth) -> Result<Listener, ServerError> {
        let slot = Slot::take(&self.open, &auth.device_id, self.limits)?;
        Ok(Listener {
            rx: self.sent.subscribe(),
            closing: self.closing.subscribe(),
            latest: self.latest.clone(),
            until: tokio::time::Instant::now() + self.limits.max_age,
            auth,
            _slot: slot,
        })
    }
}

/// One open stream's place in the count, given back when the stream is dropped.
struct Slot {
    open: Arc<Mutex<Open>>,
    device_id: String,
}

impl Slot {
    fn take(
        open: &Arc<Mutex<Open>>,
        device_id: &str,
        limits: AnnounceLimits,
    ) -> Result<Slot, ServerError> {
        let mut o = open.lock().unwrap_or_else(|p| p.into_inner());
        let mine = o.per_device.get(device_id).copied().unwrap_or(0);
        if mine >= limits.per_device {
            return Err(ServerError::TooManyStreams(format!(
                "this device already has {mine} announcement streams open; at most {}",
                limits.per_device
            )));
        }
        if o.total >= limits.total {
            return Err(ServerError::TooManyStreams(format!(
                "the server has {} announcement streams open, its most; pull on the timer and try again later",
                o.total
            )));
        }
        o.total += 1;
        o.per_device.insert(device_id.to_string(), mine + 1);
        Ok(Slot {
            open: open.clone(),
            device_id: device_id.to_string(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut o = self.open.lock().unwrap_or_else(|p| p.into_inner());
        o.total -= 1;
        if let Some(n) = o.per_device.get_mut(&self.device_id) {
            *n -= 1;
            if *n == 0 {
                o.per_device.remove(&self.device_id);
            }
        }
    }
}

/// One stream's state.
struct Listener {
    auth: DeviceAuth,
    rx: broadcast::Receiver<Arc<[FeedNote]>>,
    closing: watch::Receiver<bool>,
    latest: Arc<AtomicI64>,
    until: tokio::time::Instant,
    _slot: Slot,
}

impl Listener {
    /// The highest cursor among `notes` this device reads.
    fn seen(&self, notes: &[FeedNote]) -> Option<i64> {
        notes
            .iter()
            .filter(|n| n.audience.seen_by(&self.auth))
            .map(|n| n.cursor)
            .max()
    }

    /// The next announcement: the highest cursor this device reads among the writes waiting
    /// (a burst of writes is one event); `None` when the stream is to end.
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Listener)> {
        loop {
            let first = tokio::select! {
                _ = self.closing.wait_for(|closing| *closing) => return None,
                _ = tokio::time::sleep_until(self.until) => return None,
                r = self.rx.recv() => r,
            };
            let mut cursor = match first {
                Ok(notes) => self.seen(&notes),
                Err(RecvError::Lagged(_)) => Some(self.latest.load(Ordering::SeqCst)),
                Err(RecvError::Closed) => return None,
            };
            loop {
                let more = match self.rx.try_recv() {
                    Ok(notes) => self.seen(&notes),
                    Err(TryRecvError::Lagged(_)) => Some(self.latest.load(Ordering::SeqCst)),
                    Err(TryRecvError::Empty | TryRecvError::Closed) => break,
                };
                cursor = cursor.max(more);
            }
            if let Some(c) = cursor {
                let event = Event::default().event(FEED_EVENT).data(c.to_string());
                return Some((Ok(event), self));
            }
        }
    }
}

/// The stream of `auth`'s announcements.
fn stream(listener: Listener) -> impl Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold(listener, Listener::next)
}

/// GET /api/v1/announce with the device's bearer token: `text/event-stream`.
pub async fn announce(
    State(shared): State<Arc<Shared>>,
    Device(auth): Device,
) -> Result<impl IntoResponse, ServerError> {
    let listener = shared.announcer.listen(auth)?;
    let keep_alive = KeepAlive::new()
        .interval(shared.announcer.limits.keep_alive)
        .text("keep-alive");
    Ok((
        // Proxies such as nginx would otherwise hold the events back in their buffers.
        [(HeaderName::from_static("x-accel-buffering"), "no")],
        Sse::new(stream(listener)).keep_alive(keep_alive),
    ))
}
