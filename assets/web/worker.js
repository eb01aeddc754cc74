// The store's dedicated worker: the same build's wasm as the page (this file lives in the build's
// own folder, app/<build hash>/), entered through start_worker() with the page's clock offset.
import init, { start_worker } from "./patrol.js";
const clockOffsetMs = Number(new URL(import.meta.url).searchParams.get("clock_offset_ms") || 0);
await init({ module_or_path: new URL("./patrol_bg.wasm", import.meta.url) });
await start_worker(clockOffsetMs);
