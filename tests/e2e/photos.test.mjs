// A photo on an observation, end to end (issue 13): a phone-camera-sized JPEG (12 megapixels, EXIF
// with a GPS position and "rotate 90°") is attached offline, made small on the phone, saved with
// the observation, kept over a reload and a browser restart; then the phone comes online through
// a link that is cut in the middle of the upload, and the ward server ends with one file whose
// SHA-256 is the phone's name for it, upright (portrait), without EXIF, uploaded from zero only
// once. The team leader's phone shows the thumbnail and opens the full photo; a device of another
// ward is refused it. The app runs at a fixed night (the 4th of December 2026), never the machine's.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { axeFindings, cameraPhoto, enrollApi, enrollmentLink, jpegSize, launch, setClock, shot, startServer, waitText, wardAdmin, watchedPage } from "./harness.mjs";

const CP1 = { latitude: 21.02852, longitude: 105.85421, accuracy: 8 };
const NIGHT = "2026-12-04T14:30:00Z"; // 21:30 in Hà Nội

/**
 * A TCP relay in front of `port` that records each photo piece's request line and cuts the
 * connection in the middle of the `cutAt`-th piece of a full-size photo (its headers and a part of
 * its body pass, then both sides are closed), as a phone walking out of coverage.
 */
function cuttingRelay(port, cutAt) {
  const pieces = [];
  let full = 0;
  const relay = net.createServer((client) => {
    const upstream = net.connect(port, "127.0.0.1");
    let cut = false;
    client.on("data", (d) => {
      if (cut) return;
      const text = d.toString("latin1");
      const m = /PUT \/api\/v1\/photos\/([0-9a-f]{64})\/upload\?offset=(\d+)/.exec(text);
      if (m) {
        const length = Number(/content-length: (\d+)/i.exec(text)?.[1] ?? 0);
        pieces.push({ hash: m[1], offset: Number(m[2]), length });
        if (length > 32 * 1024) full += 1; // a full-size photo's piece, not a thumbnail
        if (length > 32 * 1024 && full === cutAt) {
          cut = true;
          const head = text.indexOf("\r\n\r\n") + 4;
          upstream.write(d.subarray(0, head + Math.floor((d.length - head) / 2)));
          setTimeout(() => { client.destroy(); upstream.destroy(); }, 100);
          return;
        }
      }
      upstream.write(d);
    });
    upstream.on("data", (d) => { if (!cut) client.write(d); });
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  return new Promise((resolve) => relay.listen(0, "127.0.0.1", () =>
    resolve({ pieces, port: relay.address().port, close: () => relay.close() })));
}

test("a photo offline: made small, kept over a restart, uploaded once through a cut, read by the leader only", { timeout: 420_000 }, async () => {
  const server = await startServer({ demo: true, clock: NIGHT });
  const relay = await cuttingRelay(server.port, 2);
  const url = `http://127.0.0.1:${relay.port}/`;
  const memberProfile = mkdtempSync(path.join(os.tmpdir(), "patrol-e2e-photo-m-"));
  const leaderProfile = mkdtempSync(path.join(os.tmpdir(), "patrol-e2e-photo-l-"));
  let ctx = await launch(memberProfile, CP1);
  let leader = null;
  try {
    await setClock(ctx, NIGHT);
    let { page, errors } = await watchedPage(ctx);
    await page.goto(enrollmentLink(server.data, "demo-m2", url, NIGHT));
    await waitText(page, "sync-card", "vai trò: tổ viên", 60_000);
    const original = await cameraPhoto(page);
    assert.ok(original.length > 1_000_000, `a camera-sized file: ${original.length} bytes`);
    assert.deepEqual(jpegSize(original), { width: 4000, height: 3000 });

    await page.getByTestId("slot-ca1").click();
    await page.getByTestId("member-demo-m2").check();
    await page.getByTestId("start").click();
    // A started shift opens the route.
    await page.locator("[data-testid=gps].ok").waitFor({ timeout: 20_000 });

    // No signal: the photo is attached and the observation saved on the phone alone.
    await ctx.setOffline(true);
    await page.getByTestId("tab-observe").click();
    await page.getByTestId("cat-suspicious_vehicle").click();
    await page.getByTestId("photo-input-obs").setInputFiles({ name: "IMG_20261204_213512.jpg", mimeType: "image/jpeg", buffer: original });
    await page.getByTestId("photo-previews").locator("img").first().waitFor({ timeout: 60_000 });
    await page.getByTestId("photo-previews").scrollIntoViewIfNeeded();
    await shot(page, "95-photo-preview");
    assert.deepEqual(await axeFindings(page), [], "observe with a photo");
    // Not an image, whatever its name says: refused in words, nothing added.
    await page.getByTestId("photo-input-obs").setInputFiles({ name: "anh.jpg", mimeType: "image/jpeg", buffer: Buffer.from("%PDF-1.7 not a photo") });
    await waitText(page, "toast", "không phải là ảnh");
    assert.equal(await page.getByTestId("photo-previews").locator("img").count(), 1);
    await page.getByTestId("obs-save").click();
    await waitText(page, "toast", "Đã lưu");
    await page.getByTestId("tab-log").click();
    await page.getByTestId("photo-strip").locator("img").first().waitFor();
    const hash = await page.getByTestId("photo-thumb").first().getAttribute("data-hash");
    assert.match(hash, /^[0-9a-f]{64}$/);
    await page.getByTestId("tab-tonight").click();
    await waitText(page, "photos-waiting", "1 ảnh chờ gửi");

    // A reload, then the browser closed and opened again, still offline at first: all kept.
    await page.reload();
    await page.getByTestId("tab-log").click();
    await page.getByTestId("photo-strip").locator("img").first().waitFor({ timeout: 30_000 });
    await ctx.close();
    ctx = await launch(memberProfile, CP1);
    await setClock(ctx, NIGHT);
    await ctx.setOffline(true);
    ({ page, errors } = await watchedPage(ctx));
    await page.goto(url);
    await page.getByTestId("tab-log").click();
    await page.getByTestId("photo-strip").locator("img").first().waitFor({ timeout: 60_000 });
    assert.equal(await page.getByTestId("photo-thumb").first().getAttribute("data-hash"), hash);

    // The signal returns through a link that cuts the upload in the middle of a piece.
    await ctx.setOffline(false);
    const file = path.join(server.data, "photos", hash.slice(0, 2), hash);
    const deadline = Date.now() + 120_000;
    while (!existsSync(file) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    assert.ok(existsSync(file), `the server holds ${file}`);
    const stored = readFileSync(file);
    assert.equal(createHash("sha256").update(stored).digest("hex"), hash, "the server's bytes are the phone's");
    assert.equal(stored.indexOf(Buffer.from("Exif\0\0")), -1, "no EXIF left");
    assert.deepEqual(jpegSize(stored), { width: 1200, height: 1600 }, "turned upright by the EXIF orientation, long edge 1600");
    assert.ok(stored.length < original.length / 5, `${stored.length} bytes from ${original.length}`);
    const mine = relay.pieces.filter((p) => p.hash === hash);
    assert.equal(mine.filter((p) => p.offset === 0).length, 1, `sent from zero once: ${JSON.stringify(mine)}`);
    const offsets = mine.map((p) => p.offset);
    assert.ok(offsets.filter((o, i) => offsets.indexOf(o) !== i).length === 1, `one piece sent again after the cut: ${offsets}`);
    await page.getByTestId("tab-tonight").click();
    await waitText(page, "photos-waiting", "Ảnh lưu trên máy", 30_000);
    assert.deepEqual(errors, []);

    // The team leader's phone: the tip's thumbnail, then the full photo on a tap.
    leader = await launch(leaderProfile, CP1);
    await setClock(leader, NIGHT);
    // The share sheet as the page sees it (one that takes files), recorded for the test.
    await leader.addInitScript(() => {
      globalThis.__shared = [];
      Object.defineProperty(Navigator.prototype, "canShare", { configurable: true, value: (d) => Array.isArray(d.files) });
      Object.defineProperty(Navigator.prototype, "share", {
        configurable: true,
        value: async (d) => { globalThis.__shared.push({ text: d.text, files: (d.files || []).map((f) => ({ name: f.name, type: f.type, size: f.size })) }); },
      });
    });
    const { page: lp, errors: lerrors } = await watchedPage(leader);
    await lp.goto(enrollmentLink(server.data, "demo-m1", url, NIGHT));
    await waitText(lp, "sync-card", "tổ trưởng", 60_000);
    await lp.getByTestId("tab-team").click();
    await lp.getByTestId("team-tips").click();
    const thumb = lp.getByTestId("photo-thumb").first();
    await thumb.locator("img").waitFor({ timeout: 30_000 });
    assert.equal(await thumb.getAttribute("data-hash"), hash);
    assert.deepEqual(await axeFindings(lp), [], "the leader's tips with a thumbnail");
    await thumb.click();
    const full = lp.getByTestId("photo-full");
    await full.waitFor({ timeout: 30_000 });
    const natural = await full.evaluate((img) => new Promise((ok) => img.complete ? ok([img.naturalWidth, img.naturalHeight]) : img.addEventListener("load", () => ok([img.naturalWidth, img.naturalHeight]))));
    assert.deepEqual(natural, [1200, 1600]);
    await shot(lp, "96-photo-leader-full");
    await lp.getByTestId("photo-viewer").click();
    // Handed on in one tap with the photo as a file, and recorded on the tip as passed to the police.
    await lp.locator("[data-testid^=share-]").first().click();
    await waitText(lp, "toast", "chia sẻ");
    const [shared] = await lp.evaluate(() => globalThis.__shared);
    assert.ok(shared.text.includes("Phương tiện khả nghi"), shared.text);
    assert.deepEqual(shared.files, [{ name: "photo-1.jpg", type: "image/jpeg", size: stored.length }]);
    await lp.locator("[data-testid^=tip-status-]").filter({ hasText: "Đã chuyển công an phường" }).first().waitFor();
    assert.deepEqual(lerrors, []);

    // A device of another ward: refused, as if the photo did not exist.
    wardAdmin(server.data, ["create-ward", "--id", "w2", "--name", "Phường Hai", "--police-phone", "0243"]);
    wardAdmin(server.data, ["create-team", "--ward", "w2", "--id", "w2-t", "--name", "Tổ Một", "--leader-phone", "0909"]);
    wardAdmin(server.data, ["add-member", "--team", "w2-t", "--id", "w2-l", "--name", "Chị Lan", "--role", "leader"]);
    const enrolled = await enrollApi(server, "w2-l", "w2-device-1", NIGHT);
    assert.ok(enrolled.token, JSON.stringify(enrolled));
    const other = await fetch(`${server.url}api/v1/photos/${hash}`, { headers: { authorization: `Bearer ${enrolled.token}` } });
    assert.equal(other.status, 404);
    assert.equal((await other.json()).error, "unknown_photo");
  } finally {
    await ctx.close().catch(() => {});
    if (leader) await leader.close().catch(() => {});
    relay.close();
    await server.stop();
    rmSync(memberProfile, { recursive: true, force: true });
    rmSync(leaderProfile, { recursive: true, force: true });
  }
});
