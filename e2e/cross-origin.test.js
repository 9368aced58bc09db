// Another web page, opened in the listener's own browser, against the server on loopback (open
// mode, and with loopback sources allowed, so that anything that got through would show):
// it can't read the API, can't add a source or start a scan (JSON POSTs are refused at the
// preflight; text/plain fetches and form posts, which need none, are refused by the server),
// and DNS rebinding finds a 421. An origin given with --cors-origin may read and play, and
// still change nothing. Headless Chromium; every host is 127.0.0.1.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { startServer, launchChromium } from "./server.js";

const MP3 = readFileSync(new URL("../demo/library/Aurora Sines/First Light/02 Morning Drift.mp3", import.meta.url));
let server, reader, browser, media, attacker, mediaRequests = 0;

function listen(handler) {
  const http = createServer(handler);
  return new Promise((resolve) => http.listen(0, "127.0.0.1", () => resolve(http)));
}

before(async () => {
  // Media a page would like the server to fetch for it: counted, so nothing fetched shows.
  media = await listen((req, res) => {
    mediaRequests += 1;
    res.writeHead(200, { "content-type": "audio/mpeg", "content-length": MP3.length });
    res.end(MP3);
  });
  // The other origin: http://localhost:PORT, another site than http://127.0.0.1:…
  attacker = await listen((req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<!doctype html><title>elsewhere</title><p>another site</p>");
  });
  server = await startServer(["--allow-private-sources"]);
  reader = await startServer(["--cors-origin", `http://localhost:${attacker.address().port}`]);
  browser = await launchChromium(["--host-resolver-rules=MAP rebind.test 127.0.0.1"]);
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await reader?.stop();
  media?.close();
  attacker?.close();
});

const mediaUrl = () => `http://127.0.0.1:${media.address().port}/secret.mp3`;
const json = async (url) => (await fetch(url)).json();

async function pageElsewhere() {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`http://localhost:${attacker.address().port}/`);
  return { context, page };
}

test("a page on another origin can neither read the API nor change anything", async () => {
  const before = { stats: await json(`${server.base}/api/v1/stats`), scan: await json(`${server.base}/api/v1/scan`) };
  const { context, page } = await pageElsewhere();
  const tried = await page.evaluate(async ({ api, media }) => {
    const attempt = (p) => p.then((r) => `answered ${r.type} ${r.status}`, (e) => `blocked: ${e.name}`);
    const body = JSON.stringify({ url: media });
    const out = {
      read: await attempt(fetch(`${api}/api/v1/search?q=dawn`)),
      jsonPost: await attempt(fetch(`${api}/api/v1/sources/http`, { method: "POST", headers: { "content-type": "application/json" }, body })),
      plainPost: await attempt(fetch(`${api}/api/v1/sources/http`, { method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" }, body })),
      plainScan: await attempt(fetch(`${api}/api/v1/scan`, { method: "POST", mode: "no-cors", body: "{}" })),
      deleteUser: await attempt(fetch(`${api}/api/v1/users/ada`, { method: "DELETE" })),
    };
    // The classic CSRF: a form posting JSON-looking text/plain into a hidden frame.
    const frame = Object.assign(document.createElement("iframe"), { name: "sink" });
    document.body.append(frame);
    const form = Object.assign(document.createElement("form"), {
      method: "POST", enctype: "text/plain", action: `${api}/api/v1/sources/http`, target: "sink",
    });
    const field = Object.assign(document.createElement("input"), { name: `{"url":"${media}","x":"`, value: `"}` });
    form.append(field);
    document.body.append(form);
    const loaded = new Promise((resolve) => frame.addEventListener("load", resolve, { once: true }));
    form.submit();
    await loaded;
    return out;
  }, { api: server.base, media: mediaUrl() });

  // Reading needs CORS, which the server gives no other origin; a JSON POST needs a preflight,
  // which it refuses, so it is never sent. The simple ones are sent, and answered no.
  assert.match(tried.read, /^blocked/);
  assert.match(tried.jsonPost, /^blocked/);
  assert.match(tried.deleteUser, /^blocked/);
  assert.equal(tried.plainPost, "answered opaque 0");
  assert.equal(tried.plainScan, "answered opaque 0");
  const after = { stats: await json(`${server.base}/api/v1/stats`), scan: await json(`${server.base}/api/v1/scan`) };
  assert.equal(after.stats.tracks, before.stats.tracks, "no source was added");
  assert.equal(typeof before.scan.scan.started_at, "number");
  assert.equal(after.scan.scan.started_at, before.scan.scan.started_at, "no scan was started");
  assert.equal(mediaRequests, 0, "the server fetched nothing for the page");
  await context.close();
});

test("DNS rebinding meets a 421: the server answers only to its own names", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const port = new URL(server.base).port;
  const landing = await page.goto(`http://rebind.test:${port}/`);
  assert.equal(landing.status(), 421);
  const tried = await page.evaluate(async (media) => ({
    read: (await fetch("/api/v1/search?q=dawn")).status,
    add: (await fetch("/api/v1/sources/http", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ url: media }) })).status,
  }), mediaUrl());
  assert.deepEqual(tried, { read: 421, add: 421 });
  assert.equal(mediaRequests, 0);
  await context.close();
});

test("an origin given with --cors-origin may read and play, and still changes nothing", async () => {
  const { context, page } = await pageElsewhere();
  const tried = await page.evaluate(async (api) => {
    const found = await (await fetch(`${api}/api/v1/search?q=drift`)).json();
    const { url } = await (await fetch(`${api}/api/v1/tracks/${found.tracks[0].id}/stream_url`)).json();
    const head = await fetch(new URL(url, api), { headers: { range: "bytes=0-99" } });
    const bytes = (await head.arrayBuffer()).byteLength;
    const scan = await fetch(`${api}/api/v1/scan`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })
      .then((r) => `answered ${r.status}`, (e) => `blocked: ${e.name}`);
    return { total: found.total, stream: head.status, bytes, scan };
  }, reader.base);
  assert.ok(tried.total >= 1, JSON.stringify(tried));
  assert.equal(tried.stream, 206);
  assert.equal(tried.bytes, 100);
  assert.match(tried.scan, /^blocked/, "CORS here is for reading only");
  await context.close();
});
