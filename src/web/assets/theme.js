// The colour theme: system (follows the device), light or dark, on <html data-theme>; the
// header's ◐ button steps through them and the choice is kept in the browser's settings.

import { $ } from "./dom.js";
import { store } from "./store.js";

export function applyTheme(theme) {
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
