// Benchmark (prints figures, asserts nothing): the first visit's bytes on the wire, and the time to
// save one observation durably in the browser, measured from the page through the worker and back.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { launch, ROOT, startServer, wireCounter } from "./harness.mjs";

const N = Number(process.env.BENCH_SAVES || 200);
const dist = path.join(ROOT, "dist");


const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const onDisk = (rel) => {
  const data = readFileSync(path.join(dist, rel));
  return {
    raw: data.length,
    gz: gzipSync(data, { level: 9 }).length,
    br: brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
};

/** The first visit of a phone with nothing cached, until the app shows and the service worker runs. */
async function firstLoad(server) {
  const relay = await wireCounter(new URL(server.url).port);
  const profile = mkdtempSync(path.join(os.tmpdir(), "patrol-bench-"));
  const ctx = await launch(profile, { latitude: 21.0285, longitude: 105.8542, accuracy: 10 });
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const cdp = await ctx.newCDPSession(page);
    await cdp.send("Network.enable");
    const urls = new Map(), wire = new Map();
    cdp.on("Network.responseReceived", (e) => urls.set(e.requestId, e.response.url));
    cdp.on("Network.loadingFinished", (e) => wire.set(e.requestId, e.encodedDataLength));
    await page.goto(`http://127.0.0.1:${relay.port}/`);
    await page.locator(".app").waitFor({ timeout: 60_000 });
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.waitForTimeout(1000);
    console.log("first visit, as the browser received it (bytes on the wire incl. headers; on disk raw / gzip -9 / brotli q11):");
    let pageTotal = 0;
    for (const [id, url] of urls) {
      const rel = new URL(url).pathname.replace(/^\//, "") || "index.html";
      if (rel.startsWith("api/")) continue;
      const bytes = wire.get(id) ?? 0;
      pageTotal += bytes;
      let sizes = "";
      try {
        const d = onDisk(rel);
        sizes = `${String(d.raw).padStart(9)} / ${String(d.gz).padStart(8)} / ${String(d.br).padStart(8)}`;
      } catch { /* not a file of dist */ }
      console.log(`  ${rel.slice(0, 60).padEnd(60)} ${String(bytes).padStart(9)}   ${sizes}`);
    }
    console.log(`first load on the wire: page ${kb(pageTotal)}; everything incl. the service worker's own fetches ${kb(relay.counts.down)} down, ${kb(relay.counts.up)} up`);
  } finally {
    await ctx.close();
    relay.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Slows `page` to a slow mobile link as Chrome emulates it, and its CPU 4×. */
async function throttle(ctx, page) {
  const cdp = await ctx.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false, latency: 150, downloadThroughput: (1.6e6 / 8), uploadThroughput: (750e3 / 8),
  });
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
}

const RUNS = Number(process.env.BENCH_SLOW_RUNS || 3);
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * The first visit on a slow mobile link (150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up, the
 * CPU slowed 4×), `RUNS` times in a new profile each: when the first text is painted, when the
 * wasm has arrived, when the first screen's main button can be tapped, and when what it was
 * tapped for is on the screen (tapped at once). Then the same phone opening the app again, from
 * its service worker, until its screen (now tonight's) shows.
 */
async function throttledVisits(server) {
  const first = [], answered = [], again = [];
  for (let run = 0; run < RUNS; run++) {
    const profile = mkdtempSync(path.join(os.tmpdir(), "patrol-bench-slow-"));
    const ctx = await launch(profile, { latitude: 21.0285, longitude: 105.8542, accuracy: 10 });
    try {
      const page = ctx.pages()[0] ?? (await ctx.newPage());
      await throttle(ctx, page);
      const t0 = Date.now();
      await page.goto(server.url, { waitUntil: "commit" });
      await page.getByTestId("first-screen").waitFor({ timeout: 60_000 });
      await page.getByTestId("load-demo").waitFor({ timeout: 120_000 });
      const usable = Date.now() - t0;
      if (!(await page.getByTestId("load-demo").isEnabled())) throw new Error("the main button is shown switched off");
      await page.getByTestId("load-demo").click();
      await page.getByTestId("tonight-title").waitFor({ timeout: 60_000 });
      const done = Date.now() - t0;
      answered.push(done);
      const seen = await page.evaluate(() => ({
        origin: performance.timeOrigin,
        paint: Object.fromEntries(performance.getEntriesByType("paint").map((e) => [e.name, Math.round(e.startTime)])),
        wasm: Math.round(performance.getEntriesByType("resource").find((e) => e.name.endsWith("/patrol_bg.wasm"))?.responseEnd),
      }));
      // The store's module is the worker's download: its timings are in the worker's own timeline.
      const store = [];
      for (const worker of page.workers()) {
        const at = await worker.evaluate(() => {
          const e = performance.getEntriesByType("resource").find((r) => r.name.endsWith("/store_bg.wasm"));
          return e ? [performance.timeOrigin + e.requestStart, performance.timeOrigin + e.responseEnd] : null;
        }).catch(() => null);
        if (at) store.push(...at.map((t) => Math.round(t - seen.origin)));
      }
      first.push(usable);
      console.log(`slow link first visit (150 ms RTT, 1.6/0.75 Mbit/s, CPU 4x): first paint ${seen.paint["first-paint"]} ms, ` +
        `first contentful paint ${seen.paint["first-contentful-paint"]} ms (the first screen in index.html), ` +
        `page's wasm arrived ${seen.wasm} ms, the store's wasm asked for at ${store[0] ?? "?"} ms and arrived ${store[1] ?? "?"} ms, ` +
        `main button usable ${usable} ms, tapped at once: its answer on screen ${done} ms, after the navigation began`);
      // The same phone again: the service worker serves the app, the store is opened, not made.
      const kept = await page.evaluate(() => Promise.race([
        navigator.serviceWorker.ready.then(() => true),
        new Promise((resolve) => setTimeout(() => resolve(false), 60_000)),
      ]));
      if (!kept) throw new Error("the service worker did not install within 60 s");
      const t1 = Date.now();
      await page.goto(server.url, { waitUntil: "commit" });
      await page.getByTestId("tonight-title").waitFor({ timeout: 60_000 });
      again.push(Date.now() - t1);
    } finally {
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }
  console.log(`slow link, main button usable: first visit median ${median(first)} ms (${first.join(", ")}), ` +
    `its answer on screen median ${median(answered)} ms (${answered.join(", ")}); ` +
    `opened again from the service worker median ${median(again)} ms (${again.join(", ")})`);
}

/**
 * Marks in the page's own timeline when tonight's title is first drawn (the frame after it entered
 * the page), so a start is timed from the navigation's start without the test tool's own scripts,
 * which Playwright injects into the page when it is asked to wait for an element, running on the
 * same slowed main thread.
 */
async function markTonight(ctx) {
  await ctx.addInitScript(() => {
    const watch = new MutationObserver(() => {
      if (!document.querySelector('[data-testid="tonight-title"]')) return;
      watch.disconnect();
      requestAnimationFrame(() => setTimeout(() => performance.mark("tonight-drawn"), 0));
    });
    watch.observe(document, { subtree: true, childList: true });
  });
}

/** Waits, without touching the page's DOM, until tonight's title was drawn; its time in ms. */
async function tonightDrawn(page) {
  for (let tries = 0; tries < 400; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 150));
    const at = await page.evaluate(() => performance.getEntriesByName("tonight-drawn")[0]?.startTime ?? -1).catch(() => -1);
    if (at >= 0) return Math.round(at);
  }
  throw new Error("tonight's screen was not drawn within 60 s");
}

/**
 * The warm offline start: a phone that has the app and a running shift opens it again with no
 * signal and the CPU slowed 4×, `WARM_RUNS` times, from the navigation's start until tonight's
 * title is drawn: reloaded in the same browser (the compiled code it kept in memory at hand), then
 * in a browser started again on the same profile (only what it keeps on disk).
 */
async function warmOfflineStarts(server) {
  const runs = Number(process.env.BENCH_WARM_RUNS || 7);
  const profile = mkdtempSync(path.join(os.tmpdir(), "patrol-bench-warm-"));
  const geo = { latitude: 21.0285, longitude: 105.8542, accuracy: 10 };
  let ctx = await launch(profile, geo);
  const again = [], relaunched = [];
  /** Opens the app on `page`, offline with the CPU slowed 4×, and times it. */
  const start = async (page) => {
    const cdp = await ctx.newCDPSession(page);
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
    await page.goto(server.url, { waitUntil: "commit" });
    const drawn = await tonightDrawn(page);
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 1 });
    await cdp.detach();
    return drawn;
  };
  try {
    await markTonight(ctx);
    let page = ctx.pages()[0] ?? (await ctx.newPage());
    await page.goto(server.url);
    await page.getByTestId("load-demo").click();
    await page.getByTestId("slot-ca1").click();
    await page.getByTestId("member-demo-m1").check();
    await page.getByTestId("start").click();
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.waitForTimeout(1000);
    await ctx.setOffline(true);
    for (let run = 0; run < runs; run++) again.push(await start(page));
    for (let run = 0; run < runs; run++) {
      // Let the browser write what it keeps on disk before it stops.
      await page.waitForTimeout(3000);
      await ctx.close();
      ctx = await launch(profile, geo);
      await ctx.setOffline(true);
      await markTonight(ctx);
      page = ctx.pages()[0] ?? (await ctx.newPage());
      relaunched.push(await start(page));
    }
  } finally {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  }
  console.log(`warm offline start (CPU 4x, from the service worker, a shift running), from the navigation's start to tonight drawn: ` +
    `reloaded median ${median(again)} ms (${again.join(", ")}); browser started again median ${median(relaunched)} ms (${relaunched.join(", ")})`);
}

const stats = (times) => {
  const t = times.slice().sort((a, b) => a - b);
  const pct = (p) => t[Math.min(t.length - 1, Math.floor(p * t.length))].toFixed(2);
  const mean = (t.reduce((a, b) => a + b, 0) / t.length).toFixed(2);
  return `mean ${mean} ms, p50 ${pct(0.5)} ms, p90 ${pct(0.9)} ms, p99 ${pct(0.99)} ms, max ${t[t.length - 1].toFixed(2)} ms`;
};
// BENCH_ONLY=warm,slow (any of first, warm, slow, save) runs those parts alone, all by default;
// BENCH_DIST=<folder> serves another build (an older one's dist/, for a before and after).
const PARTS = ["first", "warm", "slow", "save"];
const only = (process.env.BENCH_ONLY || PARTS.join(",")).split(",").map((p) => p.trim());
if (only.some((p) => !PARTS.includes(p))) throw new Error(`BENCH_ONLY names parts of ${PARTS.join(", ")}, not ${only.join(", ")}`);
const server = await startServer({ dist: process.env.BENCH_DIST || undefined });
try {
  if (only.includes("first")) await firstLoad(server);
  if (only.includes("warm")) await warmOfflineStarts(server);
  if (only.includes("slow")) await throttledVisits(server);
  for (const perShift of only.includes("save") ? [25, N] : []) {
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
