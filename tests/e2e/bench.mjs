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
const stats = (times) => {
  const t = times.slice().sort((a, b) => a - b);
  const pct = (p) => t[Math.min(t.length - 1, Math.floor(p * t.length))].toFixed(2);
  const mean = (t.reduce((a, b) => a + b, 0) / t.length).toFixed(2);
  return `mean ${mean} ms, p50 ${pct(0.5)} ms, p90 ${pct(0.9)} ms, p99 ${pct(0.99)} ms, max ${t[t.length - 1].toFixed(2)} ms`;
};
try {
  for (const perShift of [25, N]) {
    const profile = mkdtempSync(path.join(os.tmpdir(), "patrol-bench-"));
    const ctx = await launch(profile, { latitude: 21.0285, longitude: 105.8542, accuracy: 10 });
    try {
      const page = ctx.pages()[0] ?? (await ctx.newPage());
      await page.goto(`${server.url}bench.html?n=${N}&per_shift=${perShift}`);
      await page.waitForFunction(() => window.benchResult, null, { timeout: 120_000 });
      const result = await page.evaluate(() => window.benchResult);
      if (result.error) throw new Error(result.error);
      console.log(`browser save, ${N} saves, a new shift every ${perShift} (page -> worker -> OPFS commit -> reply with the fresh state):`);
      console.log(`  ${stats(result.times.slice(0, N))}`);
      console.log(`  the same round trip with no write (read state only): ${stats(result.times.slice(N))}`);
    } finally {
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }
} finally {
  await server.stop();
}
