// A new phone's first screen does not wait for its store: the store opens empty, so the app draws
// its screens at once and a tap made before the store is open is carried out, once, as soon as it
// is. Held here by holding the store worker's script. A phone that has a store waits for it and
// never shows the new phone's screen on the way, and, once the app is kept by the service worker,
// its store opens while the page's own module is still loading, its first answer kept for the page.
// The store's own module, which the worker downloads after the page's, is asked for again after a
// lost connection.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { launch, shot, startServer, waitShown, waitText } from "./harness.mjs";

const CP1 = { latitude: 21.02852, longitude: 105.85421, accuracy: 8 };

test("a new phone's first screen comes before its store, and a tap made meanwhile is carried out once", { timeout: 180_000 }, async () => {
  const server = await startServer();
  const profile = mkdtempSync(path.join(os.tmpdir(), "patrol-e2e-first-"));
  const ctx = await launch(profile, CP1);
  try {
    // The store's worker script is held until released: the store cannot open before then.
    let release;
    const released = new Promise((resolve) => { release = resolve; });
    let held = 0;
    await ctx.route(/\/worker\.js$/, async (route) => {
      held += 1;
      await released;
      await route.continue();
    });
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    await page.goto(server.url);
    await waitShown(page, "no-ward", 60_000);
    assert.ok(held >= 1, "the worker's script was asked for and is held");
    const button = page.getByTestId("load-demo");
    assert.equal(await button.isEnabled(), true, "the main button is live before the store is open");
    await button.click();
    // The tap waits for the store: the button is off meanwhile, and the ward is not there yet.
    await page.waitForFunction(() => document.querySelector('[data-testid="load-demo"]')?.disabled === true);
    await shot(page, "05-first-screen-store-held");
    assert.equal(await page.getByTestId("tonight-title").count(), 0);
    release();
    await waitText(page, "tonight-title", /\d\d\/\d\d\/\d{4}/, 60_000);
    await ctx.unroute(/\/worker\.js$/);

    // The same phone again: its store exists, so no new-phone screen is drawn on the way.
    await page.addInitScript(() => {
      new MutationObserver(() => {
        if (document.querySelector('[data-testid="no-ward"]')) window.__sawNoWard = true;
      }).observe(document, { childList: true, subtree: true });
    });
    await page.reload();
    await waitText(page, "tonight-title", /\d\d\/\d\d\/\d{4}/, 60_000);
    assert.equal(await page.evaluate(() => window.__sawNoWard === true), false, "a phone with a store never shows the new phone's screen");
  } finally {
    await ctx.close().catch(() => {});
    await server.stop().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
});

test("a kept app's store opens while the page's module loads, and the page takes what it answered meanwhile", { timeout: 180_000 }, async () => {
  const server = await startServer();
  const profile = mkdtempSync(path.join(os.tmpdir(), "patrol-e2e-first-"));
  const ctx = await launch(profile, CP1);
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    await page.goto(server.url);
    await page.getByTestId("load-demo").click();
    await waitText(page, "tonight-title", /\d\d\/\d\d\/\d{4}/, 60_000);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 60_000 });
    // The page's own module is held before it runs (the page's instantiateStreaming waits; the
    // store's module is compiled with compileStreaming and the worker's scope is its own): the
    // page cannot listen to the store until it is let go.
    await page.addInitScript(() => {
      const instantiate = WebAssembly.instantiateStreaming;
      WebAssembly.instantiateStreaming = async (...args) => {
        await new Promise((resolve) => { window.__letPageRun = resolve; });
        return instantiate.apply(WebAssembly, args);
      };
    });
    await page.reload();
    await page.waitForFunction(() => typeof window.__letPageRun === "function", null, { timeout: 60_000 });
    // The store opened and answered with the page's module held.
    await page.waitForFunction(() => (window.PATROL_WORKER?.answers.length ?? 0) >= 1, null, { timeout: 60_000 });
    assert.equal(await page.getByTestId("tonight-title").count(), 0, "the page has not run yet");
    await page.evaluate(() => window.__letPageRun());
    await waitText(page, "tonight-title", /\d\d\/\d\d\/\d{4}/, 60_000);
    assert.equal(await page.getByTestId("fatal").count(), 0);
    assert.equal(await page.evaluate(() => window.PATROL_WORKER === undefined), true, "the app took the store's worker");
  } finally {
    await ctx.close().catch(() => {});
    await server.stop().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
});

test("the store's module comes after a lost connection without a reload; a server's error is said in words", { timeout: 180_000 }, async () => {
  const server = await startServer();
  const profiles = [];
  const phone = async () => {
    const profile = mkdtempSync(path.join(os.tmpdir(), "patrol-e2e-first-"));
    profiles.push(profile);
    return launch(profile, CP1);
  };
  let ctx = await phone();
  try {
    // The connection drops twice while the store's module is asked for, after the page's arrived.
    let cut = 0, asked = 0;
    await ctx.route(/\/store_bg\.wasm$/, async (route) => {
      // The service worker's own copy, made once the store has answered, is not the worker's ask.
      if (route.request().serviceWorker()) return route.continue();
      asked += 1;
      if (cut < 2) {
        cut += 1;
        await route.abort("internetdisconnected");
      } else {
        await route.continue();
      }
    });
    let page = ctx.pages()[0] ?? (await ctx.newPage());
    await page.goto(server.url);
    await waitShown(page, "no-ward", 60_000);
    await page.getByTestId("load-demo").click();
    await waitText(page, "tonight-title", /\d\d\/\d\d\/\d{4}/, 60_000);
    assert.equal(cut, 2, "the two cut requests were made");
    assert.equal(asked, 3, "asked again until it came, once more than it was cut");
    assert.equal(await page.getByTestId("fatal").count(), 0);
    await ctx.close();

    // A server that answers with an error (a build half copied): the phone says so.
    ctx = await phone();
    await ctx.route(/\/store_bg\.wasm$/, (route) => route.fulfill({ status: 404, body: "not found" }));
    page = ctx.pages()[0] ?? (await ctx.newPage());
    await page.goto(server.url);
    await waitText(page, "fatal", "Không tải được phần giữ dữ liệu của ứng dụng (HTTP 404)", 60_000);
    await waitText(page, "fatal", "could not be loaded (HTTP 404)");
    await shot(page, "06-store-module-http-error");
  } finally {
    await ctx.close().catch(() => {});
    await server.stop().catch(() => {});
    for (const p of profiles) rmSync(p, { recursive: true, force: true });
  }
});
