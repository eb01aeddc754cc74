//! Who is asking: the client's address (as a trusted proxy forwarded it, see [`super::proxy`]) is
//! limited before any token is looked up, then the token
//! names the device (on a read connection), and the device has its own limit.

use super::Shared;
use crate::db::enrollment::{self, DeviceAuth};
use crate::error::ServerError;
use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// The client's address, after its per-address rate limit.
pub struct Client(pub std::net::IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for Client
where
    Arc<Shared>: FromRef<S>,
{
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let shared = Arc::<Shared>::from_ref(state);
        let ConnectInfo(addr) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .cloned()
            .ok_or_else(|| ServerError::Internal("no client address on the request".into()))?;
        let ip = shared.proxies.client(addr.ip(), &parts.headers);
        let key = super::limit::client_key(ip);
        if !shared
            .addr_buckets
            .take(&key, shared.limits.per_address, Instant::now())
        {
            return Err(ServerError::RateLimited);
        }
        Ok(Client(key))
    }
}

/// An authenticated device: its address passed its limit, its token is known and not revoked,
/// and the device is within its own limit.
pub struct Device(pub DeviceAuth);

impl<S: Send + Sync> FromRequestParts<S> for Device
where
    Arc<Shared>: FromRef<S>,
{
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Client::from_request_parts(parts, state).await?;
        let shared = Arc::<Shared>::from_ref(state);
        let token = bearer(parts)?;
        let auth = shared
            .read(move |conn| enrollment::authenticate(conn, &token))
            .await?;
        if !shared
            .device_buckets
            .take(&auth.device_id, shared.limits.per_device, Instant::now())
        {
            return Err(ServerError::RateLimited);
        }
        Ok(Device(auth))
    }
}

fn bearer(parts: &Parts) -> Result<String, ServerError> {
    let value = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or(ServerError::Unauthorized)?;
    // The scheme's name is case-insensitive (RFC 9110 §11.1); the token is taken as sent.
    let (scheme, token) = value.split_once(' ').ok_or(ServerError::Unauthorized)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ServerError::Unauthorized);
    }
    let token = token.trim();
    if token.is_empty() || token.len() > 128 {
        return Err(ServerError::Unauthorized);
    }
    Ok(token.to_string())
}
