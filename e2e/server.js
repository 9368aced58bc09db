// Starts the real anyaudio binary on a free port with a fresh data dir (demo library by default).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

export const BIN = process.env.ANYAUDIO_BIN ?? new URL("../target/debug/anyaudio", import.meta.url).pathname;

export async function startServer(extraArgs = []) {
  const dataDir = mkdtempSync(join(tmpdir(), "anyaudio-e2e-"));
  const child = spawn(BIN, ["serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, ...extraArgs], {
    env: { ...process.env, ANYAUDIO_LOG: "info" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const lines = createInterface({ input: child.stderr });
  const base = await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`anyaudio exited with ${code}`)));
    lines.on("line", (line) => {
      const m = line.match(/url=(http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
  });
  // Wait for the start-up scan to finish.
  for (let i = 0; i < 200; i++) {
    const scan = await (await fetch(`${base}/api/v1/scan`)).json();
    if (scan.scan && !scan.scan.running && scan.scan.finished_at) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    base,
    dataDir,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--autoplay-policy=no-user-gesture-required",
];

/** Debian's headless Chromium (or $CHROMIUM), with the flags above and `extraArgs`. */
export function launchChromium(extraArgs = []) {
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** A new page of `context` at `server`'s `hash`, once the app is ready; its script errors are
 * collected in `page.errors`. */
export async function openPage(server, context, hash = "") {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.errors = errors;
  await page.goto(`${server.base}/${hash}`);
  await page.waitForSelector("html[data-ready=true]");
  return page;
}
