// Saved songs and plays in the listener's account, once they log in: the same stars and play
// counts their Subsonic apps show. In open mode (no accounts) everything stays in the browser,
// as before. On the first login in a browser that kept songs or plays, the listener is asked,
// once, whether to copy them to the account (`POST /api/v1/me/import`); after that, saving a
// song and every play go to the server as they happen, and the saved list is the account's.

import { $, toast } from "./dom.js";
import { api } from "./api.js";
import { store } from "./store.js";
import { account } from "./account.js";
import { refresh } from "./router.js";

const json = (method, body) => ({
  method,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body ?? {}),
});
const seconds = (ms) => Math.floor(ms / 1000);

/** Whether this browser's listener has been asked about copying up to `name`'s account. */
function asked(name) {
  return (store.settings.copyUpAsked ?? []).includes(name);
}

function askedNow(name) {
  store.setting("copyUpAsked", [...(store.settings.copyUpAsked ?? []), name]);
}

/** Asks, in the dialog, whether to copy; resolves true for yes. */
function ask(saved, plays) {
  const dialog = $("copy-up");
  const what = [saved && `${saved} saved song${saved === 1 ? "" : "s"}`, plays && `${plays} play${plays === 1 ? "" : "s"}`]
    .filter(Boolean)
    .join(" and ");
  $("copy-up-text").textContent = `This browser keeps ${what} from before you logged in. Copy them to your account, so your other devices and apps see them too?`;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
    dialog.showModal();
    $("copy-up-yes").focus();
  });
}

async function copyUp(name) {
  const saved = store.favourites.map((f) => ({ track: f.id, at: seconds(f.at) }));
  const plays = store.history.map((e) => ({ track: e.id, at: seconds(e.at) }));
  if (asked(name) || (!saved.length && !plays.length)) return;
  const yes = await ask(saved.length, plays.length);
  askedNow(name);
  if (!yes) return;
  try {
    const copied = await api("/api/v1/me/import", json("POST", { saved, plays }));
    toast(`Copied ${copied.saved} saved songs and ${copied.plays} plays to your account`);
  } catch (error) {
    toast(`Could not copy to your account: ${error.message}`);
  }
}

/** The account's saved songs become the browser's. */
async function loadSaved() {
  const { tracks } = await api("/api/v1/me/saved");
  store.setFavourites(tracks.map((s) => ({ track: s.track, at: s.saved_at * 1000 })));
  refresh("saved", "home");
}

let syncing = null;

async function sync() {
  const name = account.user?.name;
  if (!name) return;
  await copyUp(name);
  await loadSaved();
}

window.addEventListener("anyaudio:account", () => {
  if (!account.user || syncing) return;
  syncing = sync()
    .catch((error) => console.warn("could not sync with the account", error))
    .finally(() => (syncing = null));
});

window.addEventListener("anyaudio:favourite", async ({ detail: { id, saved } }) => {
  if (!account.user) return;
  try {
    await api(`/api/v1/me/saved/${encodeURIComponent(id)}`, { method: saved ? "PUT" : "DELETE", headers: { "x-requested-with": "anyaudio" } });
  } catch (error) {
    toast(`Not saved in your account: ${error.message}`);
  }
});

window.addEventListener("anyaudio:play", async ({ detail }) => {
  if (!account.user) return;
  try {
    await api("/api/v1/me/plays", json("POST", { track: detail.id, at: seconds(detail.at) }));
  } catch (error) {
    console.warn("play not kept in the account", error); // a track the server no longer has
  }
});
