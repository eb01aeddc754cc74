// A tip handed on in one tap: the member's observation goes to the phone's share sheet (the Web
// Share API) as a Vietnamese text with category, time and night, team, place and map link, plate
// and details; in English after the language switch; and where the browser has no share sheet,
// the same text is copied for pasting into Zalo. The app is run at a fixed night (00:40 on
// 5 December 2026 in Hà Nội, the night of the 4th), never the machine's clock.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { axeFindings, enrollmentLink, launch, setClock, shot, startServer, waitText, watchedPage } from "./harness.mjs";

// Beside the first demo checkpoint ("Đầu ngõ 12").
const CP1 = { latitude: 21.02852, longitude: 105.85421, accuracy: 8 };
const NIGHT = "2026-12-04T17:40:00Z";

test("a tip is handed on in one tap: share sheet in Vietnamese and English, else copied", { timeout: 240_000 }, async () => {
  const server = await startServer({ demo: true, clock: NIGHT });
  const profile = mkdtempSync(path.join(os.tmpdir(), "patrol-e2e-share-"));
  const ctx = await launch(profile, CP1);
  try {
    await setClock(ctx, NIGHT);
    // The share sheet and the clipboard as the page sees them, recorded for the test.
    await ctx.addInitScript(() => {
      globalThis.__shared = [];
      globalThis.__copied = [];
      Object.defineProperty(Navigator.prototype, "share", {
        configurable: true,
        value: async (data) => { globalThis.__shared.push(data); },
      });
      Object.defineProperty(Navigator.prototype, "clipboard", {
        configurable: true,
        get: () => ({ writeText: async (text) => { globalThis.__copied.push(text); } }),
      });
    });
    const { page, errors } = await watchedPage(ctx);
    await page.goto(enrollmentLink(server.data, "demo-m2", server.url, NIGHT));
    await waitText(page, "sync-card", "vai trò: tổ viên", 60_000);

    await page.getByTestId("slot-ca1").click();
    await page.getByTestId("member-demo-m2").check();
    await page.getByTestId("start").click();
    // The Observe screen turns the GPS on; the Route screen shows when it has a fix.
    await page.getByTestId("tab-observe").click();
    await page.getByTestId("tab-route").click();
    await page.locator("[data-testid=gps].ok").waitFor({ timeout: 20_000 });
    await page.getByTestId("tab-observe").click();
    await page.getByTestId("cat-suspicious_vehicle").click();
    await page.locator("details.details summary").click();
    await page.getByTestId("obs-description").fill("Hai thanh niên đi xe máy, không đội mũ, đi lại nhiều lần");
    await page.getByTestId("obs-plate").fill("29B1-123.45");
    await page.getByTestId("obs-urgent").check();
    await page.getByTestId("obs-save").click();
    await waitText(page, "toast", "Đã lưu");

    await page.getByTestId("tab-log").click();
    // The app's clock runs on from 00:40: the time handed on is the one the log shows.
    const at = (await page.getByTestId("entry").first().locator("time").textContent()).trim();
    assert.match(at, /^00:\d\d$/, "saved after midnight");
    const share = page.locator("[data-testid^=share-]").first();
    await share.scrollIntoViewIfNeeded();
    await shot(page, "90-share-button-vi");
    assert.deepEqual(await axeFindings(page), [], "log with the share button");
    await share.click();
    await waitText(page, "toast", "Đã mở bảng chia sẻ");
    const [vi] = await page.evaluate(() => globalThis.__shared);
    assert.ok(vi.title, "a title");
    for (const want of ["KHẨN CẤP: Phương tiện khả nghi", `Lúc ${at}, đêm 04/12/2026`, "Tổ NDTT số 1",
      "Nơi: Đầu ngõ 12", "https://www.openstreetmap.org/?mlat=21.02852&mlon=105.85421", "Biển số: 29B1-123.45",
      "Chi tiết: Hai thanh niên"]) {
      assert.ok(vi.text.includes(want), `"${want}" in:\n${vi.text}`);
    }

    // In English after the switch.
    await page.getByTestId("lang-switch").click();
    await share.click();
    await waitText(page, "toast", "share sheet is open");
    const en = (await page.evaluate(() => globalThis.__shared))[1];
    for (const want of ["URGENT: Suspicious vehicle", `At ${at}, night of 04/12/2026`, "Place: Đầu ngõ 12", "Plate: 29B1-123.45"]) {
      assert.ok(en.text.includes(want), `"${want}" in:\n${en.text}`);
    }

    // A browser with no share sheet: the same text is copied.
    await ctx.addInitScript(() => { delete Navigator.prototype.share; });
    await page.reload();
    await page.getByTestId("tab-log").click();
    await page.locator("[data-testid^=share-]").first().click();
    await waitText(page, "toast", "copied");
    const copied = await page.evaluate(() => globalThis.__copied);
    assert.equal(copied.length, 1);
    assert.ok(copied[0].includes("Plate: 29B1-123.45"), copied[0]);
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close().catch(() => {});
    await server.stop();
    rmSync(profile, { recursive: true, force: true });
  }
});
