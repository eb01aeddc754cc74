// Benchmark (not a test): a 12-megapixel camera photo on a phone whose CPU is slowed 4× (Chrome's
// emulation): the time from choosing it (the input's change event) to its preview painted (decode, EXIF orientation, fit to 1600 px,
// JPEG re-encode, thumbnail), its bytes before and after, and the bytes on the wire, as a TCP relay
// counts them, from saving the observation until the server holds the photo (the record's push,
// the thumbnail and the photo, with headers). Run: node tests/e2e/bench_photo.mjs
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { cameraPhoto, enrollmentLink, launch, startServer, wireCounter } from "./harness.mjs";

const RUNS = Number(process.env.BENCH_PHOTOS || 3);
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

/** Every photo file the server holds, with its size. */
function photoFiles(data) {
  const root = path.join(data, "photos");
  if (!existsSync(root)) return [];
  return readdirSync(root).filter((d) => d.length === 2)
    .flatMap((d) => readdirSync(path.join(root, d)).map((f) => ({ hash: f, size: statSync(path.join(root, d, f)).size })));
}

const server = await startServer({ demo: true });
const relay = await wireCounter(server.port);
const url = `http://127.0.0.1:${relay.port}/`;
const profile = mkdtempSync(path.join(os.tmpdir(), "patrol-bench-photo-"));
const ctx = await launch(profile, { latitude: 21.0285, longitude: 105.8542, accuracy: 10 });
try {
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  await page.goto(enrollmentLink(server.data, "demo-m2", url));
  await page.getByTestId("sync-card").filter({ hasText: "tổ viên" }).waitFor({ timeout: 60_000 });
  const original = await cameraPhoto(page);
  await page.getByTestId("slot-ca1").click();
  await page.getByTestId("member-demo-m2").check();
  await page.getByTestId("start").click();
  await page.locator("[data-testid=gps].ok").waitFor({ timeout: 20_000 });
  const cdp = await ctx.newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  const prep = [];
  for (let run = 0; run < RUNS; run++) {
    await page.getByTestId("tab-observe").click();
    await page.getByTestId(`cat-${run % 2 ? "broken_light_camera" : "suspicious_vehicle"}`).click();
    // Each run a different photo (one byte of the grain changed), so none is already on the server.
    const photo = Buffer.from(original);
    photo[photo.length - 100] ^= run + 1;
    const seen = new Set(photoFiles(server.data).map((f) => f.hash));
    const before = seen.size;
    // Timed in the page, from the input's change event (the file chosen) to the preview painted,
    // so the test driver's own transfer of the file into the browser is not counted.
    await page.evaluate(() => {
      window.__prep = null;
      const input = document.querySelector("[data-testid=photo-input-obs]");
      input.addEventListener("change", () => {
        const t0 = performance.now();
        const seen = new MutationObserver(() => {
          if (document.querySelector("[data-testid=photo-previews] img")) {
            seen.disconnect();
            requestAnimationFrame(() => { window.__prep = performance.now() - t0; });
          }
        });
        seen.observe(document.body, { childList: true, subtree: true });
      }, { once: true, capture: true });
    });
    await page.getByTestId("photo-input-obs").setInputFiles({ name: `IMG_${run}.jpg`, mimeType: "image/jpeg", buffer: photo });
    await page.waitForFunction(() => window.__prep !== null, null, { timeout: 120_000 });
    prep.push(Math.round(await page.evaluate(() => window.__prep)));
    const up0 = relay.counts.up;
    await page.getByTestId("obs-save").click();
    const deadline = Date.now() + 60_000;
    while (photoFiles(server.data).length < before + 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const files = photoFiles(server.data);
    if (files.length < before + 2) throw new Error("the photo did not reach the server");
    const sizes = files.filter((f) => !seen.has(f.hash)).map((f) => f.size).sort((a, b) => b - a);
    // Let the round finish (its last reply), then count.
    await new Promise((r) => setTimeout(r, 1000));
    console.log(`run ${run + 1}: prepared in ${prep[run]} ms (CPU 4x); original ${kb(photo.length)} 4000×3000; ` +
      `stored photo ${kb(sizes[0])} + thumbnail ${kb(sizes[sizes.length - 1])}; ` +
      `up on the wire from save to stored ${kb(relay.counts.up - up0)}`);
  }
  const sorted = prep.slice().sort((a, b) => a - b);
  console.log(`12 MP photo prepared on the phone (CPU 4x): p50 ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted[sorted.length - 1]} ms over ${RUNS} runs`);
} finally {
  await ctx.close();
  relay.close();
  await server.stop();
  rmSync(profile, { recursive: true, force: true });
}
