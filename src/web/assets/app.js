// The anyaudio web player: views (home, search, playlists, saved, offline, history), the search
// box with autocomplete, the player bar and the queue. State the listener owns lives in the
// browser (store.js); the server is asked for search, playlists, related tracks and streams.

import { store } from "./store.js";
import { Player, artworkUrl } from "./player.js";
import { suggest as suggestForYou, seeds, profile } from "./habits.js";
import * as offline from "./offline.js";

const $ = (id) => document.getElementById(id);
const main = $("main");

// ---------- small helpers ----------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  el.append(...children.flat().filter((c) => c != null && c !== false));
  return el;
}

export function formatTime(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return "0:00";
  const s = Math.floor(seconds);
  const hms = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  return hms[0] ? `${hms[0]}:${String(hms[1]).padStart(2, "0")}:${String(hms[2]).padStart(2, "0")}` : `${hms[1]}:${String(hms[2]).padStart(2, "0")}`;
}

function formatBytes(n) {
  if (!n) return "0 B";
  const units = ["B", "KB", "MB", "GB"];
  const i = Math.min(units.length - 1, Math.floor(Math.log(n) / Math.log(1024)));
  return `${(n / 1024 ** i).toFixed(i ? 1 : 0)} ${units[i]}`;
}

function ago(at) {
  const s = (Date.now() - at) / 1000;
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(at).toLocaleDateString();
}

let toastTimer;
function toast(message) {
  const el = $("toast");
  el.textContent = message;
  el.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove("show"), 4000);
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    Object.assign(this, { status, code });
  }
}

async function api(path, options) {
  let response;
  try {
    response = await fetch(path, options);
  } catch {
    throw new ApiError(0, "offline", "the server cannot be reached");
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(response.status, body?.error?.code ?? "error", body?.error?.message ?? `HTTP ${response.status}`);
  }
  return body;
}

/** A cover: the track's artwork over a colour and the initials of its album (shown if it has none). */
function art(track, size = "") {
  const el = h("div", { class: `art ${size}`, "aria-hidden": "true" });
  const key = track?.album ?? track?.artist ?? track?.title ?? "";
  let hash = 0;
  for (const c of key) hash = (hash * 31 + c.codePointAt(0)) >>> 0;
  el.style.setProperty("--hue", hash % 360);
  el.textContent = (key.match(/\p{L}|\p{N}/gu) ?? ["♪"]).slice(0, 2).join("").toUpperCase();
  const src = artworkUrl(track);
  if (src) {
    const img = h("img", { src, alt: "", loading: "lazy", referrerpolicy: "no-referrer" });
    img.addEventListener("error", () => img.remove());
    el.append(img);
  }
  return el;
}

// ---------- the player ----------

const player = new Player($("audio"), api);
player.addEventListener("error", (e) => toast(e.detail));
player.addEventListener("played", () => {
  if (currentView === "history" || currentView === "home") render();
});

function renderPlayerBar(kind) {
  const t = player.current;
  const audio = player.audio;
  if (kind !== "time" && kind !== "progress") {
    $("now-title").textContent = t?.title ?? "Nothing playing";
    $("now-artist").textContent = t ? [t.artist, t.album].filter(Boolean).join(" · ") : "";
    $("now-art").replaceWith(Object.assign(art(t), { id: "now-art" }));
    for (const id of ["play", "seek", "fav"]) $(id).disabled = !t;
    $("prev").disabled = !t;
    $("next").disabled = player.index + 1 >= player.queue.length;
    const fav = t && store.isFavourite(t.id);
    $("fav").setAttribute("aria-pressed", String(!!fav));
    $("fav").textContent = fav ? "♥" : "♡";
    $("fav").setAttribute("aria-label", fav ? "Remove from saved songs" : "Save song");
    const playing = !audio.paused;
    $("play").setAttribute("aria-label", playing ? "Pause" : "Play");
    $("play").querySelector("use").setAttribute("href", playing ? "#i-pause" : "#i-play");
    $("volume").value = audio.volume;
    document.title = t ? `${t.title} · anyaudio` : "anyaudio";
    for (const row of document.querySelectorAll("[data-track-id]")) {
      row.classList.toggle("playing", row.dataset.trackId === t?.id);
    }
  }
  const buffering = !!t && !audio.paused && audio.readyState < 3;
  $("play").classList.toggle("buffering", buffering);
  $("play").setAttribute("aria-busy", String(buffering));
  const duration = Number.isFinite(audio.duration) ? audio.duration : t?.duration ?? 0;
  const seek = $("seek");
  if (!seeking) {
    seek.max = duration || 0;
    seek.value = audio.currentTime || 0;
  }
  seek.setAttribute("aria-valuetext", `${formatTime(audio.currentTime)} of ${formatTime(duration)}`);
  $("time").textContent = formatTime(seeking ? Number(seek.value) : audio.currentTime);
  $("duration").textContent = formatTime(duration);
  // What is buffered, drawn behind the seek bar.
  const b = audio.buffered;
  const stops = [];
  for (let i = 0; i < b.length && duration; i++) {
    const [s, e] = [(b.start(i) / duration) * 100, (b.end(i) / duration) * 100];
    stops.push(`transparent ${s}%, var(--buffered) ${s}%, var(--buffered) ${e}%, transparent ${e}%`);
  }
  seek.style.setProperty("--buffer", stops.length ? `linear-gradient(90deg, ${stops.join(",")})` : "none");
  seek.style.setProperty("--played", `${duration ? (Number(seek.value) / duration) * 100 : 0}%`);
  if (kind === "queue" || kind === "track") renderQueue();
}
player.addEventListener("change", (e) => renderPlayerBar(e.detail));

let seeking = false;
$("seek").addEventListener("input", () => {
  seeking = true;
  renderPlayerBar("time");
});
$("seek").addEventListener("change", () => {
  seeking = false;
  player.seek(Number($("seek").value));
});
$("play").addEventListener("click", () => player.toggle());
$("next").addEventListener("click", () => player.next());
$("prev").addEventListener("click", () => player.previous());
$("volume").addEventListener("input", (e) => player.setVolume(Number(e.target.value)));
$("fav").addEventListener("click", () => {
  if (!player.current) return;
  const saved = store.toggleFavourite(player.current);
  toast(saved ? "Saved to your songs" : "Removed from your songs");
  renderPlayerBar();
  if (currentView === "saved") render();
});

// ---------- the queue panel ----------

function toggleQueue(open = $("queue-panel").hidden) {
  $("queue-panel").hidden = !open;
  $("queue-toggle").setAttribute("aria-expanded", String(open));
  if (open) renderQueue();
}
$("queue-toggle").addEventListener("click", () => toggleQueue());
$("queue-close").addEventListener("click", () => toggleQueue(false));
$("queue-clear").addEventListener("click", () => player.clear());

let dragFrom = null;
function renderQueue() {
  if ($("queue-panel").hidden) return;
  const list = $("queue-list");
  list.replaceChildren(
    ...player.queue.map((t, i) => {
      const current = i === player.index;
      return h(
        "li",
        {
          class: current ? "current" : "",
          draggable: "true",
          "data-index": i,
          "aria-current": current ? "true" : null,
          ondragstart: (e) => {
            dragFrom = i;
            e.dataTransfer.effectAllowed = "move";
          },
          ondragover: (e) => e.preventDefault(),
          ondrop: (e) => {
            e.preventDefault();
            if (dragFrom != null) player.move(dragFrom, i);
            dragFrom = null;
          },
        },
        h("button", { class: "queue-title", type: "button", onclick: () => player.playAt(i) },
          h("span", { class: "title" }, t.title), h("span", { class: "sub" }, t.artist ?? "")),
        h("button", { class: "icon-button small", type: "button", "aria-label": `Move “${t.title}” up`, disabled: i === 0, onclick: () => player.move(i, i - 1) }, "↑"),
        h("button", { class: "icon-button small", type: "button", "aria-label": `Move “${t.title}” down`, disabled: i === player.queue.length - 1, onclick: () => player.move(i, i + 1) }, "↓"),
        h("button", { class: "icon-button small", type: "button", "aria-label": `Remove “${t.title}” from the queue`, disabled: current, onclick: () => player.removeAt(i) }, "✕"),
      );
    }),
  );
  if (!player.queue.length) list.append(h("li", { class: "empty" }, "The queue is empty."));
}

// ---------- track lists ----------

/** Rows of tracks; choosing one plays the list from there. */
function trackList(tracks, { label, reasons } = {}) {
  tracks.forEach((t) => store.remember(t));
  const ol = h("ol", { class: "tracks", "aria-label": label ?? "Tracks" });
  tracks.forEach((t, i) => {
    const fav = store.isFavourite(t.id);
    const saved = !!store.offline[t.id];
    const row = h(
      "li",
      { class: `track${player.current?.id === t.id ? " playing" : ""}`, "data-track-id": t.id },
      h("button", { class: "track-main", type: "button", onclick: () => player.playList(tracks, i), "aria-label": `Play ${t.title}${t.artist ? ` by ${t.artist}` : ""}` },
        art(t),
        h("span", { class: "track-text" },
          h("span", { class: "title" }, t.title),
          h("span", { class: "sub" }, [t.artist, t.album].filter(Boolean).join(" · ") || sourceLabel(t)),
          reasons?.[i] ? h("span", { class: "reason" }, reasons[i]) : null)),
      saved ? h("span", { class: "badge", title: "Available offline" }, "⤓") : null,
      h("span", { class: "duration" }, t.duration ? formatTime(t.duration) : ""),
      h("button", { class: "icon-button small", type: "button", "aria-pressed": String(fav), "aria-label": fav ? `Remove “${t.title}” from saved songs` : `Save “${t.title}”`,
        onclick: (e) => {
          const now = store.toggleFavourite(t);
          e.currentTarget.textContent = now ? "♥" : "♡";
          e.currentTarget.setAttribute("aria-pressed", String(now));
          renderPlayerBar();
        } }, fav ? "♥" : "♡"),
      trackMenu(t),
    );
    ol.append(row);
  });
  return ol;
}

function sourceLabel(t) {
  return { local: "Library", http: "Remote media", youtube: "YouTube", ytdlp: "Web" }[t.source] ?? "";
}

function trackMenu(t) {
  const saved = !!store.offline[t.id];
  return h("details", { class: "menu" },
    h("summary", { "aria-label": `More for “${t.title}”` }, "⋯"),
    h("div", { class: "menu-items" },
      h("button", { type: "button", onclick: (e) => { closeMenu(e); player.playNext(t); toast(`“${t.title}” plays next`); } }, "Play next"),
      h("button", { type: "button", onclick: (e) => { closeMenu(e); player.enqueue(t); toast(`“${t.title}” added to the queue`); } }, "Add to queue"),
      offline.supported && !saved ? h("button", { type: "button", onclick: (e) => { closeMenu(e); saveOffline(t); } }, "Save for offline") : null,
      saved ? h("button", { type: "button", onclick: async (e) => { closeMenu(e); await removeOffline(t.id); } }, "Remove offline copy") : null));
}

function closeMenu(e) {
  e.currentTarget.closest("details").open = false;
}

async function saveOffline(track) {
  toast(`Saving “${track.title}” for offline…`);
  try {
    const { url } = await api(`/api/v1/tracks/${encodeURIComponent(track.id)}/stream_url`);
    let shown = 0;
    const size = await offline.save(track.id, url, (got, total) => {
      const pct = total ? Math.floor((got / total) * 100) : 0;
      if (pct >= shown + 25) {
        shown = pct;
        toast(`Saving “${track.title}”: ${pct}%`);
      }
    });
    store.setOffline(track, size);
    toast(`“${track.title}” is available offline (${formatBytes(size)})`);
  } catch (error) {
    toast(`Could not save “${track.title}”: ${error.message}`);
  }
  render();
}

async function removeOffline(id) {
  await offline.remove(id);
  store.removeOffline(id);
  render();
}

function section(title, ...content) {
  return h("section", { class: "section", "aria-label": title }, h("h2", {}, title), ...content);
}

function empty(text) {
  return h("p", { class: "empty" }, text);
}

function errorBox(error) {
  const text = error.code === "offline" ? "The server cannot be reached. Saved and offline songs still play." : error.message;
  return h("p", { class: "error", role: "alert" }, text);
}

function playButtons(tracks) {
  return h("div", { class: "actions" },
    h("button", { class: "primary", type: "button", onclick: () => player.playList(tracks, 0), disabled: !tracks.length }, "▶ Play all"),
    h("button", { type: "button", onclick: () => player.playList(shuffle(tracks), 0), disabled: !tracks.length }, "⤮ Shuffle"));
}

function shuffle(list) {
  const a = [...list];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

// ---------- views ----------

const related = new Map(); // track id -> related tracks (this visit)

async function relatedOf(id) {
  if (!related.has(id)) {
    related.set(id, api(`/api/v1/tracks/${encodeURIComponent(id)}/related?limit=20`).then((r) => r.tracks).catch(() => []));
  }
  return related.get(id);
}

const views = {
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

function playlistGrid(lists) {
  return h("ul", { class: "grid" }, lists.map((p) => h("li", {},
    h("a", { class: "card", href: `#/playlist?id=${encodeURIComponent(p.id)}` },
      art({ album: p.name, artwork: p.artwork }, "big"),
      h("span", { class: "title" }, p.name),
      h("span", { class: "sub" }, [p.subtitle, `${p.track_count} ${p.track_count === 1 ? "song" : "songs"}`].filter(Boolean).join(" · "))))));
}

// ---------- routing ----------

let currentView = "home";
let renderSeq = 0;

function route() {
  const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  return { view: views[path] ? path : "home", params: new URLSearchParams(query) };
}

async function render() {
  const { view, params } = route();
  currentView = view;
  const seq = ++renderSeq;
  for (const a of document.querySelectorAll("nav.side a")) {
    a.toggleAttribute("aria-current", a.dataset.view === view);
    if (a.dataset.view === view) a.setAttribute("aria-current", "page");
  }
  main.setAttribute("aria-busy", "true");
  const content = await views[view](params);
  if (seq !== renderSeq) return; // a newer view was asked for meanwhile
  main.replaceChildren(...content);
  main.setAttribute("aria-busy", "false");
  main.dataset.view = view;
}

window.addEventListener("hashchange", () => {
  render();
  main.focus({ preventScroll: true });
});

// ---------- search and autocomplete ----------

const q = $("q");
const listbox = $("suggestions");
let active = -1;
let suggestTimer, searchTimer;

function closeSuggestions() {
  listbox.hidden = true;
  q.setAttribute("aria-expanded", "false");
  q.removeAttribute("aria-activedescendant");
  active = -1;
}

function highlight(i) {
  const options = [...listbox.children];
  if (!options.length) return;
  active = (i + options.length) % options.length;
  options.forEach((o, j) => o.setAttribute("aria-selected", String(j === active)));
  q.setAttribute("aria-activedescendant", options[active].id);
}

async function showSuggestions(text) {
  let found;
  try {
    found = await api(`/api/v1/suggest?q=${encodeURIComponent(text)}&limit=8`);
  } catch {
    return closeSuggestions();
  }
  if (q.value.trim() !== text) return; // typed on meanwhile
  const recent = store.searches.filter((s) => s.q.toLowerCase().startsWith(text.toLowerCase()) && s.q !== text).slice(0, 2);
  const items = [...recent.map((s) => ({ text: s.q, kind: "recent" })), ...found.suggestions];
  if (!items.length) return closeSuggestions();
  listbox.replaceChildren(...items.map((s, i) => h("li", {
    id: `suggestion-${i}`, role: "option", "aria-selected": "false", "data-text": s.text,
    onmousedown: (e) => {
      e.preventDefault();
      commitSearch(s.text);
    },
  }, h("span", {}, s.text), h("span", { class: "kind" }, s.kind))));
  listbox.hidden = false;
  q.setAttribute("aria-expanded", "true");
  active = -1;
}

function commitSearch(text) {
  text = text.trim();
  closeSuggestions();
  if (!text) return;
  q.value = text;
  store.addSearch(text);
  const hash = `#/search?q=${encodeURIComponent(text)}&source=${encodeURIComponent($("source").value)}`;
  if (location.hash === hash) render();
  else location.hash = hash;
}

q.addEventListener("input", () => {
  const text = q.value.trim();
  clearTimeout(suggestTimer);
  clearTimeout(searchTimer);
  if (!text) return closeSuggestions();
  suggestTimer = setTimeout(() => showSuggestions(text), 120);
  // Results follow the typing too, without recording every keystroke as a search.
  searchTimer = setTimeout(() => {
    const hash = `#/search?q=${encodeURIComponent(text)}&source=${encodeURIComponent($("source").value)}`;
    if (location.hash !== hash) history.replaceState(null, "", hash);
    render();
  }, 350);
});

q.addEventListener("keydown", (e) => {
  if (e.key === "ArrowDown" && !listbox.hidden) {
    e.preventDefault();
    highlight(active + 1);
  } else if (e.key === "ArrowUp" && !listbox.hidden) {
    e.preventDefault();
    highlight(active - 1);
  } else if (e.key === "Escape") {
    closeSuggestions();
  } else if (e.key === "Enter") {
    e.preventDefault();
    clearTimeout(searchTimer);
    commitSearch(active >= 0 ? listbox.children[active].dataset.text : q.value);
  }
});
q.addEventListener("blur", () => setTimeout(closeSuggestions, 100));
$("search-form").addEventListener("submit", (e) => e.preventDefault());
$("source").addEventListener("change", (e) => {
  store.setting("source", e.target.value);
  if (q.value.trim()) commitSearch(q.value);
});

// ---------- keyboard shortcuts ----------

document.addEventListener("keydown", (e) => {
  const tag = e.target.tagName;
  const typing = tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || e.target.isContentEditable;
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === "/" && !typing) {
    e.preventDefault();
    q.focus();
    return;
  }
  if (typing && !(e.target.type === "range" && e.key === " ")) return;
  const audio = player.audio;
  switch (e.key) {
    case " ":
      if (tag === "BUTTON" || tag === "SUMMARY" || tag === "A") return; // the focused control's own action
      e.preventDefault();
      player.toggle();
      break;
    case "ArrowRight":
      e.preventDefault();
      e.shiftKey ? player.next() : player.seek(audio.currentTime + 5);
      break;
    case "ArrowLeft":
      e.preventDefault();
      e.shiftKey ? player.previous() : player.seek(audio.currentTime - 5);
      break;
    case "ArrowUp":
      e.preventDefault();
      player.setVolume(audio.volume + 0.05);
      break;
    case "ArrowDown":
      e.preventDefault();
      player.setVolume(audio.volume - 0.05);
      break;
    case "n":
      player.next();
      break;
    case "p":
      player.previous();
      break;
  }
});

// ---------- theme ----------

function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  $("theme").setAttribute("aria-label", `Theme: ${theme} (change)`);
  $("theme").title = `Theme: ${theme}`;
}
$("theme").addEventListener("click", () => {
  const order = ["system", "light", "dark"];
  const next = order[(order.indexOf(store.settings.theme) + 1) % order.length];
  store.setting("theme", next);
  applyTheme(next);
});

// ---------- start ----------

async function start() {
  applyTheme(store.settings.theme ?? "system");
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
  if (params.get("q")) q.value = params.get("q");
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
