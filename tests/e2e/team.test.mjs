// A leader runs the team from the phone against a real ward server: plans tonight for a member on
// the week's roster, and the member's phone shows the assignment after its next sync (the slot
// suggested and marked); the leader adds a new member and shows a one-time enrollment QR, whose
// link is read from the leader's screen and opened by a third phone, which enrolls; the leader
// revokes the member's phone, and that phone's next sync is refused. The next morning (server and
// app clocks moved on; nothing here depends on the machine's clock), the planned shift that was
// not run shows as missed.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import { ARTIFACTS, axeFindings, enrollmentLink, phones, setClock, shot, startServer, waitText, wardAdmin, watchedPage, waitShown } from "./harness.mjs";

const CP1 = { latitude: 21.02852, longitude: 105.85421, accuracy: 8 };
// The evening of 4 December 2026, 19:00 in Hà Nội, and the next morning.
const EVENING = "2026-12-04T12:00:00Z";
const MORNING = "2026-12-05T02:00:00Z";

test("a leader plans the roster, enrolls a phone by QR and revokes a phone", { timeout: 300_000 }, async () => {
  let server = await startServer({ demo: true, clock: EVENING });
  const group = await phones("team", 4, CP1, EVENING);
  try {
    const [leaderCtx, memberCtx, newCtx, officerCtx] = group.ctxs;
    const leader = await watchedPage(leaderCtx);
    const member = await watchedPage(memberCtx);
    await leader.page.goto(enrollmentLink(server.data, "demo-m1", server.url, EVENING));
    await waitText(leader.page, "sync-card", "vai trò: tổ trưởng", 60_000);
    await member.page.goto(enrollmentLink(server.data, "demo-m2", server.url, EVENING));
    await waitText(member.page, "sync-card", "vai trò: tổ viên", 60_000);
    await waitText(member.page, "coming", "Chưa có lịch trực");

    // The leader opens the roster: the week starts tonight; ca1 tonight gets demo-m2.
    await leader.page.getByTestId("tab-team").click();
    await leader.page.getByTestId("team-admin").click();
    await waitShown(leader.page, "roster-status", 15_000);
    const tonight = await leader.page.getByTestId("plan-start").inputValue();
    assert.equal(tonight, "2026-12-04");
    // The week at a glance: tonight's ca1 is opened, then demo-m2 chosen (a check and the name).
    await leader.page.getByTestId(`plan-${tonight}-ca1`).click();
    const chip = leader.page.getByTestId(`plan-${tonight}-ca1-demo-m2`);
    await chip.click();
    assert.match(await chip.textContent(), /^✓ /, "a chosen member is marked by a check");
    await waitText(leader.page, `plan-${tonight}-ca1`, "Trần Thị Bình");
    assert.equal(await chip.getAttribute("aria-pressed"), "true");
    await chip.scrollIntoViewIfNeeded();
    await shot(leader.page, "80-leader-roster-vi-360");
    assert.deepEqual(await axeFindings(leader.page), [], "roster screen");
    await leader.page.getByTestId("plan-save").click();
    await waitText(leader.page, "toast", "Đã lưu lịch trực");
    await waitText(leader.page, "roster-status", "Trần Thị Bình");
    // Next week like this one, in two taps: the week before is read from the server and moved on.
    await leader.page.getByTestId("plan-start").fill("2026-12-11");
    await waitText(leader.page, "plan-2026-12-11-ca1", "chưa xếp ai");
    await leader.page.getByTestId("plan-copy-last").click();
    await waitText(leader.page, "plan-2026-12-11-ca1", "Trần Thị Bình");
    await leader.page.getByTestId("plan-save").click();
    await waitText(leader.page, "toast", "Đã lưu lịch trực");
    await leader.page.getByTestId("plan-start").fill(tonight);

    // The member's next sync brings it: tonight's ca1 is theirs, marked and suggested.
    await member.page.getByTestId("sync-now").click();
    await waitText(member.page, "toast", "Đã đồng bộ");
    await waitShown(member.page, "planned-ca1", 30_000);
    const [y, m, d] = tonight.split("-");
    await waitText(member.page, "coming", `${d}/${m}/${y}`);
    assert.equal(await member.page.getByTestId("slot-ca1").getAttribute("class"), "pick on", "the planned slot is offered");
    await member.page.getByTestId("coming").scrollIntoViewIfNeeded();
    await shot(member.page, "81-member-coming-shift-vi");

    // A new member, enrolled in person: the QR's link is read from the leader's screen.
    await leader.page.getByTestId("admin-members").click();
    await leader.page.getByTestId("new-name").fill("Hoàng Văn Mới");
    await leader.page.getByTestId("add-member-save").click();
    const row = leader.page.getByTestId("members").locator("li", { hasText: "Hoàng Văn Mới" });
    await row.waitFor();
    await row.locator("[data-testid^=code-]").click();
    await leader.page.getByTestId("enroll-qr").locator("svg").waitFor();
    // The code is read off the leader's screen as a camera would: the QR's pixels, decoded.
    await leader.page.waitForFunction(() => {
      const r = document.querySelector("[data-testid=enroll-qr] .qr svg").getBoundingClientRect();
      return r.top >= 0 && r.bottom <= document.querySelector(".tabs").getBoundingClientRect().top;
    });
    const qrShot = await leader.page.getByTestId("enroll-qr").locator(".qr svg").screenshot({ path: path.join(ARTIFACTS, "82-enroll-qr.png") });
    const png = PNG.sync.read(qrShot);
    const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    assert.ok(decoded, "the QR on the leader's screen reads");
    const link = decoded.data;
    assert.match(link, /#enroll=/);
    assert.equal(link, (await leader.page.getByTestId("enroll-link").textContent()).trim(), "the QR holds the link shown under it");
    await leader.page.getByTestId("enroll-qr").scrollIntoViewIfNeeded();
    await shot(leader.page, "82-leader-enroll-qr-vi-360");
    assert.deepEqual(await axeFindings(leader.page), [], "members screen");
    const fresh = await watchedPage(newCtx);
    await fresh.page.goto(link);
    await waitText(fresh.page, "sync-card", "vai trò: tổ viên", 60_000);
    // Single use: the same link again is refused.
    const again = await fetch(new URL("api/v1/enroll", server.url), {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ code: link.split("#enroll=")[1], device_id: "dev-second-use" }),
    });
    assert.equal((await again.json()).error, "bad_code", `second use answered ${again.status}`);

    // The member's phone is lost: the leader revokes it with a confirmation.
    await leader.page.getByTestId("admin-devices").click();
    const dev = leader.page.getByTestId("devices").locator("li", { hasText: "Trần" }).first();
    await dev.waitFor();
    await dev.locator("[data-testid^=revoke-]").click();
    await dev.locator("[data-testid^=revoke-confirm-]").click();
    await dev.getByText("đã thu hồi").waitFor();
    await shot(leader.page, "83-leader-devices-vi-360");
    await member.page.getByTestId("sync-now").click();
    await waitText(member.page, "toast", "thu hồi");

    // The route, edited on the map: checkpoint 1 moved onto checkpoint 2's place with a tap, renamed,
    // a sixth one added with a tap; saved, it reaches the new member's phone at its next sync.
    await leader.page.getByTestId("admin-route").click();
    await waitShown(leader.page, "route-map", 30_000);
    const tapAt = async (box) => {
      const target = await leader.page.getByTestId("route-map-tap").boundingBox();
      await leader.page.getByTestId("route-map-tap").click({ position: { x: box.x + box.width / 2 - target.x, y: box.y + box.height / 2 - target.y } });
    };
    await leader.page.getByTestId("route-move-1").click();
    await tapAt(await leader.page.getByTestId("route-point-2").locator("circle").nth(1).boundingBox());
    const [lat1, lon1] = (await leader.page.getByTestId("route-pos-1").textContent()).split(",").map(Number);
    const [lat2, lon2] = (await leader.page.getByTestId("route-pos-2").textContent()).split(",").map(Number);
    // Within a couple of pixels at the map's zoom: some metres.
    assert.ok(Math.abs(lat1 - lat2) < 0.0002 && Math.abs(lon1 - lon2) < 0.0002, `moved to ${lat1},${lon1}, aimed at ${lat2},${lon2}`);
    await leader.page.getByTestId("route-name-1").fill("Đầu ngõ 12 (cổng mới)");
    await leader.page.getByTestId("route-radius-1").fill("30");
    await leader.page.getByTestId("route-add").click();
    const mapBox = await leader.page.getByTestId("route-map-tap").boundingBox();
    await tapAt({ x: mapBox.x + 40, y: mapBox.y + 40, width: 0, height: 0 });
    await waitShown(leader.page, "route-row-6", 30_000);
    await leader.page.getByTestId("route-edit").scrollIntoViewIfNeeded();
    await shot(leader.page, "85-leader-route-edit-vi-360");
    assert.deepEqual(await axeFindings(leader.page), [], "route editor");
    await leader.page.getByTestId("route-save").click();
    await waitText(leader.page, "toast", "Đã lưu tuyến");
    await fresh.page.getByTestId("sync-now").click();
    await waitText(fresh.page, "toast", "Đã đồng bộ");
    const preview = await fresh.page.locator(".route-preview").textContent();
    assert.ok(preview.includes("Đầu ngõ 12 (cổng mới)") && preview.includes("Điểm 6"), preview);

    // Posters: one A4 page per checkpoint, with its number, name and QR code.
    await waitText(leader.page, "posters", "Điểm 6", 30_000);
    await leader.page.emulateMedia({ media: "print" });
    const pdf = path.join(ARTIFACTS, "86-posters.pdf");
    writeFileSync(pdf, await leader.page.pdf({ format: "A4" }));
    await leader.page.emulateMedia({ media: "screen" });
    execFileSync("pdftoppm", ["-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", pdf, path.join(ARTIFACTS, "86-poster-a4")]);
    const text = execFileSync("pdftotext", ["-layout", pdf, "-"], { encoding: "utf8" });
    const pages = text.split("\f").filter((p) => p.trim());
    assert.equal(pages.length, 6, text);
    assert.ok(pages[0].includes("Đầu ngõ 12 (cổng mới)") && pages[5].includes("Điểm 6"), text);

    // The next morning: nobody ran tonight's ca1, so the leader sees it as missed.
    await server.stop();
    server = await startServer({ data: server.data, port: server.port, clock: MORNING });
    await setClock(leaderCtx, MORNING);
    await leader.page.reload();
    await leader.page.getByTestId("tab-team").click();
    await leader.page.getByTestId("team-admin").click();
    await waitText(leader.page, "roster-missed", "04/12/2026, CA1: Trần Thị Bình");
    await leader.page.getByTestId("roster-missed").scrollIntoViewIfNeeded();
    await shot(leader.page, "84-leader-missed-vi-360");

    // The ward police officer reads who changed what.
    wardAdmin(server.data, ["add-member", "--team", "demo-team-1", "--id", "demo-o1", "--name", "Đỗ Văn Công", "--role", "officer"], MORNING);
    await setClock(officerCtx, MORNING);
    const officer = await watchedPage(officerCtx);
    await officer.page.goto(enrollmentLink(server.data, "demo-o1", server.url, MORNING));
    await waitText(officer.page, "sync-card", "vai trò: công an phường", 60_000);
    await officer.page.getByTestId("tab-team").click();
    await officer.page.getByTestId("team-admin").click();
    await officer.page.getByTestId("admin-audit").click();
    await waitText(officer.page, "audit", "Nguyễn Văn An: xếp lịch theo tuần");
    await waitText(officer.page, "audit", "thu hồi điện thoại");
    await waitText(officer.page, "audit", "thay tuyến");
    assert.equal(await leader.page.getByTestId("admin-audit").count(), 0, "a leader has no audit view");

    for (const p of [leader, member, fresh, officer]) assert.deepEqual(p.errors, [], "no page errors");
  } finally {
    await group.close();
    await server.stop();
  }
});
