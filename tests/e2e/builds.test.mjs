// Two apps from one build: members download only the members' app; a leader's phone moves to the
// leaders' app (the Team tab's screens) once the service worker keeps it. Here the first attempt
// fails (the ward server does not have the leaders' app yet): the leader sees why, with a button,
// and records meanwhile; the server then has it, one tap moves the phone, and the leaders' app
// opens offline afterwards.
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { enrollmentLink, phones, ranFrom, ROOT, shot, startServer, waitText, watchedPage, waitShown } from "./harness.mjs";

const CP1 = { latitude: 21.02852, longitude: 105.85421, accuracy: 8 };
// The evening of 4 December 2026, 19:00 in Hà Nội.
const EVENING = "2026-12-04T12:00:00Z";
const DIST = path.join(ROOT, "dist");

/** The two apps' folders, as index.html names them. */
function apps() {
  const html = readFileSync(path.join(DIST, "index.html"), "utf8");
  const member = /member: \{ app: "(app\/[0-9a-f]{16})", store: "(app\/[0-9a-f]{16})"/.exec(html);
  const leader = /leader: \{ app: "(app\/[0-9a-f]{16})", store: "(app\/[0-9a-f]{16})"/.exec(html);
  assert.ok(member && leader, "index.html names both apps, each a page and a store worker");
  return { leader: leader[1], member: member[1], leaderStore: leader[2], memberStore: member[2] };
}


/**
 * The app folders the page loaded its code from (JS and wasm; the one stylesheet is the members'
 * copy for both), the cached files under each folder, and the flag.
 */
async function where(page) {
  return page.evaluate(async () => {
    const folders = [...new Set(performance.getEntriesByType("resource")
      .filter((e) => /\.(js|wasm)$/.test(new URL(e.name).pathname))
      .map((e) => /\/(app\/[0-9a-f]{16})\//.exec(e.name)?.[1]).filter(Boolean))];
    const cached = {};
    for (const key of await caches.keys()) {
      for (const req of await (await caches.open(key)).keys()) {
        const folder = /\/(app\/[0-9a-f]{16})\//.exec(req.url)?.[1];
        if (folder) cached[folder] = (cached[folder] ?? 0) + 1;
      }
    }
    return { folders, cached, flag: localStorage.getItem("patrol.build") };
  });
}

test("members get the members' app; a leader's phone moves to the leaders' app, after a failed first try", { timeout: 240_000 }, async () => {
  const { leader: leaderApp, member: memberApp, leaderStore, memberStore } = apps();
  // A ward server whose dist lacks the leaders' app (an upgrade half copied, say).
  const tmp = mkdtempSync(path.join(os.tmpdir(), "patrol-e2e-builds-"));
  const partial = path.join(tmp, "dist");
  cpSync(DIST, partial, { recursive: true });
  rmSync(path.join(partial, leaderApp), { recursive: true, force: true });
  let server = await startServer({ demo: true, clock: EVENING, dist: partial });
  const { data, port } = server;
  const group = await phones("builds", 2, CP1, EVENING);
  const ctxs = group.ctxs;
  try {
    const member = await watchedPage(ctxs[0]);
    const leader = await watchedPage(ctxs[1]);

    // A member: the members' app alone, downloaded and kept; no Team tab, no card.
    await member.page.goto(enrollmentLink(data, "demo-m2", server.url, EVENING));
    await waitText(member.page, "sync-card", "vai trò: tổ viên", 60_000);
    await member.page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });
    let seen = await where(member.page);
    ranFrom(seen.folders, memberApp, memberStore, "the member's page loads the members' app only");
    assert.deepEqual(Object.keys(seen.cached).sort(), [memberApp, memberStore].sort(), "the member's phone keeps the members' app only");
    assert.equal(seen.flag, null);
    assert.equal(await member.page.getByTestId("tab-team").count(), 0);
    assert.equal(await member.page.getByTestId("leader-build").count(), 0);

    // A leader: the move starts by itself and fails; the card says why and offers the button, and
    // the phone records as usual meanwhile.
    await leader.page.goto(enrollmentLink(data, "demo-m1", server.url, EVENING));
    await waitText(leader.page, "sync-card", "vai trò: tổ trưởng", 60_000);
    await waitText(leader.page, "leader-build", "Chưa tải được tab Tổ (mất mạng, hoặc máy chủ phường chưa có bản này)", 30_000);
    await waitShown(leader.page, "leader-build-open", 30_000);
    await leader.page.getByTestId("toast").click(); // the enrollment's confirmation, tapped away
    await shot(leader.page, "90-leader-build-failed-vi");
    assert.equal(await leader.page.getByTestId("tab-team").count(), 0);
    seen = await where(leader.page);
    ranFrom(seen.folders, memberApp, memberStore, "the leader's phone still runs the members' app");
    assert.equal(seen.flag, null, "the flag waits until the leaders' app is kept");
    await leader.page.getByTestId("member-demo-m1").check();
    await leader.page.getByTestId("start").click();
    await leader.page.getByTestId("tab-observe").click();
    await leader.page.getByTestId("cat-fire_hazard").click();
    await leader.page.getByTestId("obs-save").click();
    await waitText(leader.page, "toast", "Đã lưu");

    // The ward server now has the leaders' app: one tap, and the phone runs it.
    await server.stop();
    server = await startServer({ data, port, clock: EVENING });
    await leader.page.getByTestId("leader-build-open").click();
    await waitShown(leader.page, "tab-team", 60_000);
    seen = await where(leader.page);
    ranFrom(seen.folders, leaderApp, leaderStore, "after the move every file comes from the leaders' app");
    assert.ok([leaderApp, leaderStore, memberApp, memberStore].every((f) => seen.cached[f] > 0), `both apps kept: ${JSON.stringify(seen.cached)}`);
    assert.equal(seen.flag, "leader");
    assert.equal(await leader.page.getByTestId("leader-build").count(), 0);
    await leader.page.getByTestId("tab-log").click();
    assert.equal(await leader.page.getByTestId("entry").count(), 1, "the observation made before the move is there");

    // Someone who has tapped is never reloaded under: a phone that lost its flag (site data
    // cleared, say) starts on the members' app, keeps the leaders' app again by itself, and offers
    // the reopen instead. (index.html marks a tap in PATROL_TOUCHED; set here before any script.)
    await ctxs[1].addInitScript(() => { globalThis.PATROL_TOUCHED = true; });
    await leader.page.evaluate(() => localStorage.removeItem("patrol.build"));
    await leader.page.reload();
    await waitText(leader.page, "leader-build", "Tab Tổ đã tải về máy", 60_000);
    seen = await where(leader.page);
    ranFrom(seen.folders, memberApp, memberStore, "not reloaded: still the members' app");
    assert.equal(seen.flag, "leader", "flagged for the next start");
    await shot(leader.page, "92-leader-build-kept-vi");
    await leader.page.getByTestId("leader-build-open").click();
    await waitShown(leader.page, "tab-team", 60_000);
    ranFrom((await where(leader.page)).folders, leaderApp, leaderStore, "the leaders' app after the reopen");

    // Offline, the leaders' app opens from the phone.
    await server.stop();
    await ctxs[1].setOffline(true);
    await leader.page.reload();
    await waitShown(leader.page, "tab-team", 60_000);
    ranFrom((await where(leader.page)).folders, leaderApp, leaderStore, "the leaders' app offline");
    await shot(leader.page, "91-leader-build-offline-vi");
    assert.deepEqual(member.errors, []);
    assert.deepEqual(leader.errors, []);
  } finally {
    await group.close();
    await server.stop().catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  }
});
