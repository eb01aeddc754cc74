//! Which of the two web apps this device runs: the members' build (the smaller download), or the
//! leaders' build with the screens of leaders, officers and admins. index.html picks one from a
//! flag in localStorage; the app sets the flag from the role it finds in its store.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
const KEY = "patrol.build";
export function forget_leader_build() {
  try { localStorage.removeItem(KEY); sessionStorage.removeItem(KEY); } catch (e) {}
}
export function settled() {
  try { sessionStorage.removeItem(KEY); } catch (e) {}
}
export async function switch_to_leader_build() {
  // One reload per tab: if the leaders' app did not come up after it, say so instead of looping.
  if (sessionStorage.getItem(KEY) === "switched") throw new Error("the leaders' app did not start after a reload");
  if ("serviceWorker" in navigator) {
    // The service worker keeps the leaders' app for offline use first; only then is it run.
    const reg = await navigator.serviceWorker.register(new URL("sw.js?build=leader", document.baseURI));
    const sw = reg.installing || reg.waiting;
    if (sw) {
      await new Promise((ok, fail) => {
        const check = () => {
          if (sw.state === "activated") ok();
          else if (sw.state === "redundant") fail(new Error("the leaders' app could not be downloaded"));
        };
        sw.addEventListener("statechange", check);
        check();
      });
    }
  }
  localStorage.setItem(KEY, "leader");
  sessionStorage.setItem(KEY, "switched");
  location.reload();
}
"#)]
extern "C" {
    fn forget_leader_build();
    fn settled();
    #[wasm_bindgen(catch)]
    async fn switch_to_leader_build() -> Result<(), JsValue>;
}

/// Records that this device's role needs no leaders' screens: the next start loads the members'
/// build.
pub fn remember_member() {
    forget_leader_build();
}

/// Records that this build is the right one for the device (a reload to it is over).
pub fn arrived() {
    settled();
}

/// Downloads the leaders' app for offline use, then reloads the page into it; an error (offline,
/// the download refused) comes with the browser's words.
pub async fn switch_to_leader() -> Result<(), String> {
    switch_to_leader_build().await.map_err(|e| {
        js_sys::Reflect::get(&e, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| format!("{e:?}"))
    })
}
