// The store's dedicated worker: the same wasm as the page, entered through start_worker().
import init, { start_worker } from "./pkg/patrol.js";
await init({ module_or_path: "./pkg/patrol_bg.wasm" });
await start_worker();
