// The store's dedicated worker: SQLite on OPFS, the command handler and sync, in a wasm module of
// its own (app/<its hash>/store_bg.wasm, built with feature `web-store`, without the screens).
// index.html starts it with the page, so this script and its JS glue load at once, and sends it
// its start message once the browser has said whether it has a store: with the store's module
// compiled on the page when the service worker keeps the app; on a first visit once the page's
// module has arrived, and this worker then downloads its module, so the two downloads do not share
// the link. A worker the page starts itself is sent it by the page (platform/web/client.rs,
// start_message). It carries the page's clock offset and, in the browser tests only, a number of
// storage faults.
import init, { start_worker } from "./store.js";

const MODULE = new URL("./store_bg.wasm", import.meta.url);
const FIRST_RETRY_MS = 1000, LAST_RETRY_MS = 30000;

/** A server's answer that no retry mends (a build half copied, say). */
class Broken extends Error {}

/** Until the next try: the back-off, or sooner when the browser says it is online again. */
const pause = (ms) => new Promise((resolve) => {
  const done = () => { clearTimeout(timer); self.removeEventListener("online", done); resolve(); };
  const timer = setTimeout(done, ms);
  self.addEventListener("online", done);
});

/**
 * Fetches and compiles the store's module. A lost connection (the signal going between the page's
 * download and this one) is tried again until it arrives, and a tap made meanwhile waits for it;
 * a server's error or a module that does not compile is said in words (StartError::Download).
 */
async function loadModule() {
  for (let wait = FIRST_RETRY_MS; ; wait = Math.min(2 * wait, LAST_RETRY_MS)) {
    let answer;
    try {
      answer = await fetch(MODULE);
    } catch (e) {
      await pause(wait);
      continue;
    }
    if (!answer.ok) throw new Broken(`HTTP ${answer.status}`);
    try {
      return await init({ module_or_path: answer });
    } catch (e) {
      if (e instanceof WebAssembly.CompileError || e instanceof WebAssembly.LinkError) throw e;
      // The body was cut off on the way.
      await pause(wait);
    }
  }
}

const start = await new Promise((resolve) => {
  self.onmessage = (e) => {
    self.onmessage = null;
    resolve(e.data);
  };
});
let loaded = true;
try {
  if (start.module) await init({ module_or_path: start.module });
  else await loadModule();
} catch (e) {
  loaded = false;
  // platform::protocol::Response::Fatal { error: StartError::Download { detail } }
  self.postMessage(JSON.stringify({ fatal: { error: { download: { detail: String((e && e.message) || e) } } } }));
}
if (loaded) await start_worker(start.clock_offset_ms, start.store_faults);
