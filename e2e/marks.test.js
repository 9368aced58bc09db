// Saved songs and plays in the listener's account, in headless Chromium against the real
// server: kept in the browser while the server is open; on the first login the browser offers,
// once, to copy them to the account; after that saving and unsaving go to the account, which
// the Subsonic API and another browser see.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchChromium, openPage } from "./server.js";

const PASSWORD = "correct horse battery";
let server, browser;

before(async () => {
  server = await startServer();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const open = (context, hash) => openPage(server, context, hash);

async function logIn(page) {
  await page.waitForSelector("dialog#login[open]");
  await page.fill("#login-name", "ada");
  await page.fill("#login-password", PASSWORD);
  await page.click("#login-submit");
  await page.waitForFunction(() => !document.getElementById("login").open);
}

/** What the Subsonic API says of ada's stars and of a song's plays. */
async function subsonic(method, query = "") {
  const auth = `u=ada&p=${encodeURIComponent(PASSWORD)}&v=1.16.1&c=e2e&f=json`;
  const body = await (await fetch(`${server.base}/rest/${method}?${auth}&${query}`)).json();
  return body["subsonic-response"];
}

// By title: songs starred within one second have no order between them.
const starredTitles = async () => ((await subsonic("getStarred2")).starred2.song ?? []).map((s) => s.title).sort();

async function saveFromSearch(page, query, title) {
  await page.goto(`${server.base}/#/search?q=${encodeURIComponent(query)}`);
  await page.locator(`button[aria-label="Save “${title}”"]`).click();
  await page.locator(`button[aria-label="Save “${title}”"][aria-pressed=true]`).waitFor();
}

test("a browser's saved songs and plays are copied to the account on the first login, once; then kept there", async () => {
  const context = await browser.newContext();
  const page = await open(context);
  // Open: saved and played in this browser alone.
  await saveFromSearch(page, "dawn chorus", "Dawn Chorus");
  const drift = (await (await fetch(`${server.base}/api/v1/search?q=morning+drift`)).json()).tracks[0];
  await page.evaluate((t) => {
    window.anyaudio.store.remember(t);
    window.anyaudio.store.addPlay({ id: t.id, at: Date.now() - 60000, listened: 20, duration: 20, completed: true });
  }, drift);

  // A user is made (the server closes); the next visit logs in and is asked about copying.
  const made = await fetch(`${server.base}/api/v1/users`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "ada", password: PASSWORD, admin: true }),
  });
  assert.equal(made.status, 201);
  await page.reload();
  await logIn(page);
  await page.waitForSelector("dialog#copy-up[open]");
  assert.match(await page.textContent("#copy-up-text"), /1 saved song and 1 play/);
  await page.click("#copy-up-yes");
  await page.waitForFunction(() => document.getElementById("toast").textContent.includes("Copied 1 saved songs and 1 plays"));
  assert.deepEqual(await starredTitles(), ["Dawn Chorus"]);
  const song = (await subsonic("getSong", `id=${drift.id}`)).song;
  assert.equal(song.playCount, 1);

  // Saving and unsaving now go to the account.
  await saveFromSearch(page, "pulse width", "Pulse Width");
  await page.waitForFunction(async () => {
    const r = await fetch("/api/v1/me/saved");
    return (await r.json()).tracks.length === 2;
  });
  assert.deepEqual(await starredTitles(), ["Dawn Chorus", "Pulse Width"]);
  await page.goto(`${server.base}/#/saved`);
  await page.locator('button[aria-label="Remove “Dawn Chorus” from saved songs"]').click();
  await page.waitForFunction(async () => (await (await fetch("/api/v1/me/saved")).json()).tracks.length === 1);
  assert.deepEqual(await starredTitles(), ["Pulse Width"]);

  // Asked once: a reload doesn't ask again.
  await page.reload();
  await page.waitForSelector("html[data-ready=true]");
  await page.waitForTimeout(500);
  assert.equal(await page.isVisible("dialog#copy-up"), false);

  // Another browser, logged in as ada, shows the account's saved songs and asks nothing.
  const other = await browser.newContext();
  const phone = await open(other, "#/saved");
  await logIn(phone);
  await phone.waitForSelector('button[aria-label="Remove “Pulse Width” from saved songs"]');
  assert.equal(await phone.isVisible("dialog#copy-up"), false);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(phone.errors, []);
});
