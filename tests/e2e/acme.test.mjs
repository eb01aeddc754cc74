// The ward server gets its own certificate from an ACME directory over TLS-ALPN-01, as it would from
// Let's Encrypt: here Pebble (Let's Encrypt's test server, from Debian) on 127.0.0.1, with
// pebble-challtestsrv answering DNS so that ward.test is 127.0.0.1. The certificate is cached in the
// data directory: after a restart, with the directory gone, the same certificate serves at once.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import tls from "node:tls";
import { startServer } from "./harness.mjs";

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A CA and a certificate for 127.0.0.1 signed by it, for Pebble's own HTTPS. */
function pebbleCertificate(dir) {
  const f = (n) => path.join(dir, n);
  const ssl = (...args) => execFileSync("openssl", args, { stdio: "ignore" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  ssl("req", "-x509", ...ec, "-keyout", f("ca.key"), "-out", f("ca.pem"), "-days", "36500", "-subj", "/CN=pebble test CA");
  ssl("req", ...ec, "-keyout", f("key.pem"), "-out", f("leaf.csr"), "-subj", "/CN=localhost");
  writeFileSync(f("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n");
  ssl("x509", "-req", "-in", f("leaf.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial",
    "-out", f("cert.pem"), "-days", "36500", "-extfile", f("ext.cnf"));
  return { ca: f("ca.pem"), cert: f("cert.pem"), key: f("key.pem") };
}

function run(cmd, args, env = {}) {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let log = "";
  child.stdout.on("data", (d) => { log += d; });
  child.stderr.on("data", (d) => { log += d; });
  return { child, log: () => log, stop: () => new Promise((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once("exit", done);
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 5000).unref();
    }) };
}

function get(url, ca) {
  return new Promise((resolve, reject) => {
    https.get(url, { ca }, (res) => {
      let body = "";
      res.on("data", (d) => { body += d; });
      res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: ${res.statusCode}`))));
    }).on("error", reject);
  });
}

async function until(what, f, ms = 60_000) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      if (Date.now() > end) throw new Error(`${what}: ${e.message}`);
    }
    if (Date.now() > end) throw new Error(`${what}: timed out`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The certificate ward.test presents on `port`, checked against `ca`; throws when not trusted. */
function served(port, ca) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port, servername: "ward.test", ca, ALPNProtocols: ["http/1.1"] }, () => {
      const cert = s.getPeerCertificate();
      const ok = s.authorized;
      s.end();
      ok ? resolve(cert) : reject(new Error(String(s.authorizationError)));
    });
    s.setTimeout(5000, () => s.destroy(new Error("no TLS handshake within 5 s")));
    s.on("error", reject);
    s.on("close", () => reject(new Error("closed before the handshake")));
  });
}

test("a certificate from an ACME directory over TLS-ALPN-01, cached across a restart", { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "patrol-e2e-acme-"));
  const [dirPort, mgmtPort, tlsPort, dnsPort, challMgmt] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const own = pebbleCertificate(dir);
  const config = path.join(dir, "pebble.json");
  writeFileSync(config, JSON.stringify({
    pebble: {
      listenAddress: `127.0.0.1:${dirPort}`, managementListenAddress: `127.0.0.1:${mgmtPort}`,
      certificate: own.cert, privateKey: own.key, httpPort: 5002, tlsPort, ocspResponderURL: "",
      externalAccountBindingRequired: false,
    },
  }));
  const dns = run("pebble-challtestsrv", ["-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", "-dns01", `127.0.0.1:${dnsPort}`,
    "-http01", "", "-https01", "", "-tlsalpn01", "", "-management", `127.0.0.1:${challMgmt}`]);
  const pebble = run("pebble", ["-config", config, "-dnsserver", `127.0.0.1:${dnsPort}`],
    { PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" });
  const caPem = readFileSync(own.ca, "utf8");
  let server;
  try {
    await until("pebble's directory", () => get(`https://127.0.0.1:${dirPort}/dir`, caPem));
    const acme = ["--acme-domain", "ward.test", "--acme-contact", "admin@ward.test",
      "--acme-directory", `https://127.0.0.1:${dirPort}/dir`, "--acme-directory-roots", own.ca];
    server = await startServer({ port: tlsPort, extra: acme });
    assert.equal(server.url, `https://127.0.0.1:${tlsPort}/`);
    const root = await get(`https://127.0.0.1:${mgmtPort}/roots/0`, caPem);
    const first = await until("a trusted certificate for ward.test", () => served(tlsPort, root));
    assert.match(first.subjectaltname, /DNS:ward\.test/);
    assert.ok(readdirSync(path.join(server.data, "acme")).some((f) => f.startsWith("cached_cert_")), "kept in <data>/acme");

    // Restarted while the certificate authority is gone, it serves the cached certificate at once:
    // the same one, with no new order.
    await server.stop();
    await pebble.stop();
    server = await startServer({ data: server.data, port: tlsPort, extra: acme });
    const again = await until("the cached certificate", () => served(tlsPort, root), 10_000);
    assert.equal(again.serialNumber, first.serialNumber);
  } catch (e) {
    console.log(pebble.log().slice(-3000));
    throw e;
  } finally {
    await server?.stop().catch(() => {});
    await pebble.stop();
    await dns.stop();
    if (server) rmSync(server.data, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});
