//! The accept loop: at most `max_connections` open at once (the rest wait in the kernel's queue),
//! and at most `per_address` of them from one address (an IPv6 /64 counting as one; a trusted
//! proxy excepted: it speaks for many): a client past its share is closed as soon as it is accepted, so one address that opens
//! thousands of sockets, or reopens each as soon as it is closed, never holds the slots phones
//! and health checks need. A connection that completes no TLS handshake or sends no complete
//! request head within `header_timeout` (idle keep-alive included) is closed, and on shutdown the
//! requests in flight finish first. The header timeout times only the wait for a request head, never a response
//! being written, so an announcement stream (see [`super::announce`]) lives on; each holds a
//! connection slot, which is why their number is capped at half the slots.

use super::limit::client_key;
use super::proxy::TrustedProxies;
use crate::tls::Tls;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::server::graceful::Watcher;
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// Limits on connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// Open connections at most.
    pub max_connections: usize,
    /// Open connections from one address at most (many phones may share a carrier's address).
    pub per_address: usize,
    /// Time allowed for a request's head, and for an idle connection's next request.
    pub header_timeout: Duration,
    /// How long shutdown waits for requests in flight.
    pub drain: Duration,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            max_connections: 1_024,
            per_address: 64,
            header_timeout: Duration::from_secs(20),
            drain: Duration::from_secs(10),
        }
    }
}

/// Serves one connection (plain or TLS) until it closes or shutdown drains it.
async fn serve_io<I>(
    io: I,
    app: Router,
    remote: SocketAddr,
    builder: http1::Builder,
    watcher: Watcher,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = app.map_request(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut()
            .insert(ConnectInfo::<SocketAddr>(remote));
        req.map(axum::body::Body::new)
    });
    let conn = builder.serve_connection(TokioIo::new(io), TowerToHyperService::new(svc));
    if let Err(e) = watcher.watch(conn).await {
        tracing::debug!(error = %e, %remote, "connection closed with an error");
    }
}

/// The connections open per client address.
#[derive(Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

/// One open connection counted against its address; let go when dropped.
struct Counted {
    table: Arc<PerAddress>,
    ip: IpAddr,
}

impl PerAddress {
    /// Counts a connection from `ip`, unless it already holds `max`.
    fn take(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<Counted> {
        let mut open = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(ip).or_default();
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Counted {
            table: self.clone(),
            ip,
        })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut open = self.table.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Serves `app` on `listener` (over TLS when `tls` is given) until `shutdown` resolves; `proxies`
/// are not held to the per-address limit.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    tls: Option<Tls>,
    proxies: TrustedProxies,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let per_address = Arc::new(PerAddress::default());
    let graceful = GracefulShutdown::new();
    // HTTP/1.1: phones reach the server directly or through a proxy that speaks it; hyper's timer
    // starts on a new connection and again while a kept-alive one waits for its next request.
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    let mut permit = None;
    loop {
        let held = match permit.take() {
            Some(p) => p,
            None => tokio::select! {
                p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
                _ = &mut shutdown => break,
            },
        };
        let (stream, remote) = tokio::select! {
            r = listener.accept() => match r {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let counted = if proxies.trusts(remote.ip()) {
            None
        } else {
            // Keyed as the rate limits are: IPv4 as it is, IPv6 by its /64.
            match per_address.take(client_key(remote.ip()), limits.per_address.max(1)) {
                Some(c) => Some(c),
                None => {
                    // Past its share: closed at once, and the slot is kept for the next one.
                    tracing::debug!(%remote, "too many connections from one address; closed");
                    drop(stream);
                    permit = Some(held);
                    continue;
                }
            }
        };
        let permit = held;
        let _ = stream.set_nodelay(true);
        let (app, builder, watcher, tls) = (
            app.clone(),
            builder.clone(),
            graceful.watcher(),
            tls.clone(),
        );
        tokio::spawn(async move {
            let _permit = (permit, counted);
            let Some(tls) = tls else {
                return serve_io(stream, app, remote, builder, watcher).await;
            };
            match tokio::time::timeout(limits.header_timeout, tls.accept(stream)).await {
                Ok(Ok(Some(stream))) => serve_io(stream, app, remote, builder, watcher).await,
                Ok(Ok(None)) => {}
                Ok(Err(e)) => tracing::debug!(error = %e, %remote, "TLS handshake failed"),
                Err(_) => tracing::debug!(%remote, "TLS handshake timed out"),
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: finishing requests in flight");
    if tokio::time::timeout(limits.drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still in flight after {:?}; stopping anyway",
            limits.drain
        );
    }
    Ok(())
}
