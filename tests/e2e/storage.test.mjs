// When the browser's storage fails under the database, the worker closes it, opens it again and
// retries once; if that fails too the member is told in words, keeps what was typed, and the next
// tap saves it, all without a reload. The failure is injected through PATROL_STORE_FAULTS: the
// first n connections the worker opens refuse writes as a failed storage would (SQLite "readonly").
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { launch, shot, startServer, waitText, watchedPage, waitShown } from "./harness.mjs";

const CP1 = { latitude: 21.02852, longitude: 105.85421, accuracy: 8 };

test("a storage failure is healed without a reload, and what was typed is saved once", { timeout: 120_000 }, async () => {
  const server = await startServer();
  const profile = mkdtempSync(path.join(os.tmpdir(), "patrol-e2e-storage-"));
  const ctx = await launch(profile, CP1);
  try {
    const { page, errors } = await watchedPage(ctx);
    await page.goto(server.url);
    await waitShown(page, "no-ward", 60_000);
    await page.getByTestId("load-demo").click();
    await page.getByTestId("slot-ca1").click();
    await page.getByTestId("member-demo-m1").check();
    await page.getByTestId("start").click();
    await waitShown(page, "cp-demo-cp1", 30_000);

    // From the next start on, the worker's first two connections fail on writing.
    await ctx.addInitScript(() => { globalThis.PATROL_STORE_FAULTS = 2; });
    await page.reload();
    await page.getByTestId("tab-observe").click();
    await page.getByTestId("cat-theft").click();
    await page.locator("details.details summary").click();
    const typed = "Mất xe đạp trước cửa nhà số 5";
    await page.evaluate(() => { window.__sameDocument = true; }); // gone if anything reloads
    await page.getByTestId("obs-description").fill(typed);

    // First tap: the write fails, the database is reopened, the retry fails too (two faults).
    await page.getByTestId("obs-save").click();
    await waitText(page, "toast", "nội dung vẫn còn");
    await shot(page, "60-storage-failed");
    assert.equal(await page.getByTestId("obs-description").inputValue(), typed, "what was typed is kept");

    // Second tap: the database is reopened (now healthy) and the record saved, no reload.
    await page.getByTestId("obs-save").click();
    await waitText(page, "toast", "Đã lưu");
    await page.getByTestId("tab-log").click();
    await page.getByTestId("entry").filter({ hasText: typed }).first().waitFor();
    assert.equal(await page.getByTestId("entry").filter({ hasText: typed }).count(), 1, "saved once");
    // The shift still runs on the reopened database, and later saves go straight through.
    await page.getByTestId("tab-observe").click();
    await page.getByTestId("cat-suspicious_vehicle").click();
    await page.getByTestId("obs-save").click();
    await waitText(page, "toast", "Đã lưu");
    assert.equal(await page.evaluate(() => window.__sameDocument), true, "no reload");
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close().catch(() => {});
    await server.stop().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
});
