// The app asks for nothing at load: the location is asked for when the member starts a shift (or
// opens the route, an observation, the urgent sheet), persistent storage when a shift starts. A
// location denied leaves a working app: the route says why, and a check-in by hand still works.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { chromium } from "playwright-core";
import { shot, startServer, waitText, watchedPage, waitShown } from "./harness.mjs";

// Counts the calls that make a browser ask the person, and answers the location with a denial.
function watchAsks() {
  globalThis.__asks = { location: 0, persist: 0 };
  const geo = navigator.geolocation;
  const deny = (error) => error && setTimeout(() => error({ code: 1, message: "User denied Geolocation" }), 10);
  geo.watchPosition = (ok, error) => { globalThis.__asks.location++; deny(error); return 1; };
  geo.getCurrentPosition = (ok, error) => { globalThis.__asks.location++; deny(error); };
  const persist = navigator.storage.persist.bind(navigator.storage);
  navigator.storage.persist = () => { globalThis.__asks.persist++; return persist(); };
}

test("nothing is asked at load; location and storage on the tap that needs them; a denial leaves a working app", { timeout: 120_000 }, async () => {
  const server = await startServer();
  const profile = mkdtempSync(path.join(os.tmpdir(), "patrol-e2e-perm-"));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
    viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true, locale: "vi-VN", timezoneId: "Asia/Ho_Chi_Minh",
  });
  try {
    await ctx.addInitScript(watchAsks);
    const { page, errors } = await watchedPage(ctx);
    await page.goto(server.url);
    await waitShown(page, "no-ward", 60_000);
    await page.getByTestId("load-demo").click();
    await waitShown(page, "start", 30_000);
    await page.waitForTimeout(1000);
    assert.deepEqual(await page.evaluate(() => globalThis.__asks), { location: 0, persist: 0 }, "nothing asked at load");
    assert.equal(await page.getByTestId("not-persistent").count(), 0, "no storage warning before anything is recorded");

    // Starting a shift is the tap that needs both.
    await page.getByTestId("member-demo-m1").check();
    await page.getByTestId("start").click();
    await waitText(page, "gps", "quyền vị trí bị chặn");
    assert.deepEqual(await page.evaluate(() => globalThis.__asks), { location: 1, persist: 1 });

    // Location denied: the route says why, and a check-in by hand still works.
    await page.getByTestId("manual-demo-cp1").click();
    await page.getByTestId("form-text-demo-cp1").fill("Điện thoại không cho lấy vị trí");
    await page.getByTestId("form-ok-demo-cp1").click();
    await waitText(page, "state-demo-cp1", "chưa xác minh");
    await shot(page, "50-location-denied");
    // Opening other screens asks nothing more.
    await page.getByTestId("tab-observe").click();
    await page.getByTestId("tab-route").click();
    assert.deepEqual(await page.evaluate(() => globalThis.__asks), { location: 1, persist: 1 });
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close().catch(() => {});
    await server.stop().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
});
