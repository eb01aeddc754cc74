// The PWA enrolls with a real ward server from a one-time link, runs part of a shift offline (the
// browser offline and the server down), and once both are back the worker syncs by itself: the
// server then holds every record exactly once.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { enrollmentLink, launch, shot, startServer, storedFor, waitText, watchedPage } from "./harness.mjs";

const CP1 = { latitude: 21.02852, longitude: 105.85421, accuracy: 8 };


test("enroll from a link, patrol offline, sync once back online", { timeout: 240_000 }, async () => {
  let server = await startServer({ demo: true });
  const { data } = server;
  const port = new URL(server.url).port;
  const link = enrollmentLink(data, "demo-m2", server.url);
  const profile = mkdtempSync(path.join(os.tmpdir(), "patrol-e2e-sync-"));
  const ctx = await launch(profile, CP1);
  try {
    const { page, errors } = await watchedPage(ctx);
    await page.goto(link);
    await waitText(page, "sync-card", "vai trò: tổ viên", 60_000);
    assert.ok(!page.url().includes("enroll="), "the code is taken out of the address bar");
    await waitText(page, "sync-status", "Đã đồng bộ hết");
    await shot(page, "10-enrolled");

    // The phone loses its connection and the server goes away; the member patrols on.
    await ctx.setOffline(true);
    await server.stop();
    await page.getByTestId("member-demo-m2").check();
    await page.getByTestId("start").click();
    await waitText(page, "dist-demo-cp1", " m,");
    await page.getByTestId("checkin-demo-cp1").click();
    await waitText(page, "state-demo-cp1", "đã xác minh");
    await page.getByTestId("tab-observe").click();
    for (const cat of ["cat-drugs", "cat-fighting"]) {
      await page.getByTestId(cat).click();
      await page.getByTestId("obs-save").click();
      await waitText(page, "toast", "Đã lưu");
    }
    await waitText(page, "sync-status", "Chờ đồng bộ: 4");
    await page.getByTestId("tab-tonight").click();
    await waitText(page, "sync-error", "không kết nối được máy chủ", 30_000);
    await shot(page, "11-server-unreachable");

    // The server is back on the same address and the phone online again: the worker delivers everything.
    server = await startServer({ data, port });
    await ctx.setOffline(false);
    await waitText(page, "sync-status", "Đã đồng bộ hết", 60_000);
    assert.equal(await page.getByTestId("sync-error").count(), 0);
    assert.equal(storedFor(data, "Trần Thị Bình"), 4, "start, check-in, 2 observations, each once");
    await shot(page, "12-synced");

    // Sync now again: nothing new, nothing duplicated.
    await page.getByTestId("sync-now").click();
    await waitText(page, "toast", "Đã đồng bộ");
    assert.equal(storedFor(data, "Trần Thị Bình"), 4);
    assert.deepEqual(errors, [], "no uncaught page errors");
  } finally {
    await ctx.close().catch(() => {});
    await server.stop().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  }
});
