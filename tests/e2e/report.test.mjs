// A leader makes a report of tonight on the ward server, reads its tables and the chart, exports
// the CSV files and finds in them exactly what the page shows, and prints it: the printed page is
// rendered to PDF by the browser (an artifact) and a screenshot of the print layout is taken.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { ARTIFACTS, axeFindings, cells, enrollmentLink, launch, parseCsv, shot, startServer, waitText, watchedPage, waitShown } from "./harness.mjs";

const CP1 = { latitude: 21.02852, longitude: 105.85421, accuracy: 8 };

test("a leader's report: tables, chart, CSV equal to the page, printed to PDF", { timeout: 240_000 }, async () => {
  const server = await startServer({ demo: true });
  const profile = mkdtempSync(path.join(os.tmpdir(), "patrol-e2e-report-"));
  const ctx = await launch(profile, CP1);
  try {
    const { page, errors } = await watchedPage(ctx);
    await page.goto(enrollmentLink(server.data, "demo-m1", server.url));
    await waitText(page, "sync-card", "vai trò: tổ trưởng", 60_000);
    // Nothing tapped yet: the phone moves to the leaders' app by itself, reloading once.
    await waitShown(page, "tab-team", 60_000);

    // Tonight's shift with two observations, one urgent, synced to the ward.
    await page.getByTestId("slot-ca1").click();
    await page.getByTestId("member-demo-m1").check();
    await page.getByTestId("member-demo-m2").check();
    await page.getByTestId("start").click();
    await page.getByTestId("tab-observe").click();
    await page.getByTestId("cat-drugs").click();
    await page.getByTestId("obs-save").click();
    await waitText(page, "toast", "Đã lưu");
    await page.getByTestId("cat-fighting").click();
    await page.locator("details.details summary").click();
    await page.getByTestId("obs-urgent").check();
    await page.getByTestId("obs-save").click();
    await waitText(page, "toast", "Đã lưu");
    await waitText(page, "sync-status", "Đã đồng bộ hết", 30_000);

    // The report of tonight, made on the ward server.
    await page.getByTestId("tab-team").click();
    await page.getByTestId("team-reports").click();
    await page.getByTestId("report-kind").selectOption("night");
    await page.getByTestId("report-make").click();
    await waitShown(page, "report", 30_000);
    const summary = await cells(page, "table-summary");
    const row = (label) => summary.find((r) => r[0] === label);
    assert.deepEqual(summary[0], ["Chỉ tiêu", "Kỳ này", "Kỳ trước", "Cùng kỳ năm trước"]);
    assert.equal(row("Ca đã tuần tra")[1], "1");
    assert.equal(row("Sự việc ghi nhận")[1], "2");
    assert.equal(row("Khẩn cấp")[1], "1");
    assert.equal(row("Lượt người tham gia")[1], "2");
    const hours = await cells(page, "table-hours");
    assert.equal(hours.slice(1).reduce((n, r) => n + Number(r[1]), 0), 2, "both observations in the hours");
    assert.equal(await page.getByTestId("hour-chart").locator("rect.bar").count(), 24);
    await shot(page, "80-report-vi-360");

    // Each CSV file holds exactly the rows the page shows.
    for (const name of ["summary", "teams", "categories", "actions", "hours", "places"]) {
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId(`csv-${name}`).click()]);
      assert.equal(download.suggestedFilename(), `${name}.csv`);
      const file = path.join(ARTIFACTS, `report-${name}.csv`);
      await download.saveAs(file);
      assert.deepEqual(parseCsv(readFileSync(file, "utf8")), await cells(page, `table-${name}`), name);
    }

    // axe on the report, then the print: the browser's PDF, and its first page as a picture.
    assert.deepEqual(await axeFindings(page), []);
    const pdf = path.join(ARTIFACTS, "81-report.pdf");
    writeFileSync(pdf, await page.pdf({ format: "A4" }));
    execFileSync("pdftoppm", ["-png", "-r", "72", "-f", "1", "-l", "1", "-singlefile", pdf, path.join(ARTIFACTS, "81-report-print-a4")]);
    const text = execFileSync("pdftotext", ["-layout", pdf, "-"], { encoding: "utf8" });
    assert.match(text, /Báo cáo tuần tra: Tổ NDTT số 1/, "the heading is printed");
    // The ward's usual layout: letterhead with the national motto, place and date, title, signature.
    for (const want of [/CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM/, /Độc lập - Tự do - Hạnh phúc/, /TỔ NDTT SỐ 1/,
      /ngày \d{1,2} tháng \d{1,2} năm \d{4}/, /BÁO CÁO KẾT QUẢ TUẦN TRA/, /Nơi nhận:/, /TỔ TRƯỞNG/, /\(Ký, ghi rõ họ tên\)/]) {
      assert.match(text, want, `the print has ${want}`);
    }
    assert.doesNotMatch(text, /Lập báo cáo|KHẨN CẤP/, "controls and the app's frame are not printed");
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close().catch(() => {});
    await server.stop().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
    rmSync(server.data, { recursive: true, force: true });
  }
});
