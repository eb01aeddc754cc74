//! The native HTTP transport (reqwest), for the desktop app, tools and tests. The browser worker
//! uses `fetch` (platform/web/fetch.rs) to keep reqwest out of the phone's download.

use super::engine::{SyncError, Transport};
use crate::domain::photo::PhotoHash;
use crate::wire::api::{
    my_allowance_path, EnrollRequest, EnrollResponse, ErrorBody, MyAllowanceResponse, PullResponse,
    PushRequest, PushResponse, ReportQuery, ReportResponse,
};
use crate::wire::photo::{photo_path, upload_path, UploadState};
use crate::wire::team::{Method, TeamAnswer, TeamCall};
use serde::de::DeserializeOwned;

/// A ward server at `base` ("http://127.0.0.1:8080").
pub struct HttpTransport {
    base: String,
    client: reqwest::Client,
}

impl HttpTransport {
    /// A transport with a 20 s timeout per request.
    pub fn new(base: &str) -> Self {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .expect("a TLS-less client builds");
        Self::with_client(base, client)
    }

    /// A transport over a client configured by the caller (tests: no connection reuse).
    pub fn with_client(base: &str, client: reqwest::Client) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            client,
        }
    }
}

async fn read<T: DeserializeOwned>(
    r: Result<reqwest::Response, reqwest::Error>,
) -> Result<T, SyncError> {
    let r = r.map_err(|e| SyncError::Network(e.to_string()))?;
    let status = r.status();
    let bytes = r
        .bytes()
        .await
        .map_err(|e| SyncError::Network(e.to_string()))?;
    if status.is_success() {
        serde_json::from_slice(&bytes).map_err(SyncError::unreadable)
    } else {
        Err(refusal(status.as_u16(), &bytes))
    }
}

/// The server's refusal: its error body, or the bytes in words when there is none.
fn refusal(status: u16, bytes: &[u8]) -> SyncError {
    let body = serde_json::from_slice(bytes)
        .unwrap_or_else(|_| ErrorBody::new("http", String::from_utf8_lossy(bytes)));
    SyncError::Server { status, body }
}

impl Transport for HttpTransport {
    async fn enroll(&self, req: &EnrollRequest) -> Result<EnrollResponse, SyncError> {
        read(
            self.client
                .post(format!("{}/api/v1/enroll", self.base))
                .json(req)
                .send()
                .await,
        )
        .await
    }

    async fn push(&self, token: &str, req: &PushRequest) -> Result<PushResponse, SyncError> {
        read(
            self.client
                .post(format!("{}/api/v1/push", self.base))
                .bearer_auth(token)
                .json(req)
                .send()
                .await,
        )
        .await
    }

    async fn pull(&self, token: &str, after: i64) -> Result<PullResponse, SyncError> {
        read(
            self.client
                .get(format!("{}/api/v1/pull?after={after}", self.base))
                .bearer_auth(token)
                .send()
                .await,
        )
        .await
    }

    async fn report(&self, token: &str, query: &ReportQuery) -> Result<ReportResponse, SyncError> {
        read(
            self.client
                .get(format!(
                    "{}/api/v1/report?{}",
                    self.base,
                    query.query_string()
                ))
                .bearer_auth(token)
                .send()
                .await,
        )
        .await
    }

    async fn my_allowance(
        &self,
        token: &str,
        month: crate::domain::allowance::YearMonth,
    ) -> Result<MyAllowanceResponse, SyncError> {
        read(
            self.client
                .get(format!("{}{}", self.base, my_allowance_path(month)))
                .bearer_auth(token)
                .send()
                .await,
        )
        .await
    }

    async fn team(
        &self,
        token: &str,
        team_id: &str,
        call: &TeamCall,
    ) -> Result<TeamAnswer, SyncError> {
        let url = format!("{}{}", self.base, call.path(team_id));
        let req = match call.method() {
            Method::Get => self.client.get(url),
            Method::Post => self.client.post(url),
            Method::Put => self.client.put(url),
        };
        let req = match call.body() {
            Some(body) => req.json(&body),
            None => req,
        };
        let body: serde_json::Value = read(req.bearer_auth(token).send().await).await?;
        call.answer(body).map_err(SyncError::unreadable)
    }

    async fn photo_state(&self, token: &str, hash: &PhotoHash) -> Result<UploadState, SyncError> {
        read(
            self.client
                .get(format!("{}{}", self.base, upload_path(hash)))
                .bearer_auth(token)
                .send()
                .await,
        )
        .await
    }

    async fn photo_put(
        &self,
        token: &str,
        hash: &PhotoHash,
        offset: u64,
        piece: &[u8],
    ) -> Result<UploadState, SyncError> {
        read(
            self.client
                .put(format!(
                    "{}{}?offset={offset}",
                    self.base,
                    upload_path(hash)
                ))
                .bearer_auth(token)
                .header("content-type", "application/octet-stream")
                .body(piece.to_vec())
                .send()
                .await,
        )
        .await
    }

    async fn photo_get(
        &self,
        token: &str,
        hash: &PhotoHash,
    ) -> Result<(String, Vec<u8>), SyncError> {
        let r = self
            .client
            .get(format!("{}{}", self.base, photo_path(hash)))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| SyncError::Network(e.to_string()))?;
        let status = r.status();
        let mime = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("image/jpeg")
            .to_string();
        let bytes = r
            .bytes()
            .await
            .map_err(|e| SyncError::Network(e.to_string()))?;
        if !status.is_success() {
            return Err(refusal(status.as_u16(), &bytes));
        }
        Ok((mime, bytes.to_vec()))
    }

    fn metered(&self) -> bool {
        false
    }
}
