// Saved for offline: a track's whole audio in the Cache API, under a key of our own (stream
// URLs expire), played back through a blob: URL so it plays and seeks with no server at all.

const CACHE = "anyaudio-audio-v1";

const keyFor = (id) => new URL(`/offline-audio/${encodeURIComponent(id)}`, location.origin).href;

export const supported = "caches" in globalThis;

/**
 * Fetches `streamUrl` whole and stores it for `id`. The body goes to the cache as it arrives
 * (not held in memory); `onProgress(received, total)` follows it. Returns the size in bytes.
 */
export async function save(id, streamUrl, onProgress = () => {}) {
  const response = await fetch(streamUrl);
  if (!response.ok) throw new Error(`the server answered ${response.status}`);
  const total = Number(response.headers.get("content-length")) || 0;
  let received = 0;
  const counter = new TransformStream({
    transform(chunk, controller) {
      received += chunk.byteLength;
      onProgress(received, total);
      controller.enqueue(chunk);
    },
  });
  const headers = { "content-type": response.headers.get("content-type") ?? "application/octet-stream" };
  const cache = await caches.open(CACHE);
  await cache.put(keyFor(id), new Response(response.body.pipeThrough(counter), { headers }));
  if (total && received !== total) {
    await cache.delete(keyFor(id));
    throw new Error(`the download ended early (${received} of ${total} bytes)`);
  }
  navigator.storage?.persist?.().catch(() => {}); // ask the browser not to evict it
  return received;
}

/** A blob: URL of the saved audio of `id` (revoke it when done), or null. */
export async function url(id) {
  if (!supported) return null;
  const response = await (await caches.open(CACHE)).match(keyFor(id));
  return response ? URL.createObjectURL(await response.blob()) : null;
}

export async function remove(id) {
  if (supported) await (await caches.open(CACHE)).delete(keyFor(id));
}

/** Ids with audio in the cache. */
export async function ids() {
  if (!supported) return new Set();
  const keys = await (await caches.open(CACHE)).keys();
  return new Set(keys.map((r) => decodeURIComponent(new URL(r.url).pathname.split("/").pop())));
}

/** The browser's figures for this origin: {usage, quota} in bytes, where it tells them. */
export async function estimate() {
  return (await navigator.storage?.estimate?.()) ?? {};
}
