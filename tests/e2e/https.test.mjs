// A phone on a real origin: the ward server speaks HTTPS with a certificate made for this test,
// and Chromium reaches it at https://ward.test (mapped to 127.0.0.1, so nothing else is touched and
// the origin is not localhost). The app installs, works offline, enrolls and syncs. The server
// tells the browser to come back over HTTPS only (HSTS), so ward.test over plain HTTP is not even
// tried; another host name over plain HTTP is not a secure context: the app says to open it over
// https://.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { enrollmentLink, launch, shot, startServer, storedFor, waitText, wardAdmin, watchedPage } from "./harness.mjs";

const CP1 = { latitude: 21.02852, longitude: 105.85421, accuracy: 8 };

/** A self-signed certificate for ward.test in `dir`, and its key's SPKI hash for Chromium. */
function certificate(dir) {
  const cert = path.join(dir, "cert.pem"), key = path.join(dir, "key.pem");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", key, "-out", cert, "-days", "36500", "-subj", "/CN=ward.test",
    "-addext", "subjectAltName=DNS:ward.test",
  ], { stdio: "ignore" });
  const spki = new X509Certificate(readFileSync(cert)).publicKey.export({ type: "spki", format: "der" });
  return { cert, key, spki: createHash("sha256").update(spki).digest("base64") };
}


test("over HTTPS at ward.test the app installs, works offline, enrolls and syncs; over plain HTTP it says why not", { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "patrol-e2e-https-"));
  const { cert, key, spki } = certificate(dir);
  const server = await startServer({ demo: true, extra: ["--tls-cert", cert, "--tls-key", key] });
  assert.ok(server.url.startsWith("https://"), server.url);
  const plain = await startServer();
  const origin = `https://ward.test:${server.port}/`;
  const link = enrollmentLink(server.data, "demo-m2", origin);
  assert.ok(link.startsWith(origin), link);
  const profile = mkdtempSync(path.join(os.tmpdir(), "patrol-e2e-https-profile-"));
  const ctx = await launch(profile, CP1, {
    args: [
      "--host-resolver-rules=MAP ward.test 127.0.0.1, MAP plain.ward.test 127.0.0.1",
      `--ignore-certificate-errors-spki-list=${spki}`,
    ],
  });
  try {
    const { page, errors } = await watchedPage(ctx);

    // Enroll from the link over HTTPS: a secure context, the service worker takes control.
    await page.goto(link);
    await waitText(page, "sync-card", "vai trò: tổ viên", 60_000);
    assert.equal(await page.evaluate(() => [window.isSecureContext, location.protocol].join(" ")), "true https:");
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });
    await waitText(page, "sync-status", "Đã đồng bộ hết");

    // Offline, the app opens from the service worker at the same origin and records a shift.
    await ctx.setOffline(true);
    await page.reload();
    await page.getByTestId("member-demo-m2").check();
    await page.getByTestId("start").click();
    await waitText(page, "dist-demo-cp1", " m,");
    await page.getByTestId("checkin-demo-cp1").click();
    await waitText(page, "state-demo-cp1", "đã xác minh");
    await page.getByTestId("tab-observe").click();
    await page.getByTestId("cat-drugs").click();
    await page.getByTestId("obs-save").click();
    await waitText(page, "toast", "Đã lưu");
    await waitText(page, "sync-status", "Chờ đồng bộ: 3");
    await shot(page, "30-https-offline");

    // Back online: everything reaches the ward over HTTPS, once.
    await ctx.setOffline(false);
    await waitText(page, "sync-status", "Đã đồng bộ hết", 60_000);
    assert.equal(storedFor(server.data, "Trần Thị Bình"), 3);
    assert.deepEqual(errors, []);

    // The daily backup, taken while the server serves; restored with the server stopped.
    const backup = path.join(dir, "ward-backup.db");
    wardAdmin(server.data, ["backup", backup]);
    assert.ok(statSync(backup).size > 0);

    // The same host name over plain HTTP: the browser, told so over HTTPS (Strict-Transport-
    // Security), asks for it over HTTPS only, which the plain server cannot answer.
    const upgraded = await ctx.newPage();
    await assert.rejects(upgraded.goto(`http://ward.test:${plain.port}/`), /ERR_SSL_PROTOCOL_ERROR/);
    await upgraded.close();
    // Another host name over plain HTTP: the app explains instead of blaming the browser.
    const insecure = await ctx.newPage();
    await insecure.goto(`http://plain.ward.test:${plain.port}/`);
    const text = await waitText(insecure, "needs-https", "https://", 60_000);
    assert.match(text, /http:\/\/plain\.ward\.test/);
    assert.match(text, /Open the app at its address starting with https:\/\//);
    await shot(insecure, "31-needs-https");

    await server.stop();
    wardAdmin(server.data, ["restore", backup]);
    assert.equal(storedFor(server.data, "Trần Thị Bình"), 3);
    assert.ok(readdirSync(server.data).some((f) => f.startsWith("ward.db.before-restore-")));
  } finally {
    await ctx.close().catch(() => {});
    await server.stop().catch(() => {});
    await plain.stop().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
    rmSync(server.data, { recursive: true, force: true });
    rmSync(plain.data, { recursive: true, force: true });
  }
});
