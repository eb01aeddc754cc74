// axe-core on every screen of the app, in Vietnamese and English, at 360×640: no serious or
// critical issue (contrast, names of controls, and the rest of axe's rules).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { axeFindings as findings, launch, startServer, waitShown } from "./harness.mjs";

const CP1 = { latitude: 21.02852, longitude: 105.85421, accuracy: 8 };

test("no serious or critical accessibility issue on any screen, in both languages", { timeout: 180_000 }, async () => {
  const server = await startServer();
  const profile = mkdtempSync(path.join(os.tmpdir(), "patrol-e2e-a11y-"));
  const ctx = await launch(profile, CP1);
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    await page.goto(server.url);
    await waitShown(page, "no-ward", 60_000);
    const found = [];
    const check = async (screen) => {
      for (const f of await findings(page)) found.push(`${screen}: ${f}`);
    };
    await check("no ward (vi)");
    await page.getByTestId("load-demo").click();
    await waitShown(page, "start", 30_000);
    await page.getByTestId("member-demo-m1").check();
    await page.getByTestId("start").click();
    for (const lang of ["vi", "en"]) {
      for (const tab of ["tab-tonight", "tab-route", "tab-observe", "tab-log"]) {
        await page.getByTestId(tab).click();
        await page.waitForTimeout(200);
        await check(`${tab} (${lang})`);
      }
      await page.getByTestId("sos-open").click();
      await check(`urgent sheet (${lang})`);
      await page.getByTestId("sos-close").click();
      await page.getByTestId("lang-switch").click();
    }
    assert.deepEqual(found, []);
  } finally {
    await ctx.close().catch(() => {});
    await server.stop().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
});
