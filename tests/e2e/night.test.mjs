// The app on fixed nights, whatever the hour the tests run at and whatever the phone's own time
// zone: the clock is set through crates/clock in the page and its worker. The hour picks the shift
// (ca 1 in the evening, ca 2 after midnight), and a night belongs to its evening, across a month end.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { launch, setClock, shot, startServer, waitText, waitShown } from "./harness.mjs";

const CP1 = { latitude: 21.02852, longitude: 105.85421, accuracy: 8 };

const NIGHTS = [
  { name: "ca 1 in the evening", at: "2026-12-03T21:00:00+07:00", slot: "ca1", night: "03/12/2026", started: /lúc 21:0\d/, tz: "Asia/Ho_Chi_Minh" },
  { name: "ca 2 after midnight belongs to the evening before", at: "2026-12-04T01:30:00+07:00", slot: "ca2", night: "03/12/2026", started: /lúc 01:3\d/, tz: "Europe/London" },
  {
    name: "the last night of a month, ended in the next month", at: "2026-11-30T23:50:00+07:00", endAt: "2026-12-01T00:20:00+07:00",
    slot: "ca1", night: "30/11/2026", started: /lúc 23:5\d/, tz: "America/New_York",
  },
];

for (const n of NIGHTS) {
  test(`a shift on a fixed night: ${n.name}`, { timeout: 120_000 }, async () => {
    const server = await startServer();
    const profile = mkdtempSync(path.join(os.tmpdir(), "patrol-e2e-night-"));
    const ctx = await launch(profile, CP1, { timezoneId: n.tz });
    try {
      await setClock(ctx, n.at);
      const page = ctx.pages()[0] ?? (await ctx.newPage());
      await page.goto(server.url);
      await waitShown(page, "no-ward", 60_000);
      await page.getByTestId("load-demo").click();
      await waitText(page, "tonight-title", n.night);
      // The hour's shift is the one offered; the member starts it without choosing.
      assert.match(await page.getByTestId(`slot-${n.slot}`).getAttribute("class"), /\bon\b/);
      await page.getByTestId("member-demo-m1").check();
      await page.getByTestId("start").click();
      await page.getByTestId("tab-tonight").click();
      const running = await waitText(page, "running", n.slot.toUpperCase());
      assert.match(running, n.started);
      if (n.endAt) {
        // Half an hour later, past midnight into the next month: still the same night.
        await setClock(ctx, n.endAt);
        await page.reload();
        await waitText(page, "tonight-title", n.night);
        await waitText(page, "running", n.slot.toUpperCase());
      }
      await page.getByTestId("end-shift").click();
      const summary = await waitText(page, "summary", `đêm ${n.night}`);
      assert.ok(summary.includes(n.slot.toUpperCase()), summary);
      await shot(page, `20-night-${n.slot}-${n.night.replaceAll("/", "-")}`);
    } finally {
      await ctx.close().catch(() => {});
      await server.stop().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    }
  });
}
