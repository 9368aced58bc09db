// The search box: autocomplete from the server's /suggest and the listener's recent searches in
// an ARIA listbox (↑/↓ to move, Enter to search, Escape to close), results that follow the
// typing, and the source picker (library, local files, remote media, YouTube, everywhere).

import { $, h } from "./dom.js";
import { api } from "./api.js";
import { store } from "./store.js";
import { render } from "./router.js";

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
