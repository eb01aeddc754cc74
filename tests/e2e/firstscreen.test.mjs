// A new phone's first screen does not wait for its store: the store opens empty, so the app draws
// its screens at once and a tap made before the store is open is carried out, once, as soon as it
// is. Held here by holding the store worker's script. A phone that has a store waits for it and
// never shows the new phone's screen on the way.
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
