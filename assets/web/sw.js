// Service worker: keeps the app shell so the app opens with no network at all.
// BUILD, SHELL and LEADER are filled in by tools/finish_dist.py at build time.
//
// Every device keeps the shell with the members' app; a device the app found a leader's, officer's
// or admin's registers this script as sw.js?build=leader and keeps the leaders' app too (the page
// runs that app only once it is kept, so a leader offline never opens an app that is not here).
//
// Pages (index.html) are asked of the network first, so an online start runs the newest build;
// with no answer within NAVIGATION_WAIT_MS, or none at all, the cached page of this build opens.
// Everything else is build-hashed (app/<build>/...) and served from the cache first: a page of
// build A only ever asks for A's files, so A's JS never meets B's wasm.
const BUILD = "__BUILD__";
const SHELL = __SHELL__;
const LEADER = __LEADER__;
const KEEP = new URL(self.location.href).searchParams.get("build") === "leader" ? SHELL.concat(LEADER) : SHELL;
const CACHE = `patrol-shell-${BUILD}`;
const NAVIGATION_WAIT_MS = 3000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((c) => c.addAll(KEEP))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("patrol-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

async function cachedPage() {
  const cache = await caches.open(CACHE);
  return cache.match("./index.html");
}

async function navigate(req) {
  const network = fetch(req);
  const late = new Promise((resolve) => setTimeout(resolve, NAVIGATION_WAIT_MS, null));
  try {
    const res = await Promise.race([network, late]);
    if (res && res.ok) return res;
  } catch (e) {
    // Offline: fall through to the cached page.
  }
  const page = await cachedPage();
  return page || network;
}

async function asset(req) {
  const hit = await caches.match(req, { ignoreSearch: true });
  return hit || fetch(req);
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  event.respondWith(req.mode === "navigate" ? navigate(req) : asset(req));
});
