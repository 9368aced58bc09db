// The pieces the views are built from: a cover (art), rows of tracks with their ⋯ menu (play
// next, add to the queue, save for offline), the playlist grid, section headings, the empty and
// error notes, and the Play all / Shuffle buttons. A track's cover is its `artwork` URL from
// the API (null when it has none: then a colour and the initials of its album show instead).

import { h, formatTime, formatBytes, toast } from "./dom.js";
import { api } from "./api.js";
import { store } from "./store.js";
import * as offline from "./offline.js";
import { player } from "./shared-player.js";
import { render } from "./router.js";

/** A cover: the track's artwork over a colour and the initials of its album (shown if it has none). */
export function art(track, size = "") {
  const el = h("div", { class: `art ${size}`, "aria-hidden": "true" });
  const key = track?.album ?? track?.artist ?? track?.title ?? "";
  let hash = 0;
  for (const c of key) hash = (hash * 31 + c.codePointAt(0)) >>> 0;
  el.style.setProperty("--hue", hash % 360);
  el.textContent = (key.match(/\p{L}|\p{N}/gu) ?? ["♪"]).slice(0, 2).join("").toUpperCase();
  const src = track?.artwork;
  if (src) {
    const img = h("img", { src, alt: "", loading: "lazy", referrerpolicy: "no-referrer" });
    img.addEventListener("error", () => img.remove());
    el.append(img);
  }
  return el;
}

/** Rows of tracks; choosing one plays the list from there. */
export function trackList(tracks, { label, reasons } = {}) {
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
          player.emit(); // the player bar's ♡ follows
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

/** Cards of playlists, each a link to the playlist's view. */
export function playlistGrid(lists) {
  return h("ul", { class: "grid" }, lists.map((p) => h("li", {},
    h("a", { class: "card", href: `#/playlist?id=${encodeURIComponent(p.id)}` },
      art({ album: p.name, artwork: p.artwork }, "big"),
      h("span", { class: "title" }, p.name),
      h("span", { class: "sub" }, [p.subtitle, `${p.track_count} ${p.track_count === 1 ? "song" : "songs"}`].filter(Boolean).join(" · "))))));
}

export function section(title, ...content) {
  return h("section", { class: "section", "aria-label": title }, h("h2", {}, title), ...content);
}

export function empty(text) {
  return h("p", { class: "empty" }, text);
}

export function errorBox(error) {
  const text = error.code === "offline" ? "The server cannot be reached. Saved and offline songs still play."
    : error.status === 401 ? "Log in to see this."
    : error.message;
  return h("p", { class: "error", role: "alert" }, text);
}

export function playButtons(tracks) {
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
