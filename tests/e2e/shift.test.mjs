// A whole patrol shift in headless Chromium at a phone viewport, with the network off after the
// first load: two GPS check-ins inside the radius, one outside refused, one manual, three
// observations, a correction, end of shift; then a reload and a browser restart on the same profile.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { launch, shot, startServer, waitText, waitShown } from "./harness.mjs";

// Demo ward checkpoints (assets/demo/ward.json).
const CP1 = { latitude: 21.02852, longitude: 105.85421, accuracy: 8 }; // ~2 m from cp1 (radius 40 m)
const CP2 = { latitude: 21.03025, longitude: 105.85540, accuracy: 12 }; // ~20 m from cp2 (radius 50 m)
const FAR_CP3 = { latitude: 21.03420, longitude: 105.85310, accuracy: 6 }; // ~300 m north of cp3 (radius 40 m)

test("a full shift offline is durable across reload and browser restart", { timeout: 240_000 }, async () => {
  const server = await startServer();
  const profile = mkdtempSync(path.join(os.tmpdir(), "patrol-e2e-"));
  let ctx = await launch(profile, CP1);
  try {
    let page = ctx.pages()[0] ?? (await ctx.newPage());
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));

    // 1. First load while online: the service worker installs and takes control.
    await page.goto(server.url);
    await waitShown(page, "no-ward", 60_000);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });
    const manifest = await page.evaluate(() => document.querySelector('link[rel="manifest"]').href);
    assert.match(manifest, /manifest\.webmanifest$/);
    await page.getByTestId("load-demo").click();
    await waitShown(page, "slots", 30_000);
    await shot(page, "01-online-demo-ward");

    // 2. Network off: the server is gone and the browser is offline; the app still opens.
    await server.stop();
    await ctx.setOffline(true);
    await page.reload();
    const slots = await page.getByTestId("slots").textContent();
    assert.ok(slots.includes("CA1: 20:00–24:00"), slots);
    assert.ok(slots.includes("CA2: 24:00–04:00"), slots);
    await waitText(page, "offline", "Ngoại tuyến");
    await shot(page, "02-offline-tonight");

    // 3. Start ca 1 with two members present (chosen, not the hour's suggestion, so the test
    //    reads the same at 01:30 as at 21:00).
    await page.getByTestId("slot-ca1").click();
    await page.getByTestId("member-demo-m1").check();
    await page.getByTestId("member-demo-m2").check();
    await page.getByTestId("start").click();

    // 4. Route: GPS check-ins inside the radius are verified.
    await waitShown(page, "cp-demo-cp1", 30_000);
    await waitText(page, "dist-demo-cp1", " m,");
    await page.getByTestId("checkin-demo-cp1").click();
    await waitText(page, "state-demo-cp1", "đã xác minh");

    await ctx.setGeolocation(CP2);
    await waitText(page, "dist-demo-cp2", "20 m");
    await page.getByTestId("checkin-demo-cp2").click();
    await waitText(page, "state-demo-cp2", "đã xác minh");

    // Outside the radius: refused with the distance, nothing recorded.
    await ctx.setGeolocation(FAR_CP3);
    await waitText(page, "dist-demo-cp3", "300 m, N"); // the checkpoint lies south: Nam
    await page.getByTestId("checkin-demo-cp3").click();
    const refusal = await waitText(page, "toast", "Chưa điểm danh");
    assert.match(refusal, /300 m/);
    assert.equal(await page.getByTestId("state-demo-cp3").count(), 0);

    // A manual check-in needs a reason and stays unverified.
    await page.getByTestId("manual-demo-cp3").click();
    await page.getByTestId("form-ok-demo-cp3").click();
    await waitText(page, "toast", "Chưa nhập Lý do");
    await page.getByTestId("form-text-demo-cp3").fill("Cổng trường khoá, đứng ngoài đường");
    await page.getByTestId("form-ok-demo-cp3").click();
    await waitText(page, "state-demo-cp3", "chưa xác minh");
    await shot(page, "03-route-checkins");

    // 5. Three observations: the quick one takes two taps.
    await page.getByTestId("tab-observe").click();
    await page.getByTestId("cat-suspicious_vehicle").click();
    await page.getByTestId("obs-save").click();
    await waitText(page, "toast", "Đã lưu");

    await page.getByTestId("cat-theft").click();
    await page.locator("details.details summary").click();
    await page.getByTestId("obs-description").fill("Mất xe đạp trước cửa nhà số 5");
    await page.getByTestId("obs-plate").fill("29b1-456.78");
    await page.getByTestId("act-reported_police").click();
    await page.getByTestId("obs-urgent").check();
    await shot(page, "04-observe-details");
    await page.getByTestId("obs-save").click();
    await waitText(page, "toast", "Đã lưu");

    await page.getByTestId("cat-broken_light_camera").click();
    await page.getByTestId("obs-save").click();
    await waitText(page, "toast", "Đã lưu");

    // 6. Log: a correction is appended beside the original, which stays as it was.
    await page.getByTestId("tab-log").click();
    const theft = page.getByTestId("entry").filter({ hasText: "Trộm cắp" });
    await theft.getByRole("button", { name: "Đính chính" }).click();
    await page.getByTestId("correction-text").fill("Thực ra là cướp giật, đối tượng đi xe máy");
    await page.getByTestId("correction-category").selectOption("snatch_theft");
    await page.getByTestId("correction-save").click();
    await theft.getByTestId("correction").filter({ hasText: "Cướp giật" }).waitFor();
    assert.match(await theft.textContent(), /Trộm cắp.*29B1-456\.78/s, "the original entry is kept");
    assert.equal(await page.getByTestId("entry").count(), 6, "3 check-ins + 3 observations");
    await shot(page, "05-log-correction");

    // 7. Urgent help: call and SMS links with the position.
    await page.getByTestId("sos-open").click();
    assert.equal(await page.getByTestId("call-police").getAttribute("href"), "tel:0240000113");
    const sms = await page.getByTestId("sms-leader").getAttribute("href");
    assert.ok(sms.startsWith("sms:0900000001?body="), sms);
    assert.match(decodeURIComponent(sms), /KHẨN CẤP - Tổ NDTT số 1 \(DEMO\), CA1 .*21\.03420,105\.85310/);
    await shot(page, "06-sos");
    await page.getByRole("button", { name: "Đóng" }).click();

    // 8. End the shift with a handover note: the summary.
    await page.getByTestId("tab-tonight").click();
    await page.getByTestId("handover").fill("Đèn đường ngõ 12 hỏng, đã báo tổ trưởng");
    await page.getByTestId("end-shift").click();
    await waitText(page, "summary-checkpoints", "đã đến 3/5, xác minh 2");
    await waitText(page, "summary-observations", "Ghi nhận: 3 (khẩn cấp: 1)");
    await waitText(page, "sync-status", "Chờ đồng bộ: 9"); // start, 3 check-ins, 3 observations, correction, end
    await shot(page, "07-summary");
    // The confirmation fades by itself although the screen it was shown on is gone.
    await page.getByTestId("toast").waitFor({ state: "detached", timeout: 10_000 });

    // 9. Reload: everything is there.
    await page.reload();
    await waitText(page, "summary-checkpoints", "đã đến 3/5, xác minh 2");
    await waitText(page, "sync-status", "Chờ đồng bộ: 9");

    // English is one tap away.
    await page.getByTestId("lang-switch").click();
    await waitText(page, "summary-observations", "Observations: 3 (urgent: 1)");
    await waitText(page, "tab-tonight", "Tonight");
    await page.getByTestId("lang-switch").click();
    await waitText(page, "tab-tonight", "Đêm nay");
    assert.deepEqual(errors, [], "no uncaught page errors");

    // 10. Close the browser and open it again on the same profile, still offline.
    await ctx.close();
    ctx = await launch(profile, CP1);
    await ctx.setOffline(true);
    page = ctx.pages()[0] ?? (await ctx.newPage());
    await page.goto(server.url);
    await waitText(page, "summary-checkpoints", "đã đến 3/5, xác minh 2", 60_000);
    await waitText(page, "sync-status", "Chờ đồng bộ: 9");
    await page.getByTestId("tab-log").click();
    assert.equal(await page.getByTestId("entry").count(), 6);
    assert.equal(await page.getByTestId("correction").count(), 1);
    await waitText(page, "summary", "Đèn đường ngõ 12 hỏng");
    await shot(page, "08-after-browser-restart");

    // 11. A second tab gets a clear answer instead of a crash.
    const second = await ctx.newPage();
    await second.goto(server.url);
    await waitText(second, "fatal", "tab khác", 60_000);
    await shot(second, "09-second-tab");
  } finally {
    await ctx.close().catch(() => {});
    await server.stop().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
});
