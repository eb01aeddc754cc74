// Two phones, two browser profiles: a member records an urgent observation offline, comes online
// and syncs; the leader's open app shows it within seconds without a reload (the ward server
// announces new events and the leader's worker pulls at once); the leader forwards it and marks it
// valuable while offline, then syncs; the member's log shows the outcome after its next sync.
// Screenshots of the leader's screens at 360×640 and at a laptop size, in both languages.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { axeFindings, enrollmentLink, launch, shot, startServer, waitText, watchedPage, waitShown } from "./harness.mjs";

const CP1 = { latitude: 21.02852, longitude: 105.85421, accuracy: 8 };

test("an urgent tip reaches the leader live, is followed up offline, and its outcome reaches the member", { timeout: 300_000 }, async () => {
  const server = await startServer({ demo: true });
  const profiles = [0, 1].map((i) => mkdtempSync(path.join(os.tmpdir(), `patrol-e2e-review-${i}-`)));
  const leaderCtx = await launch(profiles[0], CP1);
  const memberCtx = await launch(profiles[1], CP1);
  try {
    const leader = await watchedPage(leaderCtx);
    const member = await watchedPage(memberCtx);
    await leader.page.goto(enrollmentLink(server.data, "demo-m1", server.url));
    await waitText(leader.page, "sync-card", "vai trò: tổ trưởng", 60_000);
    await member.page.goto(enrollmentLink(server.data, "demo-m2", server.url));
    await waitText(member.page, "sync-card", "vai trò: tổ viên", 60_000);
    assert.equal(await member.page.getByTestId("tab-team").count(), 0, "a member has no team screen");

    // The leader keeps the team screen open.
    await leader.page.getByTestId("tab-team").click();
    await waitShown(leader.page, "team-none-running", 30_000);
    await leader.page.evaluate(() => { window.__sameDocument = true; });

    // The member patrols offline and records an urgent theft.
    await memberCtx.setOffline(true);
    await member.page.getByTestId("slot-ca1").click();
    await member.page.getByTestId("member-demo-m2").check();
    await member.page.getByTestId("start").click();
    await member.page.getByTestId("tab-observe").click();
    await member.page.getByTestId("cat-theft").click();
    await member.page.locator("details.details summary").click();
    await member.page.getByTestId("obs-description").fill("Giật túi xách ở đầu ngõ 12, hai thanh niên đi xe máy");
    await member.page.getByTestId("obs-urgent").check();
    await member.page.getByTestId("obs-save").click();
    await waitText(member.page, "toast", "Đã lưu");
    await waitText(member.page, "sync-status", "Chờ đồng bộ: 2");

    // Back online: the member's phone pushes; the leader's open screen shows it without a reload.
    // The member's push is timed when its reply arrives (the worker's fetch, seen by the context).
    let pushed = null;
    memberCtx.on("requestfinished", (r) => { if (pushed === null && r.url().endsWith("/api/v1/push")) pushed = Date.now(); });
    const online = Date.now();
    await memberCtx.setOffline(false);
    // "Within seconds": the 60 s timer alone would rarely make it; the announcement takes ~0.1 s.
    await waitShown(leader.page, "urgent-tips", 10_000);
    const shown = Date.now();
    await waitText(member.page, "sync-status", "Đã đồng bộ hết", 30_000);
    assert.notEqual(pushed, null, "the member's push was seen");
    console.log(`urgent observation: member back online → leader's screen ${shown - online} ms; ` +
      `member's push answered → leader's screen ${shown - pushed} ms`);
    assert.equal(await leader.page.evaluate(() => window.__sameDocument), true, "no reload");
    await leader.page.getByTestId("team-shift").first().waitFor();
    await shot(leader.page, "70-leader-live-vi-360");

    // The leader follows it up offline: forwarded, then valuable. First the map, offline: the
    // points are drawn to scale on a plain background, and no tile is asked for.
    await leaderCtx.setOffline(true);
    await leader.page.locator('[data-testid^="map-open-"]').first().click();
    await waitShown(leader.page, "map", 30_000);
    await waitShown(leader.page, "map-no-tiles", 30_000);
    const points = await leader.page.getByTestId("map-point").count();
    assert.ok(points >= 6, `the demo route's 5 checkpoints and the observation are drawn (${points})`);
    assert.equal(await leader.page.getByTestId("map-tile").count(), 0, "no tiles offline");
    await waitShown(leader.page, "map-scale", 30_000);
    await leader.page.getByTestId("map").scrollIntoViewIfNeeded();
    await shot(leader.page, "77-leader-map-offline-vi-360");
    await leader.page.getByTestId("team-tips").click();
    const tip = leader.page.locator('[data-testid^="tip-forwarded-"]').first();
    const id = (await tip.getAttribute("data-testid")).replace("tip-forwarded-", "");
    await leader.page.getByTestId(`tip-note-${id}`).fill("Đã báo anh Hùng, công an phường");
    await tip.click();
    await waitText(leader.page, `tip-status-${id}`, "Đã chuyển công an phường");
    await leader.page.getByTestId(`tip-valuable-${id}`).click();
    await waitText(leader.page, `tip-status-${id}`, "Tin có giá trị");
    await waitText(leader.page, "sync-status", "Chờ đồng bộ: 2");
    await shot(leader.page, "71-leader-tips-vi-360");
    await leaderCtx.setOffline(false);
    await waitText(leader.page, "sync-status", "Đã đồng bộ hết", 30_000);

    // The member's next sync brings the outcome to their log.
    await member.page.getByTestId("tab-tonight").click();
    await member.page.getByTestId("sync-now").click();
    await waitText(member.page, "toast", "Đã đồng bộ");
    await member.page.getByTestId("tab-log").click();
    await waitText(member.page, "tip-outcome", "Tin có giá trị");
    await shot(member.page, "72-member-tip-outcome-vi");

    // The leader's screens at a laptop size and in English.
    await leader.page.getByTestId("team-logs").click();
    await leader.page.getByTestId("team-shift").first().waitFor();
    await shot(leader.page, "73-leader-logs-vi-360");
    await leader.page.setViewportSize({ width: 1280, height: 800 });
    await shot(leader.page, "74-leader-logs-vi-1280");
    await leader.page.getByTestId("lang-switch").click();
    await leader.page.getByTestId("team-tips").click();
    await waitText(leader.page, `tip-status-${id}`, "Valuable tip");
    await shot(leader.page, "75-leader-tips-en-1280");
    await leader.page.setViewportSize({ width: 360, height: 640 });
    await leader.page.getByTestId("team-live").click();
    await shot(leader.page, "76-leader-live-en-360");

    // axe-core on each of the leader's screens (the map open), in both languages, at 360×640.
    const found = [];
    for (const lang of ["en", "vi"]) {
      for (const part of ["team-live", "team-tips", "team-logs"]) {
        await leader.page.getByTestId(part).click();
        const map = leader.page.locator('[data-testid^="map-open-"]').first();
        if (part !== "team-tips" && (await map.count()) > 0 && (await leader.page.getByTestId("map").count()) === 0) await map.click();
        for (const f of await axeFindings(leader.page)) found.push(`${lang} ${part}: ${f}`);
      }
      if (lang === "en") await leader.page.getByTestId("lang-switch").click();
    }
    assert.deepEqual(found, [], found.join("\n"));
    assert.deepEqual(leader.errors, []);
    assert.deepEqual(member.errors, []);
  } finally {
    await leaderCtx.close().catch(() => {});
    await memberCtx.close().catch(() => {});
    await server.stop().catch(() => {});
    for (const p of profiles) rmSync(p, { recursive: true, force: true });
    rmSync(server.data, { recursive: true, force: true });
  }
});
