//! Which of the two web apps this device runs: the members' build (the smaller download), or the
//! leaders' build with the screens of leaders, officers and admins. index.html picks one from a
//! flag in localStorage and describes both in `window.PATROL_BUILD`; the app sets the flag from the
//! role it finds in its store.

use crate::service::ApiError;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
function conf() {
  const c = globalThis.PATROL_BUILD;
  if (!c) throw "unsupported";
  return c;
}
export function forget_leader_app() {
  try { const c = conf(); localStorage.removeItem(c.key); sessionStorage.removeItem(c.key); } catch (e) {}
}
export function leader_app_arrived() {
  try { sessionStorage.removeItem(conf().key); } catch (e) {}
}
export function reload_page() { location.reload(); }
export async function keep_leader_app(asked) {
  const c = conf();
  if (asked) sessionStorage.removeItem(c.key);
  // One automatic reload per tab: if the leaders' app did not come up after it, say so instead of looping.
  else if (sessionStorage.getItem(c.key) === "switched") throw "reload";
  if ("serviceWorker" in navigator) {
    // The service worker keeps the leaders' app for offline use first; only then is it run.
    const reg = await navigator.serviceWorker.register(new URL(c.leader.sw, document.baseURI));
    const sw = reg.installing || reg.waiting;
    if (sw) {
      await new Promise((ok, fail) => {
        const check = () => {
          if (sw.state === "activated") ok();
          else if (sw.state === "redundant") fail("refused");
        };
        sw.addEventListener("statechange", check);
        check();
      });
    }
  }
  localStorage.setItem(c.key, "leader");
  // PATROL_TOUCHED: index.html marks a tap or a key since the page loaded.
  if (!asked && globalThis.PATROL_TOUCHED) return "kept";
  sessionStorage.setItem(c.key, "switched");
  location.reload();
  return "reloading";
}
"#)]
extern "C" {
    /// Records that this device's role needs no leaders' screens: the next start loads the
    /// members' app.
    pub fn forget_leader_app();
    /// Records that the leaders' app runs here for a reviewer (a reload into it is over).
    pub fn leader_app_arrived();
    /// Reloads the page (into the app the flag names).
    pub fn reload_page();
    #[wasm_bindgen(catch, js_name = keep_leader_app)]
    async fn keep_leader_app_js(asked: bool) -> Result<JsValue, JsValue>;
}

/// What a move to the leaders' app came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moved {
    /// Kept for offline use; the page is reloading into it.
    Reloading,
    /// Kept for offline use and flagged, but not reloaded: someone has tapped or typed since the
    /// page loaded (an automatic move never reloads under them). The next start runs it.
    Kept,
}

/// Downloads the leaders' app for offline use, flags it, and reloads into it: at once when the
/// person `asked` (a tap), else only if nothing was tapped or typed since the page loaded.
pub async fn keep_leader_app(asked: bool) -> Result<Moved, ApiError> {
    match keep_leader_app_js(asked).await {
        Ok(v) if v.as_string().as_deref() == Some("kept") => Ok(Moved::Kept),
        Ok(_) => Ok(Moved::Reloading),
        Err(e) => {
            let why = ApiError::new("team.build_failed");
            Err(match e.as_string().as_deref() {
                // The script's own codes, in the translation files' words.
                Some(code @ ("reload" | "refused" | "unsupported")) => {
                    why.arg_key("detail", format!("team.build_err_{code}"))
                }
                // Anything else: said in general words, the browser's own kept as the detail.
                _ => why
                    .arg_key("detail", "team.build_err_other")
                    .detail(super::js_error_text(&e)),
            })
        }
    }
}
