// The views that fill <main>, by the name the URL gives (#/home, #/search?q=…, #/playlists,
// #/playlist?id=…, #/saved, #/offline, #/history, #/account). Each is an async function of the URL's params
// answering the elements to show; the server is asked for search results, playlists and the
// related tracks behind "Suggested for you", the browser's store for the rest.

import { h, formatTime, formatBytes, ago, toast } from "./dom.js";
import { api } from "./api.js";
import { store } from "./store.js";
import { suggest as suggestForYou, seeds, profile } from "./habits.js";
import * as offline from "./offline.js";
import { trackList, playlistGrid, section, empty, errorBox, playButtons } from "./components.js";
import { render } from "./router.js";
import { accountView } from "./account.js";

const related = new Map(); // track id -> related tracks (this visit)

async function relatedOf(id) {
  if (!related.has(id)) {
    related.set(id, api(`/api/v1/tracks/${encodeURIComponent(id)}/related?limit=20`).then((r) => r.tracks).catch(() => []));
  }
  return related.get(id);
}

export const views = {
  account: accountView,

  async home() {
    const parts = [h("h1", {}, "Home")];
    const p = profile(store);
    const seedIds = seeds(p);
    const rel = Object.fromEntries(await Promise.all(seedIds.map(async (id) => [id, await relatedOf(id)])));
    const picks = suggestForYou({ ...store, related: rel });
    parts.push(section("Suggested for you",
      picks.length
        ? trackList(picks.map((x) => x.track), { label: "Suggested for you", reasons: picks.map((x) => x.reason) })
        : empty("Listen to a few songs and suggestions for you appear here; they get better the more you listen.")));
    const recent = [...new Set(store.history.map((e) => e.id))].slice(0, 8).map((id) => store.track(id)).filter(Boolean);
    if (recent.length) parts.push(section("Recently played", trackList(recent, { label: "Recently played" })));
    try {
      const lists = await api("/api/v1/playlists?limit=12");
      parts.push(section("Playlists", playlistGrid(lists.playlists)));
    } catch (error) {
      parts.push(errorBox(error));
    }
    return parts;
  },

  async search(params) {
    const q = params.get("q") ?? "";
    const source = params.get("source") ?? store.settings.source ?? "library";
    if (!q) return [h("h1", {}, "Search"), empty("Type in the search box to find songs, artists and albums.")];
    const parts = [h("h1", {}, `Results for “${q}”`)];
    try {
      const found = await api(`/api/v1/search?q=${encodeURIComponent(q)}&source=${encodeURIComponent(source)}&limit=50`);
      parts.push(h("p", { class: "muted" }, `${found.total} ${found.total === 1 ? "match" : "matches"}`));
      parts.push(found.tracks.length ? trackList(found.tracks, { label: "Search results" }) : empty("Nothing found. Try fewer or shorter words."));
    } catch (error) {
      parts.push(errorBox(error));
    }
    return parts;
  },

  async playlists() {
    const parts = [h("h1", {}, "Playlists")];
    try {
      const lists = await api("/api/v1/playlists?limit=100");
      const kinds = { recent: "Made for you", mix: "Made for you", m3u: "Playlists", remote: "Imported", feed: "Podcasts", youtube: "YouTube", ytdlp: "Imported", genre: "Genres", artist: "Artists", album: "Albums" };
      const groups = new Map();
      for (const p of lists.playlists) {
        const g = kinds[p.kind] ?? "Other";
        groups.set(g, [...(groups.get(g) ?? []), p]);
      }
      for (const [title, items] of groups) parts.push(section(title, playlistGrid(items)));
      if (!lists.playlists.length) parts.push(empty("No playlists yet."));
    } catch (error) {
      parts.push(errorBox(error));
    }
    return parts;
  },

  async playlist(params) {
    const id = params.get("id");
    try {
      const p = await api(`/api/v1/playlists/${encodeURIComponent(id)}`);
      return [
        h("h1", {}, p.name),
        h("p", { class: "muted" }, [p.subtitle, `${p.tracks.length} ${p.tracks.length === 1 ? "song" : "songs"}`].filter(Boolean).join(" · ")),
        playButtons(p.tracks),
        trackList(p.tracks, { label: p.name }),
      ];
    } catch (error) {
      return [h("h1", {}, "Playlist"), errorBox(error)];
    }
  },

  async saved() {
    const tracks = store.favourites.map((f) => store.track(f.id)).filter(Boolean);
    return [h("h1", {}, "Saved songs"), playButtons(tracks),
      tracks.length ? trackList(tracks, { label: "Saved songs" }) : empty("Songs you save with ♡ appear here.")];
  },

  async offline() {
    const have = await offline.ids();
    // Forget entries whose audio the browser evicted.
    for (const id of Object.keys(store.offline)) if (!have.has(id)) store.removeOffline(id);
    const ids = Object.keys(store.offline);
    const tracks = ids.map((id) => store.track(id)).filter(Boolean);
    const total = ids.reduce((sum, id) => sum + (store.offline[id].size ?? 0), 0);
    const { usage, quota } = await offline.estimate();
    const parts = [h("h1", {}, "Offline"),
      h("p", { class: "muted", id: "offline-usage" },
        `${tracks.length} ${tracks.length === 1 ? "song" : "songs"}, ${formatBytes(total)}` +
        (quota ? ` · this site uses ${formatBytes(usage)} of ${formatBytes(quota)} the browser allows` : ""))];
    if (!offline.supported) parts.push(errorBox(new Error("This browser cannot keep audio offline (it needs a secure origin: https or localhost).")));
    if (!tracks.length) {
      parts.push(empty("Choose “Save for offline” in a song's ⋯ menu to keep it on this device."));
      return parts;
    }
    parts.push(playButtons(tracks), trackList(tracks, { label: "Available offline" }),
      h("div", { class: "actions" },
        h("button", { type: "button", onclick: async () => {
          for (const id of ids) await offline.remove(id);
          for (const id of ids) store.removeOffline(id);
          toast("Offline copies removed");
          render();
        } }, "Remove all offline copies")));
    return parts;
  },

  async history() {
    const events = store.history.slice(0, 100).filter((e) => store.track(e.id));
    const parts = [h("h1", {}, "History")];
    if (!events.length) return [...parts, empty("What you play appears here. It stays in this browser.")];
    const tracks = events.map((e) => store.track(e.id));
    parts.push(trackList(tracks, { label: "History", reasons: events.map((e) => `${ago(e.at)}${e.completed ? "" : ` · ${formatTime(e.listened)} heard`}`) }));
    parts.push(h("div", { class: "actions" }, h("button", { type: "button", onclick: () => {
      store.history = [];
      store.persist("history");
      render();
    } }, "Clear history")));
    return parts;
  },
};
