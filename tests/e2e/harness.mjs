// Shared parts of the browser tests: the ward server on 127.0.0.1 and Debian's headless Chromium.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
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
 * built app served; `clock` an ISO time the server's clock starts at (src/clock.rs, as the app's).
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
  return ctx;
}

/**
 * Sets the app's clock (src/clock.rs) to `iso` for every page the context opens from now on, in the
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
  await loc.waitFor({ timeout });
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
