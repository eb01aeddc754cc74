// The store's dedicated worker: the same build's wasm as the page (this file lives in the build's
// own folder, app/<build hash>/), entered through start_worker() with the page's clock offset
// (and, in the browser tests only, a number of storage faults), which the page puts in the
// worker's name.
import init, { start_worker } from "./patrol.js";
const clock = /clock_offset_ms=(-?\d+)/.exec(self.name);
await init({ module_or_path: new URL("./patrol_bg.wasm", import.meta.url) });
const faults = /store_faults=(\d+)/.exec(self.name);
await start_worker(clock ? Number(clock[1]) : 0, faults ? Number(faults[1]) : 0);
