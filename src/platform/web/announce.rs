//! The ward server's announcements (`GET /api/v1/announce`, server-sent events) read by the worker
//! with `fetch` and a streaming body, so the token travels in a header, never in a URL. Each
//! `feed` event means something new for this device: the worker pulls at once, and an open
//! leader's app shows an urgent observation seconds after a member pushed it. Once the stream is
//! open the worker pulls once more, so nothing committed between its last pull and the stream's
//! start waits for the timer. The 60 s sync timer stays the fallback; a stream that ends is opened
//! again after the next sync round.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
export function listen(url, token, onOpen, onFeed, onEnd) {
  (async () => {
    const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
    if (!res.ok || !res.body) return;
    onOpen();
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value.replace(/\r\n/g, "\n");
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (/^event: ?feed$/m.test(block)) onFeed();
      }
    }
  })().catch(() => {}).finally(() => onEnd());
}
"#)]
extern "C" {
    /// Opens the stream at `url` with `token`; calls `on_open` once it is open, `on_feed` per
    /// `feed` event, `on_end` once.
    fn listen(url: &str, token: &str, on_open: &JsValue, on_feed: &JsValue, on_end: &JsValue);
}

/// Listens to the announcements of the ward server at `base` with `token`: `on_open` once the
/// server holds the stream (from then on nothing committed goes unannounced), `on_feed` for each
/// new feed item for this device, `on_end` once when the stream ends or cannot be opened.
pub fn start(
    base: &str,
    token: &str,
    on_open: impl FnOnce() + 'static,
    on_feed: impl Fn() + 'static,
    on_end: impl FnOnce() + 'static,
) {
    let url = format!("{}/api/v1/announce", base.trim_end_matches('/'));
    let on_open = Closure::once_into_js(on_open);
    let on_feed = Closure::<dyn Fn()>::new(on_feed).into_js_value();
    let on_end = Closure::once_into_js(on_end);
    listen(&url, token, &on_open, &on_feed, &on_end);
}
