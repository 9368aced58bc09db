// The anyaudio web player's entry point: it loads the parts (the views and the router, the
// search box, the player bar and queue, keyboard shortcuts, the theme), wires the player's
// events to them and starts the app. State the listener owns lives in the browser (store.js);
// the server is asked for search, playlists, related tracks and streams.
//
// The modules import one way only: app.js → views, search, playerbar, keys, theme, marks →
// account, components → router, shared-player → dom, api, store, player, offline, habits.

import { $, toast } from "./dom.js";
import { api } from "./api.js";
import { store } from "./store.js";
import { player } from "./shared-player.js";
import { useViews, route, render, refresh } from "./router.js";
import { views } from "./views.js";
import { renderPlayerBar } from "./playerbar.js";
import { applyTheme } from "./theme.js";
import { setUpLogin, refreshAccount } from "./account.js";
import "./search.js";
import "./keys.js";
import "./marks.js";

useViews(views);
player.addEventListener("error", (e) => toast(e.detail));
player.addEventListener("played", () => refresh("history", "home"));

async function start() {
  applyTheme(store.settings.theme ?? "system");
  setUpLogin();
  await refreshAccount().catch(() => {}); // offline, or closed: the login dialog is open
  $("source").value = store.settings.source ?? "library";
  try {
    const health = await api("/healthz");
    if (!health.sources?.youtube?.available) {
      for (const value of ["youtube", "all"]) $("source").querySelector(`option[value=${value}]`).remove();
      if (["youtube", "all"].includes($("source").value)) $("source").value = "library";
    }
  } catch {
    // offline: the app still opens
  }
  const { params } = route();
  if (params.get("q")) $("q").value = params.get("q");
  renderPlayerBar();
  await render();
  await player.restore().catch(() => {});
  renderPlayerBar();
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch((error) => console.warn("service worker not registered", error));
  }
  window.addEventListener("pagehide", () => store.savePosition(player.audio.currentTime || store.queue.position));
  document.documentElement.dataset.ready = "true";
}

start();

// For the browser tests and the curious: the app's state.
window.anyaudio = { player, store };
