//! The worker's transport: the browser's `fetch`, with a 20 s timeout. Request bodies larger than
//! [`GZIP_FROM_BYTES`] go gzip-compressed (the browser's own CompressionStream, so the app's
//! download does not grow); replies come compressed by the browser's content negotiation.

use crate::domain::photo::PhotoHash;
use crate::sync::engine::{SyncError, Transport};
use crate::wire::api::{
    my_allowance_path, EnrollRequest, EnrollResponse, ErrorBody, MyAllowanceResponse, PullResponse,
    PushRequest, PushResponse, ReportQuery, ReportResponse,
};
use crate::wire::photo::{photo_path, upload_path, UploadState};
use crate::wire::team::{TeamAnswer, TeamCall};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response, WorkerGlobalScope};

/// Bodies from this size on are sent gzip-compressed; smaller ones would not shrink much.
pub const GZIP_FROM_BYTES: usize = 512;

#[wasm_bindgen(
    inline_js = "export async function gzip(text) { const s = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip')); return new Uint8Array(await new Response(s).arrayBuffer()); }"
)]
extern "C" {
    /// `text` as UTF-8, gzip-compressed by the browser.
    #[wasm_bindgen(catch)]
    async fn gzip(text: &str) -> Result<JsValue, JsValue>;
}

/// A ward server at `base`, reached from the worker.
pub struct FetchTransport {
    base: String,
}

impl FetchTransport {
    /// A transport for the server at `base` ("https://ward.example").
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
        }
    }

    /// One request; the body is JSON (gzip-compressed from [`GZIP_FROM_BYTES`]) or raw bytes.
    async fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Body<'_>,
    ) -> Result<Response, SyncError> {
        let headers = Headers::new().map_err(net)?;
        if let Some(t) = token {
            headers
                .set("authorization", &format!("Bearer {t}"))
                .map_err(net)?;
        }
        let init = RequestInit::new();
        init.set_method(method);
        init.set_headers(&headers);
        init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(20_000)));
        match body {
            Body::None => {}
            Body::Json(text) => {
                headers
                    .set("content-type", "application/json")
                    .map_err(net)?;
                if text.len() >= GZIP_FROM_BYTES {
                    headers.set("content-encoding", "gzip").map_err(net)?;
                    init.set_body(&gzip(&text).await.map_err(net)?);
                } else {
                    init.set_body(&JsValue::from_str(&text));
                }
            }
            Body::Bytes(bytes) => {
                headers
                    .set("content-type", "application/octet-stream")
                    .map_err(net)?;
                init.set_body(&js_sys::Uint8Array::from(bytes));
            }
        }
        let scope: WorkerGlobalScope = js_sys::global().unchecked_into();
        Ok(
            JsFuture::from(scope.fetch_with_str_and_init(&format!("{}{path}", self.base), &init))
                .await
                .map_err(net)?
                .unchecked_into(),
        )
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&impl Serialize>,
    ) -> Result<T, SyncError> {
        let body = match body {
            Some(b) => Body::Json(serde_json::to_string(b).expect("requests serialise")),
            None => Body::None,
        };
        read(self.request(method, path, token, body).await?).await
    }
}

/// What a request carries.
enum Body<'a> {
    None,
    Json(String),
    Bytes(&'a [u8]),
}

fn net(e: JsValue) -> SyncError {
    SyncError::Network(e.as_string().unwrap_or_else(|| format!("{e:?}")))
}

/// A JSON reply, or the server's refusal.
async fn read<T: DeserializeOwned>(resp: Response) -> Result<T, SyncError> {
    let text = text(&resp).await?;
    if resp.ok() {
        serde_json::from_str(&text).map_err(SyncError::unreadable)
    } else {
        Err(refusal(resp.status(), text))
    }
}

/// The reply's body as text.
async fn text(resp: &Response) -> Result<String, SyncError> {
    Ok(JsFuture::from(resp.text().map_err(net)?)
        .await
        .map_err(net)?
        .as_string()
        .unwrap_or_default())
}

/// The server's refusal: its error body, or the text in words when there is none.
fn refusal(status: u16, text: String) -> SyncError {
    let body = serde_json::from_str(&text).unwrap_or(ErrorBody::new("http", text));
    SyncError::Server { status, body }
}

impl Transport for FetchTransport {
    async fn enroll(&self, req: &EnrollRequest) -> Result<EnrollResponse, SyncError> {
        self.send("POST", "/api/v1/enroll", None, Some(req)).await
    }

    async fn push(&self, token: &str, req: &PushRequest) -> Result<PushResponse, SyncError> {
        self.send("POST", "/api/v1/push", Some(token), Some(req))
            .await
    }

    async fn pull(&self, token: &str, after: i64) -> Result<PullResponse, SyncError> {
        self.send::<PullResponse>(
            "GET",
            &format!("/api/v1/pull?after={after}"),
            Some(token),
            None::<&()>,
        )
        .await
    }

    async fn report(&self, token: &str, query: &ReportQuery) -> Result<ReportResponse, SyncError> {
        self.send::<ReportResponse>(
            "GET",
            &format!("/api/v1/report?{}", query.query_string()),
            Some(token),
            None::<&()>,
        )
        .await
    }

    async fn team(
        &self,
        token: &str,
        team_id: &str,
        call: &TeamCall,
    ) -> Result<TeamAnswer, SyncError> {
        let body: serde_json::Value = self
            .send(
                call.method().as_str(),
                &call.path(team_id),
                Some(token),
                call.body().as_ref(),
            )
            .await?;
        call.answer(body).map_err(SyncError::unreadable)
    }

    async fn my_allowance(
        &self,
        token: &str,
        month: crate::domain::allowance::YearMonth,
    ) -> Result<MyAllowanceResponse, SyncError> {
        self.send::<MyAllowanceResponse>("GET", &my_allowance_path(month), Some(token), None::<&()>)
            .await
    }

    async fn photo_state(&self, token: &str, hash: &PhotoHash) -> Result<UploadState, SyncError> {
        read(
            self.request("GET", &upload_path(hash), Some(token), Body::None)
                .await?,
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
        let path = format!("{}?offset={offset}", upload_path(hash));
        read(
            self.request("PUT", &path, Some(token), Body::Bytes(piece))
                .await?,
        )
        .await
    }

    async fn photo_get(
        &self,
        token: &str,
        hash: &PhotoHash,
    ) -> Result<(String, Vec<u8>), SyncError> {
        let resp = self
            .request("GET", &photo_path(hash), Some(token), Body::None)
            .await?;
        if !resp.ok() {
            return Err(refusal(resp.status(), text(&resp).await?));
        }
        let mime = resp
            .headers()
            .get("content-type")
            .ok()
            .flatten()
            .unwrap_or_else(|| "image/jpeg".into());
        let buf = JsFuture::from(resp.array_buffer().map_err(net)?)
            .await
            .map_err(net)?;
        Ok((mime, js_sys::Uint8Array::new(&buf).to_vec()))
    }

    /// Anything but Wi-Fi or a cable, as the browser names it (Chrome on Android:
    /// `navigator.connection.type`); a browser that does not say counts as metered, so "photos
    /// only on Wi-Fi" never spends mobile data by guessing.
    fn metered(&self) -> bool {
        let scope = js_sys::global();
        js_sys::Reflect::get(&scope, &"navigator".into())
            .and_then(|n| js_sys::Reflect::get(&n, &"connection".into()))
            .and_then(|c| js_sys::Reflect::get(&c, &"type".into()))
            .ok()
            .and_then(|t| t.as_string())
            .is_none_or(|t| !matches!(t.as_str(), "wifi" | "ethernet"))
    }
}
