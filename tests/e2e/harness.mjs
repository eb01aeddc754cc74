// Shared parts of the browser tests: the ward server on 127.0.0.1 and Debian's headless Chromium.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const ARTIFACTS = path.join(ROOT, "tests/e2e/artifacts");
mkdirSync(ARTIFACTS, { recursive: true });

const FLAGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync",
];

const BIN = process.env.WARD_SERVER || path.join(ROOT, "target/debug/ward-server");

/** Events the ward server in `data` holds from the device of `member` (by name), as listed. */
export function storedFor(data, member) {
  const line = wardAdmin(data, ["list-devices", "--ward", "demo-ward"]).split("\n").find((l) => l.includes(member));
  if (!line) throw new Error(`no device of ${member} is listed`);
  return Number(line.trim().split(/\s{2,}/)[2]);
}

/** A TCP relay in front of `port` on 127.0.0.1 counting the bytes each way: what crosses the wire. */
export function wireCounter(port) {
  const counts = { down: 0, up: 0 };
  const relay = net.createServer((client) => {
    const upstream = net.connect(port, "127.0.0.1");
    client.on("data", (d) => { counts.up += d.length; });
    upstream.on("data", (d) => { counts.down += d.length; });
    client.pipe(upstream).on("error", () => client.destroy());
    upstream.pipe(client).on("error", () => upstream.destroy());
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  return new Promise((resolve) => relay.listen(0, "127.0.0.1", () => resolve({ counts, port: relay.address().port, close: () => relay.close() })));
}

/**
 * A one-time enrollment link for `member` of the ward in `data`, naming `publicUrl`; `clock`: the
 * ISO time the server runs at, when it was started with one.
 */
export function enrollmentLink(data, member, publicUrl, clock = null) {
  const out = wardAdmin(data, ["issue-code", "--member", member, "--public-url", publicUrl], clock);
  return /Enrollment link \(one use\): (\S+)/.exec(out)[1];
}

/** The context's first page, and the list its uncaught errors are collected into. */
export async function watchedPage(ctx) {
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  return { page, errors };
}

/** Runs a ward-server admin command on `data` (at ISO time `clock`, if given) and returns its output. */
export function wardAdmin(data, args, clock = null) {
  return execFileSync(BIN, ["--data", data, ...args], { encoding: "utf8", env: { ...process.env, ...serverEnv(clock) } });
}

/** The ward server's environment: quiet logs, and its clock at ISO time `clock` if given. */
function serverEnv(clock) {
  return { RUST_LOG: "warn", ...(clock ? { PATROL_CLOCK_OFFSET_MS: String(offsetTo(clock)) } : {}) };
}

/** Milliseconds from this machine's clock to `iso`. */
function offsetTo(iso) {
  const offset = Date.parse(iso) - Date.now();
  if (Number.isNaN(offset)) throw new Error(`not a time: ${iso}`);
  return offset;
}

/**
 * Starts the ward server on `port` (0: a free one) with data in `data` (default: a fresh folder);
 * `demo` creates the demo ward; `extra` are more `serve` flags (a certificate, say); `dist` the
 * built app served; `clock` an ISO time the server's clock starts at (crates/clock, as the app's).
 * Resolves to { url, port, data, stop }.
 */
export function startServer({ data = mkdtempSync(path.join(os.tmpdir(), "patrol-ward-")), port = 0, demo = false, extra = [], dist = path.join(ROOT, "dist"), clock = null } = {}) {
  return new Promise((resolve, reject) => {
    const args = ["--data", data, "serve", "--addr", `127.0.0.1:${port}`, "--dist", dist, ...extra];
    const child = spawn(BIN, demo ? [...args, "--demo"] : args, {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, ...serverEnv(clock) },
    });
    child.on("error", reject);
    let exited = false;
    child.once("exit", () => { exited = true; });
    child.stdout.on("data", (chunk) => {
      const m = /Serving on (https?):\/\/127\.0\.0\.1:(\d+)\//.exec(chunk.toString());
      if (m) {
        resolve({
          url: `${m[1]}://127.0.0.1:${m[2]}/`,
          port: Number(m[2]),
          data,
          stop: () => new Promise((done) => {
            if (exited) return done();
            child.once("exit", done);
            child.kill("SIGTERM");
          }),
        });
      }
    });
  });
}

/**
 * Opens headless Chromium on a persistent profile as a 360×640 phone with GPS allowed; `args` are
 * more Chromium flags, `timezoneId` the phone's own zone (the app must not care).
 */
export async function launch(profileDir, geolocation, { args = [], timezoneId = "Asia/Ho_Chi_Minh" } = {}) {
  const ctx = await chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [...FLAGS, ...args],
    viewport: { width: 360, height: 640 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: "vi-VN",
    timezoneId,
    permissions: ["geolocation"],
    geolocation,
  });
  watchContext(ctx);
  return ctx;
}

/** The last lines each browser context logged (console, uncaught errors, failed requests). */
const LOGS = new WeakMap();

/** Keeps the last 40 lines `ctx` logs, for a failing test to print. */
function watchContext(ctx) {
  const lines = [];
  LOGS.set(ctx, lines);
  const keep = (line) => { lines.push(`${new Date().toISOString().slice(11, 23)} ${line}`); if (lines.length > 40) lines.shift(); };
  ctx.on("console", (m) => keep(`console.${m.type()}: ${m.text()}`));
  ctx.on("weberror", (e) => keep(`error: ${e.error()}`));
  ctx.on("requestfailed", (r) => keep(`failed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ""}`));
  ctx.on("page", (p) => p.on("worker", (w) => keep(`worker: ${w.url()}`)));
}

/**
 * Runs `wait`; if it throws, saves a screenshot of `page` as FAIL-`what`.png and throws the error
 * again with what the screen said (its message, if any) and what the browser logged last.
 */
async function explained(page, what, wait) {
  try {
    return await wait();
  } catch (e) {
    const name = `FAIL-${what.replace(/[^\w-]+/g, "_")}`;
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) }).catch(() => {});
    const toast = await page.getByTestId("toast").allTextContents().catch(() => []);
    const screen = await page.locator("main, #main").first().innerText({ timeout: 1000 }).catch(() => "");
    const log = LOGS.get(page.context()) ?? [];
    e.message += `\n  screenshot: tests/e2e/artifacts/${name}.png\n  message on screen: ${toast.join(" | ") || "none"}` +
      `\n  screen text: ${screen.replace(/\s+/g, " ").slice(0, 600)}\n  browser's last lines:\n    ${log.join("\n    ") || "none"}`;
    throw e;
  }
}

/** Waits until the element with data-testid `id` is visible; on failure says what the screen showed. */
export async function waitShown(page, id, timeout = 15000) {
  await explained(page, id, () => page.getByTestId(id).first().waitFor({ timeout }));
}

/**
 * `count` phones, each a browser on its own fresh profile with the app's clock at ISO time `clock`
 * (see setClock). Resolves to { ctxs, close }: close() shuts them and removes their profiles.
 */
export async function phones(label, count, geolocation, clock) {
  const profiles = [], ctxs = [];
  const close = async () => {
    for (const c of ctxs) await c.close().catch(() => {});
    for (const p of profiles) rmSync(p, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i++) {
      profiles.push(mkdtempSync(path.join(os.tmpdir(), `patrol-e2e-${label}-${i}-`)));
      const ctx = await launch(profiles[i], geolocation);
      await setClock(ctx, clock);
      ctxs.push(ctx);
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { ctxs, close };
}

/**
 * Sets the app's clock (crates/clock) to `iso` for every page the context opens from now on, in the
 * page and its worker alike; time then runs on from there. A later call moves it again.
 */
export async function setClock(ctx, iso) {
  const offset = offsetTo(iso);
  await ctx.addInitScript((ms) => { globalThis.PATROL_CLOCK_OFFSET_MS = ms; }, offset);
}

/** Saves a screenshot under tests/e2e/artifacts. */
export async function shot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: false });
}

/** Waits until the element with data-testid `id` contains `text`, and returns its text. */
export async function waitText(page, id, text, timeout = 15000) {
  const loc = page.getByTestId(id).filter({ hasText: text }).first();
  await explained(page, `${id}-${text}`, () => loc.waitFor({ timeout }));
  return loc.textContent();
}

/** axe-core's serious and critical findings on `page` as it is, one line each. */
export async function axeFindings(page) {
  if (!(await page.evaluate(() => "axe" in globalThis))) {
    await page.addScriptTag({ content: readFileSync(path.join(ROOT, "node_modules/axe-core/axe.min.js"), "utf8") });
  }
  return page.evaluate(async () => (await axe.run(document, { resultTypes: ["violations"] })).violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}) at ${n.target.join(" ")}: ${n.failureSummary}`)));
}

/** An EXIF APP1 segment as a phone camera writes it: orientation 6 (rotate 90°) and a GPS position. */
function exifApp1() {
  const le16 = (v) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
  const le32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
  const entry = (tag, type, count, value) => Buffer.concat([le16(tag), le16(type), le32(count), value]);
  // IFD0 at 8: Orientation = 6, GPS IFD pointer -> 38.
  const ifd0 = Buffer.concat([le16(2), entry(0x0112, 3, 1, Buffer.concat([le16(6), le16(0)])), entry(0x8825, 4, 1, le32(38)), le32(0)]);
  // GPS IFD at 38: latitude ref N, latitude 21/1 1/1 42/1 (rationals at 68).
  const gps = Buffer.concat([le16(2), entry(0x0001, 2, 2, Buffer.from("N\0\0\0")), entry(0x0002, 5, 3, le32(68)), le32(0)]);
  const rationals = Buffer.concat([le32(21), le32(1), le32(1), le32(1), le32(42), le32(1)]);
  const tiff = Buffer.concat([Buffer.from("II*\0"), le32(8), ifd0, gps, rationals]);
  if (8 + ifd0.length !== 38 || 38 + gps.length !== 68) throw new Error("EXIF layout");
  const body = Buffer.concat([Buffer.from("Exif\0\0"), tiff]);
  const len = Buffer.alloc(2); len.writeUInt16BE(body.length + 2);
  return Buffer.concat([Buffer.from([0xff, 0xe1]), len, body]);
}

/** Width and height from a JPEG's frame header. */
export function jpegSize(bytes) {
  let i = 2;
  while (i < bytes.length) {
    const marker = bytes[i + 1];
    const len = bytes.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { height: bytes.readUInt16BE(i + 5), width: bytes.readUInt16BE(i + 7) };
    }
    i += 2 + len;
  }
  throw new Error("no frame header");
}

/** A 4000 × 3000 JPEG (12 MP) drawn in the page (sky, street, sensor grain), with a camera's EXIF spliced in. */
export async function cameraPhoto(page) {
  const b64 = await page.evaluate(async () => {
    const c = new OffscreenCanvas(4000, 3000);
    const g = c.getContext("2d");
    const sky = g.createLinearGradient(0, 0, 0, 3000);
    sky.addColorStop(0, "#0b1a33"); sky.addColorStop(1, "#c9a35a");
    g.fillStyle = sky; g.fillRect(0, 0, 4000, 3000);
    let s = 12345;
    for (let i = 0; i < 40000; i++) {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      g.fillStyle = `hsl(${s % 360} 60% ${(s >> 8) % 80}%)`;
      g.fillRect(s % 4000, (s >> 4) % 3000, 6 + (s % 30), 4 + (s % 18));
    }
    g.fillStyle = "#fff"; g.font = "bold 300px sans-serif"; g.fillText("59X1-234.56", 800, 1700);
    // A camera's sensor grain, so the file weighs what a phone's does (a few megabytes).
    const img = g.getImageData(0, 0, 4000, 3000);
    const px = img.data;
    for (let i = 0; i < px.length; i += 4) {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      const n = (s >> 16) % 25 - 12;
      px[i] += n; px[i + 1] += n; px[i + 2] += n;
    }
    g.putImageData(img, 0, 0);
    const blob = await c.convertToBlob({ type: "image/jpeg", quality: 0.92 });
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let bin = "";
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(bin);
  });
  const plain = Buffer.from(b64, "base64");
  return Buffer.concat([plain.subarray(0, 2), exifApp1(), plain.subarray(2)]);
}

/** Asserts that a page's code came from its app's page folder, and nothing from another app's or
 * build's (`folders`: the app folders its files were loaded from; the store's may be among them). */
export function ranFrom(folders, page, store, what) {
  assert.ok(folders.includes(page), `${what}: ${folders}`);
  assert.deepEqual(folders.filter((f) => f !== page && f !== store), [], `${what}: ${folders}`);
}

/** The cells of the table with data-testid `id` on `page`, header row first. */
export async function cells(page, id) {
  return page.getByTestId(id).evaluate((t) =>
    [...t.querySelectorAll("tr")].map((tr) => [...tr.querySelectorAll("th,td")].map((c) => c.textContent)));
}

/** A CSV file as rows of cells (the app's writer quotes only what needs it; a byte-order mark first). */
export function parseCsv(text) {
  assert.equal(text.charCodeAt(0), 0xfeff, "a byte-order mark for spreadsheets");
  const rows = [];
  let row = [], cell = "", quoted = false;
  for (let i = 1; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; }
    else if (c === "\r" && text[i + 1] === "\n") { row.push(cell); rows.push(row); row = []; cell = ""; i++; }
    else cell += c;
  }
  return rows;
}

/**
 * Enrolls device `deviceId` of `member` through the API (not a browser) on `server`, with a code
 * issued at ISO time `clock` if the server runs at one; the enrollment's answer (token, setup).
 */
export async function enrollApi(server, member, deviceId, clock = null) {
  const code = /#enroll=([A-Za-z0-9]+)/.exec(enrollmentLink(server.data, member, server.url, clock))[1];
  const r = await fetch(`${server.url}api/v1/enroll`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ code, device_id: deviceId }),
  });
  const answer = await r.json();
  assert.equal(r.status, 200, JSON.stringify(answer));
  return answer;
}
