// A new build reaches an installed app safely: build A is installed and used offline; the server
// then serves build B (the same app with a marker in its JS, laid out by tools/finish_dist.py like
// any build). At the next online start the app runs B, every file of the page from B's folder (never
// A's JS with B's wasm), no record is lost, and B then opens offline too.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { appendFileSync, cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { launch, ranFrom, ROOT, shot, startServer, waitText, waitShown } from "./harness.mjs";

const CP1 = { latitude: 21.02852, longitude: 105.85421, accuracy: 8 };
const STAGE = path.join(ROOT, "target/web-stage");

/** Build B: the staged build with a marker, laid out as a release would be. */
function buildB(dir) {
  const stage = path.join(dir, "stage"), dist = path.join(dir, "dist");
  cpSync(STAGE, stage, { recursive: true });
  appendFileSync(path.join(stage, "app/patrol.js"), '\nglobalThis.PATROL_BUILD_MARK = "B";\n');
  const out = execFileSync("python3", [path.join(ROOT, "tools/finish_dist.py"), stage, dist], { encoding: "utf8" });
  return {
    dist,
    build: /build ([0-9a-f]{16})/.exec(out)[1],
    app: /members' app ([0-9a-f]{16})/.exec(out)[1],
    store: /members' store ([0-9a-f]{16})/.exec(out)[1],
  };
}

/** The build folders the page loaded its files from (its own module's, and the store worker's
 * script where the browser lists it), and the marker of the JS that runs. */
async function running(page) {
  return page.evaluate(() => ({
    builds: [...new Set(performance.getEntriesByType("resource").map((e) => /\/app\/([0-9a-f]{16})\//.exec(e.name)?.[1]).filter(Boolean))],
    mark: globalThis.PATROL_BUILD_MARK ?? "A",
  }));
}

test("a new build replaces the installed one at the next online start, whole, with every record kept", { timeout: 240_000 }, async () => {
  assert.ok(existsSync(STAGE), "make web leaves the staged build in target/web-stage");
  const dir = mkdtempSync(path.join(os.tmpdir(), "patrol-e2e-update-"));
  const b = buildB(dir);
  let server = await startServer();
  const { data, port } = server;
  const profile = mkdtempSync(path.join(os.tmpdir(), "patrol-e2e-update-profile-"));
  const ctx = await launch(profile, CP1);
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    await page.goto(server.url);
    await waitShown(page, "no-ward", 60_000);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });
    const a = await running(page);
    assert.equal(a.mark, "A");
    assert.ok(a.builds.length >= 1 && a.builds.length <= 2 && !a.builds.includes(b.app), `A's page and store: ${a.builds}`);

    // Build A used offline: a shift started and an observation saved.
    await server.stop();
    await ctx.setOffline(true);
    await page.reload();
    await page.getByTestId("load-demo").click();
    await page.getByTestId("member-demo-m1").check();
    await page.getByTestId("start").click();
    await page.getByTestId("tab-observe").click();
    await page.getByTestId("cat-fire_hazard").click();
    await page.getByTestId("obs-save").click();
    await waitText(page, "toast", "Đã lưu");
    await waitText(page, "sync-status", "Chờ đồng bộ: 2");

    // The ward installs build B; the phone comes back online and opens the app again.
    server = await startServer({ data, port, dist: b.dist });
    await ctx.setOffline(false);
    await page.reload();
    await waitShown(page, "tab-log", 60_000);
    const now = await running(page);
    assert.equal(now.mark, "B", "the next online start runs build B");
    ranFrom(now.builds, b.app, b.store, "every file of the page from B's folders");
    await waitText(page, "sync-status", "Chờ đồng bộ: 2");
    await page.getByTestId("tab-log").click();
    assert.equal(await page.getByTestId("entry").count(), 1, "the observation made under A is there");

    // B's service worker takes over; offline, B opens from its cache.
    const cacheOf = () => page.evaluate(async () => (await caches.keys()).join());
    for (let i = 0; i < 60 && (await cacheOf()) !== `patrol-shell-${b.build}`; i++) await page.waitForTimeout(500);
    assert.equal(await cacheOf(), `patrol-shell-${b.build}`, "B's service worker holds B alone");
    await server.stop();
    await ctx.setOffline(true);
    await page.reload();
    await waitShown(page, "tab-log", 60_000);
    const offline = await running(page);
    assert.equal(offline.mark, "B");
    ranFrom(offline.builds, b.app, b.store, "B's page runs offline");
    await waitText(page, "sync-status", "Chờ đồng bộ: 2");
    await shot(page, "40-updated-to-b-offline");
  } finally {
    await ctx.close().catch(() => {});
    await server.stop().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  }
});
