// Service worker: keeps the app shell so the app opens with no network at all.
// BUILD and SHELL are filled in by tools/stamp_sw.py at build time.
const BUILD = "__BUILD__";
const SHELL = __SHELL__;
const CACHE = `patrol-shell-${BUILD}`;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("patrol-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const hit = await cache.match(req, { ignoreSearch: true });
      if (hit) return hit;
      try {
        return await fetch(req);
      } catch (e) {
        // Offline and not cached: a navigation still gets the app.
        if (req.mode === "navigate") {
          const index = await cache.match("./index.html");
          if (index) return index;
        }
        throw e;
      }
    }),
  );
});
