// The web player in headless Chromium against the real server on the demo library: search with
// autocomplete, play and seek, next track, the queue, favourites and history across a reload,
// suggestions after listening, keyboard and Media Session, and a track saved for offline that
// plays with the server stopped. Set ANYAUDIO_SCREENSHOTS=DIR to also write screenshots there.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startServer, launchChromium } from "./server.js";

const SHOTS = process.env.ANYAUDIO_SCREENSHOTS;
let server, browser;

before(async () => {
  server = await startServer();
  browser = await launchChromium();
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function open(base = server.base, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 }, ...options });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.errors = errors;
  // Every request the page makes is for something that exists: no cover asked for in vain.
  const notFound = [];
  page.on("response", (r) => {
    if (r.status() === 404) notFound.push(r.url());
  });
  page.notFound = notFound;
  await page.goto(`${base}/`);
  await page.waitForSelector("html[data-ready=true]");
  return { context, page };
}

async function shot(page, name) {
  if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** Waits until the <audio> element has played past `seconds`. */
async function playingPast(page, seconds) {
  await page.waitForFunction((s) => {
    const a = document.getElementById("audio");
    return !a.paused && a.currentTime > s;
  }, seconds, { timeout: 15000 });
}

const nowTitle = (page) => page.textContent("#now-title");

/** Ends the current track by seeking to its last second and letting it play out. */
async function listenToTheEnd(page) {
  const title = await nowTitle(page);
  await page.evaluate(() => {
    const a = document.getElementById("audio");
    a.currentTime = a.duration - 0.6;
  });
  await page.waitForFunction((t) => document.getElementById("now-title").textContent !== t || document.getElementById("audio").ended, title, { timeout: 15000 });
}

test("search with autocomplete, play, seek to 70% and play on, served as 206", async () => {
  const { context, page } = await open();
  const partials = [];
  page.on("response", (r) => {
    if (r.url().includes("/stream/") && r.status() === 206) partials.push(r.headers()["content-range"]);
  });
  await page.fill("#q", "morn");
  await page.waitForSelector("#suggestions li[role=option]");
  const suggested = await page.$$eval("#suggestions li", (lis) => lis.map((l) => l.dataset.text));
  assert.ok(suggested.includes("Morning Drift"), JSON.stringify(suggested));
  // Keyboard: down to the suggestion, Enter searches it.
  const index = suggested.indexOf("Morning Drift");
  for (let i = 0; i <= index; i++) await page.press("#q", "ArrowDown");
  assert.equal(await page.getAttribute("#q", "aria-activedescendant"), `suggestion-${index}`);
  await page.press("#q", "Enter");
  await page.waitForSelector('main[data-view=search] .track[data-track-id] >> text="Morning Drift"');
  // The album's cover (cover.png beside the tracks) shows: the API's `artwork` of the track names
  // the artwork endpoint.
  await page.waitForFunction(() => {
    const img = document.querySelector('main .track[data-track-id] .art img');
    return img && img.complete && img.naturalWidth === 240;
  });
  await page.click('main .track:has-text("Morning Drift") .track-main');
  await playingPast(page, 0.3);
  await shot(page, "search");
  assert.equal(await nowTitle(page), "Morning Drift");

  // Seek with the seek bar, as a listener drags it.
  const target = await page.evaluate(() => {
    const seek = document.getElementById("seek");
    const to = Number(seek.max) * 0.7;
    seek.value = String(to);
    seek.dispatchEvent(new Event("input", { bubbles: true }));
    seek.dispatchEvent(new Event("change", { bubbles: true }));
    return to;
  });
  assert.ok(target > 10, `duration known: ${target}`);
  await page.waitForFunction((t) => document.getElementById("audio").currentTime > t + 0.3, target, { timeout: 15000 });
  const at = await page.evaluate(() => document.getElementById("audio").currentTime);
  assert.ok(at - target < 3, `playing on from the seek point: ${at} vs ${target}`);
  assert.ok(partials.length > 0, "the stream was served with 206 Partial Content");

  // Next and previous within the search results.
  const results = await page.$$eval("main .track .title", (els) => els.map((e) => e.textContent));
  if (results.length > 1) {
    await page.click("#next");
    await page.waitForFunction((t) => document.getElementById("now-title").textContent === t, results[results.indexOf("Morning Drift") + 1] ?? results[1]);
    await playingPast(page, 0.2);
  }
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.notFound, [], "no request answered 404");
  await context.close();
});

test("a playlist plays in order; next, previous, the queue reordered and cleared", async () => {
  const { context, page } = await open();
  await page.click('nav.side a[data-view=playlists]');
  await page.waitForSelector('main[data-view=playlists] .card');
  await shot(page, "playlists");
  await page.click('main .card:has-text("Demo Sampler")');
  await page.waitForSelector('main[data-view=playlist] h1:text("Demo Sampler")');
  const titles = await page.$$eval("main .track .title", (els) => els.map((e) => e.textContent));
  assert.deepEqual(titles, ["Halo Tones", "Åce of Sines"]);
  await page.click('main .actions button:has-text("Play all")');
  await playingPast(page, 0.2);
  assert.equal(await nowTitle(page), "Halo Tones");
  await page.click("#next");
  await page.waitForFunction(() => document.getElementById("now-title").textContent === "Åce of Sines");
  await playingPast(page, 0.2);
  await page.evaluate(() => (document.getElementById("audio").currentTime = 0.5)); // "previous" at < 3 s goes back
  await page.click("#prev");
  await page.waitForFunction(() => document.getElementById("now-title").textContent === "Halo Tones");

  // Add to the queue from another view, reorder, clear.
  await page.fill("#q", "dawn");
  await page.press("#q", "Enter");
  await page.waitForSelector('main[data-view=search] .track:has-text("Dawn Chorus")');
  await page.click('main .track:has-text("Dawn Chorus") summary');
  await page.click('main .track:has-text("Dawn Chorus") button:has-text("Add to queue")');
  await page.click("#queue-toggle");
  const queued = () => page.$$eval("#queue-list .title", (els) => els.map((e) => e.textContent));
  assert.deepEqual(await queued(), ["Halo Tones", "Åce of Sines", "Dawn Chorus"]);
  await shot(page, "queue");
  await page.click('#queue-list button[aria-label="Move “Dawn Chorus” up"]');
  assert.deepEqual(await queued(), ["Halo Tones", "Dawn Chorus", "Åce of Sines"]);
  await page.click("#next");
  await page.waitForFunction(() => document.getElementById("now-title").textContent === "Dawn Chorus");
  await page.click("#queue-clear");
  assert.deepEqual(await queued(), ["Dawn Chorus"]);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.notFound, [], "no request answered 404");
  await context.close();
});

test("favourites, history and the queue survive a reload; suggestions appear after listening", async () => {
  const { context, page } = await open();
  await page.goto(`${server.base}/#/home`);
  await page.waitForSelector('main[data-view=home] .section:has-text("Suggested for you") .empty');
  await page.goto(`${server.base}/#/playlist?id=recent`);
  await page.waitForSelector("main[data-view=playlist] .track");
  await page.click("main .actions button:has-text('Play all')");
  await playingPast(page, 0.2);
  const first = await nowTitle(page);
  await page.click("#fav");
  assert.equal(await page.getAttribute("#fav", "aria-pressed"), "true");
  await listenToTheEnd(page);
  await playingPast(page, 0.2);
  const second = await nowTitle(page);
  assert.notEqual(second, first);
  await listenToTheEnd(page);
  await playingPast(page, 0.2);
  const third = await nowTitle(page);

  await page.reload();
  await page.waitForSelector("html[data-ready=true]");
  await page.waitForFunction((t) => document.getElementById("now-title").textContent === t, third);
  await page.goto(`${server.base}/#/saved`);
  await page.waitForSelector(`main[data-view=saved] .track:has-text("${first}")`);
  await page.goto(`${server.base}/#/history`);
  await page.waitForSelector(`main[data-view=history] .track:has-text("${second}")`);
  await page.waitForSelector(`main[data-view=history] .track:has-text("${first}")`);

  await page.goto(`${server.base}/#/home`);
  await page.waitForSelector('main[data-view=home] .section:has-text("Suggested for you") .track');
  const reasons = await page.$$eval('main .section:has-text("Suggested for you") .reason', (els) => els.map((e) => e.textContent));
  assert.ok(reasons.length > 0 && reasons.every((r) => r.length > 0), JSON.stringify(reasons));
  const suggested = await page.$$eval('main .section:has-text("Suggested for you") .track .title', (els) => els.map((e) => e.textContent));
  assert.ok(!suggested.includes(first) && !suggested.includes(second), `just-heard tracks are not suggested: ${suggested}`);
  await shot(page, "home");
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.notFound, [], "no request answered 404");
  await context.close();
});

test("keyboard shortcuts and the Media Session follow the player", async () => {
  const { context, page } = await open();
  await page.goto(`${server.base}/#/playlist?id=recent`);
  await page.waitForSelector("main[data-view=playlist] .track");
  await page.click("main .actions button:has-text('Play all')");
  await playingPast(page, 0.5);
  const title = await nowTitle(page);
  const session = await page.evaluate(() => navigator.mediaSession.metadata?.title);
  assert.equal(session, title);
  await page.focus("main");
  await page.keyboard.press("Space");
  await page.waitForFunction(() => document.getElementById("audio").paused);
  const before = await page.evaluate(() => document.getElementById("audio").currentTime);
  await page.keyboard.press("ArrowRight");
  const after = await page.evaluate(() => document.getElementById("audio").currentTime);
  assert.ok(Math.abs(after - before - 5) < 0.5, `ArrowRight seeks 5 s: ${before} -> ${after}`);
  await page.keyboard.press("Space");
  await page.waitForFunction(() => !document.getElementById("audio").paused);
  await page.keyboard.press("Shift+ArrowRight");
  await page.waitForFunction((t) => document.getElementById("now-title").textContent !== t, title);
  assert.equal(await page.evaluate(() => navigator.mediaSession.metadata?.title), await nowTitle(page));
  // The theme toggle: system -> light -> dark.
  await page.click("#theme");
  await page.click("#theme");
  assert.equal(await page.getAttribute("html", "data-theme"), "dark");
  await shot(page, "dark");
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.notFound, [], "no request answered 404");
  await context.close();
});

test("a track saved for offline plays with the server stopped", async () => {
  const own = await startServer();
  const { context, page } = await open(own.base);
  await page.waitForFunction(() => navigator.serviceWorker.controller || navigator.serviceWorker.ready);
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.fill("#q", "cafe noir");
  await page.press("#q", "Enter");
  const row = 'main .track:has-text("Café Noir")';
  await page.waitForSelector(row);
  await page.click(`${row} summary`);
  await page.click(`${row} button:has-text("Save for offline")`);
  await page.waitForSelector('#toast:has-text("available offline")', { timeout: 15000 });
  await page.goto(`${own.base}/#/offline`);
  await page.waitForSelector('main[data-view=offline] .track:has-text("Café Noir")');
  const usage = await page.textContent("#offline-usage");
  assert.match(usage, /^1 song, \d+(\.\d)? (KB|MB)/);
  await shot(page, "offline");

  await own.stop();
  await page.reload(); // the service worker serves the app
  await page.waitForSelector("html[data-ready=true]");
  await page.goto(`${own.base}/#/offline`);
  await page.waitForSelector('main[data-view=offline] .track:has-text("Café Noir")');
  await page.click('main .track:has-text("Café Noir") .track-main');
  await playingPast(page, 0.5);
  assert.ok((await page.evaluate(() => document.getElementById("audio").src)).startsWith("blob:"));

  // Removing it frees the space.
  await page.click('main .track:has-text("Café Noir") summary');
  await page.click('main .track:has-text("Café Noir") button:has-text("Remove offline copy")');
  await page.waitForSelector("main[data-view=offline] .empty");
  assert.equal(await page.evaluate(async () => (await (await caches.open("anyaudio-audio-v1")).keys()).length), 0);
  await context.close();
});

test("on a phone-sized screen the sections and player fit", async () => {
  const { context, page } = await open(server.base, { viewport: { width: 390, height: 780 }, isMobile: true, hasTouch: true });
  await page.waitForSelector("main[data-view=home] .card");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling: ${overflow}px`);
  const nav = await page.$eval("nav.side", (n) => n.getBoundingClientRect().bottom);
  assert.ok(Math.abs(nav - 780) < 2, `sections at the bottom: ${nav}`);
  await shot(page, "phone");
  await context.close();
});
