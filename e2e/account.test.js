// Accounts in the web player, in headless Chromium against the real server: open on loopback
// until a first user is added from the account page; then a login dialog whenever the API
// answers 401, an HttpOnly session cookie that survives a reload, API keys made and revoked,
// a password changed, and playing while logged in.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchChromium, openPage } from "./server.js";

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

async function logIn(page, name, password) {
  await page.waitForSelector("dialog#login[open]");
  await page.fill("#login-name", name);
  await page.fill("#login-password", password);
  await page.click("#login-submit");
}

test("a first user closes the open server; the web player logs in, keeps its session and plays", async () => {
  const context = await browser.newContext();
  const page = await open(context, "#/account");
  // Open on loopback: no dialog, and the account page offers to require a login.
  await page.waitForSelector("#first-user");
  assert.equal(await page.isVisible("dialog#login"), false);
  await page.fill("#first-user input[name=name]", "ada");
  await page.fill("#first-user input[name=password]", "correct horse battery");
  await page.click("#first-user button[type=submit]");
  await page.waitForSelector("#whoami");
  assert.match(await page.textContent("#whoami"), /Logged in as ada \(admin\)/);
  assert.equal(await page.textContent("#account-link"), "ada");

  // The session is a cookie the page's scripts cannot read, and it survives a reload.
  assert.equal(await page.evaluate(() => document.cookie), "");
  const [cookie] = await context.cookies();
  assert.equal(cookie.name, "anyaudio_session");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, "Strict");
  await page.reload();
  await page.waitForSelector("html[data-ready=true]");
  await page.waitForSelector("#whoami");

  // Anyone else is closed out: a fresh browser meets the login dialog, and a wrong password says so.
  const other = await browser.newContext();
  const stranger = await open(other, "#/search?q=dawn");
  await logIn(stranger, "ada", "not her password");
  await stranger.waitForFunction(() => document.getElementById("login-error").textContent.includes("Wrong name or password"));
  await stranger.fill("#login-password", "correct horse battery");
  await stranger.click("#login-submit");
  await stranger.waitForFunction(() => !document.getElementById("login").open);
  await stranger.waitForSelector(".track-main");
  await stranger.click(".track-main");
  await stranger.waitForFunction(() => {
    const a = document.getElementById("audio");
    return !a.paused && a.currentTime > 0.5;
  }, null, { timeout: 15000 });

  // An API key made on the account page works from outside the browser, until revoked.
  await page.fill("#add-key input[name=name]", "phone");
  await page.fill("#add-key input[name=password]", "correct horse battery");
  await page.click("#add-key button[type=submit]");
  await page.waitForSelector("#key-secret");
  const secret = await page.textContent("#key-secret");
  assert.match(secret, /^aa_/);
  const withKey = () => fetch(`${server.base}/api/v1/search?q=dawn`, { headers: { authorization: `Bearer ${secret}` } });
  assert.equal((await withKey()).status, 200);
  assert.equal((await fetch(`${server.base}/api/v1/search?q=dawn`)).status, 401);
  await page.click("button[aria-label='Revoke phone']");
  await page.waitForFunction(() => !document.querySelector("button[aria-label='Revoke phone']"));
  assert.equal((await withKey()).status, 401);

  // A new password ends the other sessions: the stranger's next request asks for a login.
  await page.fill("#password input[name=current]", "correct horse battery");
  await page.fill("#password input[name=new]", "a better passphrase");
  await page.click("#password button[type=submit]");
  await page.waitForFunction(() => document.getElementById("toast").textContent.includes("Password changed"));
  await stranger.goto(`${server.base}/#/search?q=morning`);
  await stranger.waitForSelector("dialog#login[open]");
  await logIn(stranger, "ada", "a better passphrase");
  await stranger.waitForFunction(() => !document.getElementById("login").open);

  // Logging out ends this browser's session.
  await page.click("#logout");
  await page.waitForFunction(() => document.getElementById("account-link").textContent === "Log in");
  await page.goto(`${server.base}/#/search?q=dawn`);
  await page.waitForSelector("dialog#login[open]");
  assert.deepEqual([...page.errors, ...stranger.errors], []);
  await context.close();
  await other.close();
});
