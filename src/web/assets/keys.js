// Keyboard shortcuts of the whole page: "/" goes to the search box; Space plays or pauses;
// ←/→ seek 5 s (with Shift: previous/next track); ↑/↓ change the volume; n and p skip. They are
// left alone while the listener types in a field or holds Ctrl, Alt or Meta.

import { $ } from "./dom.js";
import { player } from "./shared-player.js";

document.addEventListener("keydown", (e) => {
  const tag = e.target.tagName;
  const typing = tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || e.target.isContentEditable;
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === "/" && !typing) {
    e.preventDefault();
    $("q").focus();
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
