// Back in coverage after a long dead zone, the records go at once: the phone records offline for
// longer than the back-off would once have grown to (30 s: 2 + 4 + 8 + 16 s of failed rounds),
// then the connection returns. Playwright's offline switch is seen by the page, not by the worker,
// so the page alone tells the worker. Prints the time from the connection's return to the last
// event on the server, and the bytes per event that crossed the wire (a relay counts them).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { enrollmentLink, launch, startServer, storedFor, waitText, watchedPage, wireCounter } from "./harness.mjs";

const CP1 = { latitude: 21.02852, longitude: 105.85421, accuracy: 8 };
const OBSERVATIONS = 20;
const OFFLINE_MS = 35_000;
const CATEGORIES = ["cat-suspicious_person", "cat-suspicious_vehicle", "cat-drugs", "cat-fighting", "cat-fire_hazard"];

test("after a dead zone longer than the old back-off, every record reaches the ward within seconds of the signal", { timeout: 180_000 }, async () => {
  const server = await startServer({ demo: true });
  const relay = await wireCounter(server.port);
  const origin = `http://127.0.0.1:${relay.port}/`;
  const link = enrollmentLink(server.data, "demo-m2", origin);
  const profile = mkdtempSync(path.join(os.tmpdir(), "patrol-e2e-reconnect-"));
  const ctx = await launch(profile, CP1);
  try {
    const { page, errors } = await watchedPage(ctx);
    await page.goto(link);
    await waitText(page, "sync-card", "vai trò: tổ viên", 60_000);
    await waitText(page, "sync-status", "Đã đồng bộ hết", 60_000);

    await ctx.setOffline(true);
    const offlineAt = Date.now();
    await page.getByTestId("member-demo-m2").check();
    await page.getByTestId("start").click();
    await page.getByTestId("tab-observe").click();
    for (let i = 0; i < OBSERVATIONS; i++) {
      await page.getByTestId(CATEGORIES[i % CATEGORIES.length]).click();
      await page.locator("details.details summary").click();
      await page.getByTestId("obs-description").fill(`Ghi nhận số ${i + 1} trong ngõ ${10 + i}`);
      await page.getByTestId("obs-save").click();
      await waitText(page, "toast", "Đã lưu");
    }
    const events = OBSERVATIONS + 1;
    await page.getByTestId("tab-tonight").click();
    await waitText(page, "sync-status", `Chờ đồng bộ: ${events}`);
    await page.waitForTimeout(Math.max(0, OFFLINE_MS - (Date.now() - offlineAt)));
    assert.equal(storedFor(server.data, "Trần Thị Bình"), 0, "nothing went while offline");

    const up = relay.counts.up, down = relay.counts.down;
    await ctx.setOffline(false);
    const back = Date.now();
    let stored = 0;
    while (stored < events && Date.now() - back < 30_000) {
      await new Promise((r) => setTimeout(r, 100));
      stored = storedFor(server.data, "Trần Thị Bình");
    }
    const took = Date.now() - back;
    assert.equal(stored, events, "every record reached the ward");
    await waitText(page, "sync-status", "Đã đồng bộ hết");
    const sent = relay.counts.up - up, received = relay.counts.down - down;
    console.log(`reconnect: ${events} events on the server ${took} ms after the connection returned ` +
      `(offline ${Math.round((back - offlineAt) / 1000)} s); on the wire ${sent} bytes up (${Math.round(sent / events)} per event), ` +
      `${received} bytes down, headers included`);
    // The old schedule's next try was 16-48 s away by now; the page's word makes it seconds.
    assert.ok(took < 8_000, `took ${took} ms`);
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close().catch(() => {});
    relay.close();
    await server.stop().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
    rmSync(server.data, { recursive: true, force: true });
  }
});
