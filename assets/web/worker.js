// The store's dedicated worker: the same build's code as the page (this file lives in the build's
// own folder, app/<build hash>/). index.html starts it with the page, so this script and the JS
// glue load while the wasm downloads; the page's first message then hands over the wasm module it
// compiled (no second compile here), the page's clock offset and, in the browser tests only, a
// number of storage faults (platform/web/client.rs, start_message).
import init, { start_worker } from "./patrol.js";
const start = await new Promise((resolve) => {
  self.onmessage = (e) => {
    self.onmessage = null;
    resolve(e.data);
  };
});
await init({ module_or_path: start.module });
await start_worker(start.clock_offset_ms, start.store_faults);
