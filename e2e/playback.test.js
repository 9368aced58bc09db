// A track from the demo library plays in Chromium's <audio> element and seeks through ranges.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchChromium } from "./server.js";

let server, browser;
before(async () => {
  server = await startServer();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test("a stream_url plays in <audio> and seeks to 70%", async () => {
  const page = await browser.newPage();
  const partials = [];
  page.on("response", (r) => {
    if (r.url().includes("/stream/") && r.status() === 206) partials.push(r.headers()["content-range"]);
  });
  await page.goto(server.base);
  const search = await (await fetch(`${server.base}/api/v1/search?q=morning%20drift`)).json();
  const { url } = await (await fetch(`${server.base}/api/v1/tracks/${search.tracks[0].id}/stream_url`)).json();
  const result = await page.evaluate(async (src) => {
    const audio = document.querySelector("audio");
    audio.src = src;
    await audio.play();
    await new Promise((r) => (audio.currentTime > 0.3 ? r() : audio.addEventListener("timeupdate", () => audio.currentTime > 0.3 && r())));
    const target = audio.duration * 0.7;
    audio.currentTime = target;
    await new Promise((r) => audio.addEventListener("seeked", r, { once: true }));
    const after = audio.currentTime;
    await new Promise((r) => setTimeout(r, 700));
    return { duration: audio.duration, target, after, later: audio.currentTime, paused: audio.paused, error: audio.error?.message };
  }, url);
  assert.equal(result.error, undefined);
  assert.ok(result.duration > 20, JSON.stringify(result));
  assert.ok(Math.abs(result.after - result.target) < 1, JSON.stringify(result));
  assert.ok(result.later > result.after, `playback continued after the seek: ${JSON.stringify(result)}`);
  assert.ok(partials.length > 0, "no 206 was served");
});
