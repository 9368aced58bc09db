// Hash routing: `#/<view>?<params>` picks the view that fills <main> (home when there is no such
// view) and marks its link in the side navigation. The views themselves are handed in by app.js
// (useViews), so that views and components may ask for a new rendering without an import cycle.

import { $ } from "./dom.js";

const main = $("main");
let views = {};
let currentView = "home";
let renderSeq = 0;

/** The views by name: async functions of the URL's params answering the children of <main>. */
export function useViews(all) {
  views = all;
}

export function route() {
  const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  return { view: views[path] ? path : "home", params: new URLSearchParams(query) };
}

/** Fills <main> with the view the URL names. */
export async function render() {
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

/** Renders the view again if it is one of `names` (what it shows has changed). */
export function refresh(...names) {
  if (names.includes(currentView)) render();
}

window.addEventListener("hashchange", () => {
  render();
  main.focus({ preventScroll: true });
});
