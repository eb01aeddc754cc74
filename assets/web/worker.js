// The store's dedicated worker: SQLite on OPFS, the command handler and sync, in a wasm module of
// its own (app/<its hash>/store_bg.wasm, built with feature `web-store`, without the screens).
// index.html starts it with the page, so this script and its JS glue load at once. The module
// downloads when the page's first message arrives, sent once the page's own module runs, so on a
// first visit the two downloads do not share the link; or at once when index.html says the files
// come from the service worker's copy ({ preload: true }). The first message carries the page's
// clock offset and, in the browser tests only, a number of storage faults (platform/web/client.rs,
// start_message).
import init, { start_worker } from "./store.js";
let loading = null;
const load = () => (loading ??= init({ module_or_path: new URL("./store_bg.wasm", import.meta.url) }));
const start = await new Promise((resolve) => {
  self.onmessage = (e) => {
    if (e.data && e.data.preload) {
      load();
      return;
    }
    self.onmessage = null;
    resolve(e.data);
  };
});
await load();
await start_worker(start.clock_offset_ms, start.store_faults);
