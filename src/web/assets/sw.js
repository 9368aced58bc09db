// The service worker: keeps the app shell so the player opens with the server out of reach.
// The shell is fetched from the network first (an upgraded server's app shows at once) and
// from the cache when that fails. The API and streams are never cached here; saved audio lives
// in its own cache (offline.js).

const SHELL_CACHE = "anyaudio-shell-v4";
const SHELL = [
  "/", "/app.css", "/app.js", "/dom.js", "/api.js", "/router.js", "/components.js", "/views.js",
  "/search.js", "/keys.js", "/theme.js", "/playerbar.js", "/shared-player.js",
  "/player.js", "/store.js", "/habits.js", "/offline.js", "/account.js", "/marks.js",
  "/manifest.webmanifest", "/icon.svg", "/icon-192.png", "/icon-512.png", "/icon-maskable-512.png",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("anyaudio-shell-") && k !== SHELL_CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  const path = url.pathname === "/index.html" ? "/" : url.pathname;
  if (!SHELL.includes(path)) return; // API, streams: straight to the network
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(SHELL_CACHE).then((cache) => cache.put(path, copy));
        }
        return response;
      })
      .catch(async () => (await caches.match(path)) ?? Response.error()),
  );
});
