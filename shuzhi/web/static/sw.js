// The checkpoint page's service worker: the page and its scripts come from the network when it answers and from
// this cache when it does not, so a checkpoint that lost its connection can still open the page and verify codes
// against the trust list kept in localStorage. Nothing else is cached: the API always goes to the network.
const CACHE = "shuzhi-checkpoint-v1";
const SHELL = ["checkpoint.html", "checkpoint.js", "verify.js", "common.js", "style.css"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const file = url.pathname.split("/").pop();
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !SHELL.includes(file)) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(event.request, copy));
        return response;
      })
      .catch(() => caches.match(event.request, {ignoreSearch: true})),
  );
});
