// Benchmark (prints figures, asserts nothing): the release bundle's first-load size, and the time to
// save one observation durably in the browser, measured from the page through the worker and back.
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { launch, ROOT, startServer } from "./harness.mjs";

const N = Number(process.env.BENCH_SAVES || 200);
const dist = path.join(ROOT, "dist");
// What a phone downloads on the first visit before the app is usable (icons come later, lazily).
const firstLoad = ["index.html", "style.css", "manifest.webmanifest", "sw.js", "worker.js", "pkg/patrol.js", "pkg/patrol_bg.wasm"];

let raw = 0, gz = 0, br = 0;
console.log("first-load files (bytes: raw / gzip -9 / brotli q11)");
for (const f of firstLoad) {
  const data = readFileSync(path.join(dist, f));
  const g = gzipSync(data, { level: 9 }).length;
  const b = brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  raw += data.length; gz += g; br += b;
  console.log(`  ${f.padEnd(22)} ${String(data.length).padStart(9)} / ${String(g).padStart(8)} / ${String(b).padStart(8)}`);
}
const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
console.log(`first load total: ${kb(raw)} raw, ${kb(gz)} gzip, ${kb(br)} brotli (wasm alone ${kb(statSync(path.join(dist, "pkg/patrol_bg.wasm")).size)} raw)`);

const server = await startServer();
const profile = mkdtempSync(path.join(os.tmpdir(), "patrol-bench-"));
const ctx = await launch(profile, { latitude: 21.0285, longitude: 105.8542, accuracy: 10 });
try {
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  await page.goto(`${server.url}bench.html?n=${N}`);
  await page.waitForFunction(() => window.benchResult, null, { timeout: 120_000 });
  const result = await page.evaluate(() => window.benchResult);
  if (result.error) throw new Error(result.error);
  const t = result.times.slice().sort((a, b) => a - b);
  const pct = (p) => t[Math.min(t.length - 1, Math.floor(p * t.length))];
  const mean = t.reduce((a, b) => a + b, 0) / t.length;
  console.log(`browser save (page -> worker -> OPFS commit -> reply with fresh state), ${t.length} saves:`);
  console.log(`  mean ${mean.toFixed(2)} ms, p50 ${pct(0.5).toFixed(2)} ms, p90 ${pct(0.9).toFixed(2)} ms, max ${t[t.length - 1].toFixed(2)} ms`);
} finally {
  await ctx.close();
  await server.stop();
  rmSync(profile, { recursive: true, force: true });
}
