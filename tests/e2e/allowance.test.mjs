// The night-duty sheet: a member with 12 qualifying nights in November and 2 below the minimum
// (synced to the ward by another phone of the team); the leader's sheet shows 10 paid, 2 over the
// cap and the amount, a night taken off with a reason moves one up, the CSV file holds what the
// page shows and the figures the server reports, the print is one A4 page; the member's phone
// shows their count. Server and phones run at a fixed time (29 November 2026, noon in Hà Nội).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { ARTIFACTS, axeFindings, cells, enrollApi, enrollmentLink, launch, parseCsv, setClock, shot, startServer, waitShown, waitText, watchedPage } from "./harness.mjs";

const CLOCK = "2026-11-29T05:00:00Z";
const CP1 = { latitude: 21.02852, longitude: 105.85421, accuracy: 8 };

/** Enrolls a device of `member` through the API; its id and token. */
async function enrollDevice(server, member) {
  const device_id = `e2e-${member}-${Date.now()}`;
  return { device_id, token: (await enrollApi(server, member, device_id, CLOCK)).token, seq: 1 };
}

/** Hà Nội local `day` of November 2026 at `h`:`m`, as an instant. */
const local = (day, h, m = 0) => new Date(Date.UTC(2026, 10, day, h - 7, m)).toISOString();

/** Pushes one ended shift of team 1 with `present` on the evening of `day`, `from` local for `minutes`. */
async function pushShift(server, dev, id, day, [h, m], minutes, present) {
  const started_at = local(day, h, m);
  const ended_at = new Date(Date.parse(started_at) + minutes * 60_000).toISOString();
  const shift = { id, team_id: "demo-team-1", slot_code: "ca1", night: `2026-11-${String(day).padStart(2, "0")}`,
    started_at, members_present: present, ended_at: null, handover_note: null };
  const event = (kind, payload, at) => ({ seq: dev.seq++, event_id: `${id}-${kind}`, device_id: dev.device_id, kind,
    entity_id: id, payload, client_time: at });
  const body = { sent_at: ended_at, events: [event("shift_started", shift, started_at), event("shift_ended", { ...shift, ended_at }, ended_at)] };
  const r = await fetch(`${server.url}api/v1/push`, {
    method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${dev.token}` }, body: JSON.stringify(body),
  });
  const answer = await r.json();
  assert.equal(r.status, 200, JSON.stringify(answer));
  assert.equal(answer.stored.length, 2, JSON.stringify(answer));
}

test("the night-duty sheet: 10 paid, 2 over the cap, a night taken off, CSV, one A4 page, the member's count", { timeout: 300_000 }, async () => {
  const server = await startServer({ demo: true, clock: CLOCK });
  const leaderProfile = mkdtempSync(path.join(os.tmpdir(), "patrol-e2e-allowance-l-"));
  const memberProfile = mkdtempSync(path.join(os.tmpdir(), "patrol-e2e-allowance-m-"));
  const leaderCtx = await launch(leaderProfile, CP1);
  const memberCtx = await launch(memberProfile, CP1);
  try {
    await setClock(leaderCtx, CLOCK);
    await setClock(memberCtx, CLOCK);
    // Another phone of the team (demo-m3's) synced November's shifts with Trần Thị Bình (demo-m2)
    // on them: twelve nights of four hours in the window, two of 30 minutes.
    const phone = await enrollDevice(server, "demo-m3");
    for (let day = 1; day <= 12; day++) await pushShift(server, phone, `n${day}`, day, [22, 0], 240, ["demo-m2", "demo-m3"]);
    for (const day of [20, 21]) await pushShift(server, phone, `short${day}`, day, [20, 0], 150, ["demo-m2"]);

    const leader = await watchedPage(leaderCtx);
    await leader.page.goto(enrollmentLink(server.data, "demo-m1", server.url, CLOCK));
    await waitText(leader.page, "sync-card", "vai trò: tổ trưởng", 60_000);
    await waitShown(leader.page, "tab-team", 60_000);
    await leader.page.getByTestId("tab-team").click();
    await leader.page.getByTestId("team-admin").click();
    await leader.page.getByTestId("admin-allowance").click();
    await waitShown(leader.page, "allowance-sheet", 30_000);
    assert.equal(await leader.page.getByTestId("allowance-month").inputValue(), "2026-11");
    const table = await cells(leader.page, "table-allowance");
    assert.deepEqual(table[0], ["Họ và tên", "Chức danh", "Các đêm được tính (ngày)", "Số đêm", "Vượt mức", "Chưa đủ giờ",
      "Bồi dưỡng trực đêm (đ)", "Hỗ trợ tháng (đ)", "Tổng (đ)"]);
    const row = (rows, name) => rows.find((r) => r[0] === name);
    assert.deepEqual(row(table, "Trần Thị Bình"), ["Trần Thị Bình", "tổ viên", "1, 2, 3, 4, 5, 6, 7, 8, 9, 10", "10", "2", "2",
      "1.500.000", "6.000.000", "7.500.000"]);
    assert.deepEqual(row(table, "Lê Văn Cường").slice(3, 7), ["10", "2", "0", "1.500.000"]);
    assert.equal(row(table, "Nguyễn Văn An")[1], "tổ trưởng");
    await waitText(leader.page, "allowance-summary", "20 đêm được tính, 4 đêm vượt mức");
    // November's last night is not over yet: the month cannot be closed, and the screen says when.
    assert.equal(await leader.page.getByTestId("allowance-close").isDisabled(), true);
    await waitShown(leader.page, "allowance-close-later");
    await leader.page.getByTestId("allowance-rules").scrollIntoViewIfNeeded();
    await shot(leader.page, "90-allowance-vi-360");
    const width = await leader.page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `the page stays 360 px wide (${width})`);

    // The CSV file holds what the page shows, and the figures the ward server reports.
    const [download] = await Promise.all([leader.page.waitForEvent("download"), leader.page.getByTestId("allowance-csv").click()]);
    assert.equal(download.suggestedFilename(), "allowance.csv");
    const file = path.join(ARTIFACTS, "allowance.csv");
    await download.saveAs(file);
    const csv = parseCsv(readFileSync(file, "utf8"));
    assert.deepEqual(csv, table);
    const leaderApi = await enrollDevice(server, "demo-m1");
    const server_sheet = await (await fetch(`${server.url}api/v1/team/demo-team-1/allowance?month=2026-11`, {
      headers: { authorization: `Bearer ${leaderApi.token}` },
    })).json();
    for (const line of server_sheet.sheet.lines) {
      const r = row(csv, line.member.name);
      assert.deepEqual([r[3], r[4], r[5], r[6].replaceAll(".", "")], [String(line.paid), String(line.over_cap),
        String(line.below_minimum), String(line.allowance_vnd)], line.member.name);
    }

    // The print: one A4 page, the sheet with its letterhead and signatures, no controls.
    assert.deepEqual(await axeFindings(leader.page), []);
    const pdf = path.join(ARTIFACTS, "91-allowance.pdf");
    writeFileSync(pdf, await leader.page.pdf({ format: "A4" }));
    execFileSync("pdftoppm", ["-png", "-r", "72", "-f", "1", "-l", "1", "-singlefile", pdf, path.join(ARTIFACTS, "91-allowance-print-a4")]);
    const pages = /Pages:\s+(\d+)/.exec(execFileSync("pdfinfo", [pdf], { encoding: "utf8" }))[1];
    assert.equal(pages, "1", "one A4 page for the team");
    const text = execFileSync("pdftotext", ["-layout", pdf, "-"], { encoding: "utf8" });
    for (const want of [/BẢNG CHẤM CÔNG TRỰC ĐÊM/, /Tháng 11\/2026/, /TỔ NDTT SỐ 1/, /Trần Thị Bình/, /1\.500\.000/,
      /CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM/, /NGƯỜI LẬP BẢNG/, /XÁC NHẬN CỦA ỦY BAN NHÂN DÂN PHƯỜNG/]) {
      assert.match(text, want, `the print has ${want}`);
    }
    assert.doesNotMatch(text, /Chốt bảng tháng|Thêm đêm này|Tải tệp CSV/, "controls are not printed");

    // A night taken off with a reason: the first night over the cap is paid instead.
    await leader.page.getByTestId("allowance-member-demo-m2").locator("summary").click();
    const form = leader.page.getByTestId("allowance-member-demo-m2");
    assert.equal(await form.getByTestId("mark-remove").isDisabled(), true, "no reason, no change");
    await form.getByTestId("mark-night").fill("2026-11-02");
    await form.getByTestId("mark-reason").fill("về sớm, đã báo tổ trưởng");
    await form.getByTestId("mark-remove").click();
    await waitText(leader.page, "allowance-summary", "20 đêm được tính, 3 đêm vượt mức", 30_000);
    const after = row(await cells(leader.page, "table-allowance"), "Trần Thị Bình");
    assert.deepEqual(after.slice(2, 5), ["1, 3, 4, 5, 6, 7, 8, 9, 10, 11", "10", "1"]);
    await waitText(leader.page, "allowance-member-demo-m2", "Bỏ bởi Nguyễn Văn An: về sớm, đã báo tổ trưởng");

    // The member's phone: their own count for the month.
    const member = await watchedPage(memberCtx);
    await member.page.goto(enrollmentLink(server.data, "demo-m2", server.url, CLOCK));
    await waitText(member.page, "sync-card", "vai trò: tổ viên", 60_000);
    await waitText(member.page, "my-nights", "Tháng 11: 10 đêm trực (thêm 1 đêm vượt mức)", 30_000);
    await member.page.getByTestId("my-nights").scrollIntoViewIfNeeded();
    await shot(member.page, "92-allowance-member-360");
    assert.deepEqual(leader.errors, []);
    assert.deepEqual(member.errors, []);
  } finally {
    await leaderCtx.close().catch(() => {});
    await memberCtx.close().catch(() => {});
    await server.stop().catch(() => {});
    for (const p of [leaderProfile, memberProfile, server.data]) rmSync(p, { recursive: true, force: true });
  }
});
