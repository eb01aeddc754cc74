//! The accept loop: at most `max_connections` open at once (the rest wait in the kernel's queue),
//! a connection that completes no TLS handshake or sends no complete request head within
//! `header_timeout` (idle keep-alive included) is closed, and on shutdown the requests in flight
//! finish first. The header timeout times only the wait for a request head, never a response
//! being written, so an announcement stream (see [`super::announce`]) lives on; each holds a
//! connection slot, which is why their number is capped at half the slots.

use crate::server::tls::Tls;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::server::graceful::Watcher;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// Limits on connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// Open connections at most.
    pub max_connections: usize,
    /// Time allowed for a request's head, and for an idle connection's next request.
    pub header_timeout: Duration,
    /// How long shutdown waits for requests in flight.
    pub drain: Duration,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            max_connections: 1_024,
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

/// Serves `app` on `listener` (over TLS when `tls` is given) until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    tls: Option<Tls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    // HTTP/1.1: phones reach the server directly or through a proxy that speaks it; hyper's timer
    // starts on a new connection and again while a kept-alive one waits for its next request.
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = &mut shutdown => break,
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
        let _ = stream.set_nodelay(true);
        let (app, builder, watcher, tls) = (
            app.clone(),
            builder.clone(),
            graceful.watcher(),
            tls.clone(),
        );
        tokio::spawn(async move {
            let _permit = permit;
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
