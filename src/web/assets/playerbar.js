// The player bar at the foot of the page (what plays, its cover, play/pause, previous/next, the
// seek bar with what is buffered, volume, ♡) and the queue panel beside it (play, reorder by
// dragging or with ↑/↓, remove, clear). Both follow the player's "change" events.

import { $, h, formatTime, toast } from "./dom.js";
import { store } from "./store.js";
import { player } from "./shared-player.js";
import { art } from "./components.js";
import { refresh } from "./router.js";

let seeking = false; // the listener is dragging the seek bar

export function renderPlayerBar(kind) {
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
  refresh("saved");
});

// The queue panel.

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
