// Who is listening: the server answers `/api/v1/me` with `open` (loopback, no users yet: the
// person at the machine), `user` (logged in with the session cookie, which is HttpOnly: this
// code never sees it) or `guest` (listening without a login, --open-listening). When the API
// answers 401, the login dialog opens; after a login the current view is drawn again.
// The account view: one's password and API keys, and for admins the users.

import { $, h, ago, toast } from "./dom.js";
import { api } from "./api.js";
import { render } from "./router.js";

export const account = { mode: "open", user: null, admin: true };

/** Asks the server who we are; a 401 opens the login dialog. */
export async function refreshAccount() {
  try {
    Object.assign(account, await api("/api/v1/me"));
  } catch (error) {
    if (error.status !== 401) throw error;
    Object.assign(account, { mode: "none", user: null, admin: false });
  }
  showAccount();
  window.dispatchEvent(new CustomEvent("anyaudio:account", { detail: account }));
  return account;
}

function showAccount() {
  const link = $("account-link");
  link.textContent = account.user ? account.user.name : account.mode === "open" ? "Account" : "Log in";
  link.dataset.mode = account.mode;
}

const json = (method, body) => ({
  method,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body ?? {}),
});

// ---- the login dialog ----

let loginOpen = false;

export function openLogin(message) {
  const dialog = $("login");
  $("login-error").textContent = message ?? "";
  if (!loginOpen) {
    loginOpen = true;
    dialog.showModal();
    $("login-name").focus();
  }
}

async function submitLogin(event) {
  event.preventDefault();
  const name = $("login-name").value.trim();
  const password = $("login-password").value;
  const button = $("login-submit");
  button.disabled = true;
  try {
    await api("/api/v1/login", json("POST", { name, password }));
    $("login-password").value = "";
    $("login").close();
    await refreshAccount();
    toast(`Logged in as ${account.user.name}`);
    render();
  } catch (error) {
    $("login-error").textContent =
      error.code === "bad_credentials" ? "Wrong name or password." : error.message;
  } finally {
    button.disabled = false;
  }
}

export function setUpLogin() {
  $("login-form").addEventListener("submit", submitLogin);
  $("login").addEventListener("close", () => {
    loginOpen = false;
  });
  // Any API call that meets a 401 (a session ended, a server closed since) asks for a login.
  window.addEventListener("anyaudio:unauthenticated", () => {
    Object.assign(account, { mode: "none", user: null, admin: false });
    showAccount();
    openLogin();
  });
}

// ---- the account view ----

function field(label, attrs) {
  return h("label", { class: "field" }, h("span", {}, label), h("input", attrs));
}

/** A form whose submit runs `action(values)`, shows its error inline and clears on success. */
function form(id, title, fields, submitLabel, action) {
  const error = h("p", { class: "error", role: "alert", id: `${id}-error` });
  const el = h("form", { class: "account-form", id }, ...fields, h("div", { class: "actions" },
    h("button", { class: "primary", type: "submit" }, submitLabel)), error);
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const values = Object.fromEntries(new FormData(el));
    try {
      await action(values, el);
    } catch (e) {
      error.textContent = e.message;
    }
  });
  return [h("h2", {}, title), el];
}

async function logout() {
  await api("/api/v1/logout", json("POST"));
  await refreshAccount();
  toast("Logged out");
  render();
}

function openModeView() {
  return [
    h("p", {}, "This server is open to whoever uses this computer: it listens on this machine only and has no users yet, so nobody is asked to log in."),
    ...form("first-user", "Require a login", [
      h("p", { class: "muted" }, "Add a first user (an admin). From then on, every device logs in, this one too."),
      field("Name", { name: "name", required: true, autocomplete: "username", maxlength: 64 }),
      field("Password", { name: "password", type: "password", required: true, minlength: 8, autocomplete: "new-password" }),
    ], "Add user and log in", async ({ name, password }) => {
      await api("/api/v1/users", json("POST", { name, password, admin: true }));
      await api("/api/v1/login", json("POST", { name, password }));
      await refreshAccount();
      toast(`Logged in as ${name}`);
      render();
    }),
  ];
}

async function keysSection() {
  const { keys } = await api("/api/v1/me/keys");
  const shown = h("div", { id: "new-key" });
  const rows = keys.map((k) => h("li", { class: "key-row" },
    h("span", { class: "key-name" }, k.name),
    h("code", {}, k.id),
    h("span", { class: "muted" }, k.last_used_at ? `used ${ago(k.last_used_at * 1000)}` : "never used"),
    h("button", { type: "button", "aria-label": `Revoke ${k.name}`, onclick: async () => {
      await api(`/api/v1/me/keys/${encodeURIComponent(k.id)}`, { method: "DELETE", headers: { "x-requested-with": "anyaudio" } });
      toast(`Key ${k.name} revoked`);
      render();
    } }, "Revoke")));
  return [
    ...form("add-key", "API keys", [
      h("p", { class: "muted" }, "For apps and scripts: send a key as “Authorization: Bearer …”. One per device, so each can be revoked alone."),
      keys.length ? h("ul", { class: "keys", "aria-label": "API keys" }, rows) : h("p", { class: "empty" }, "No keys yet."),
      field("New key's name", { name: "name", required: true, maxlength: 64, placeholder: "phone" }),
      field("Your password", { name: "password", type: "password", required: true, autocomplete: "current-password" }),
    ], "Make a key", async ({ name, password }) => {
      const made = await api("/api/v1/me/keys", json("POST", { name, password }));
      await render();
      $("new-key")?.replaceChildren(h("p", {}, "Your new key, shown this once:"), h("code", { class: "secret", id: "key-secret" }, made.secret));
    }),
    shown,
  ];
}

async function usersSection() {
  const { users } = await api("/api/v1/users");
  const rows = users.map((u) => h("li", { class: "key-row" },
    h("span", { class: "key-name" }, u.name),
    h("span", { class: "muted" }, u.admin ? "admin" : "listener"),
    u.name === account.user.name ? null : h("button", { type: "button", "aria-label": `Remove ${u.name}`, onclick: async () => {
      if (!confirm(`Remove ${u.name}, with their keys?`)) return;
      try {
        await api(`/api/v1/users/${encodeURIComponent(u.name)}`, { method: "DELETE", headers: { "x-requested-with": "anyaudio" } });
        toast(`${u.name} removed`);
      } catch (error) {
        toast(error.message);
      }
      render();
    } }, "Remove")));
  return form("add-user", "Users", [
    h("ul", { class: "keys", "aria-label": "Users" }, rows),
    field("Name", { name: "name", required: true, maxlength: 64, autocomplete: "off" }),
    field("Password", { name: "password", type: "password", required: true, minlength: 8, autocomplete: "new-password" }),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "admin" }), " May scan, add sources and manage users (admin)"),
  ], "Add user", async ({ name, password, admin }) => {
    await api("/api/v1/users", json("POST", { name, password, admin: admin === "on" }));
    toast(`${name} added`);
    render();
  });
}

export async function accountView() {
  await refreshAccount().catch(() => {});
  const parts = [h("h1", {}, "Account")];
  if (account.mode === "open") return [...parts, ...openModeView()];
  if (!account.user) {
    parts.push(h("p", {}, account.mode === "guest" ? "You are listening without a login." : "You are not logged in."),
      h("div", { class: "actions" }, h("button", { class: "primary", type: "button", onclick: () => openLogin() }, "Log in")));
    return parts;
  }
  parts.push(h("p", { id: "whoami" }, `Logged in as ${account.user.name}${account.admin ? " (admin)" : ""}.`),
    h("div", { class: "actions" }, h("button", { type: "button", id: "logout", onclick: logout }, "Log out")));
  parts.push(...form("password", "Password", [
    field("Current password", { name: "current", type: "password", required: true, autocomplete: "current-password" }),
    field("New password", { name: "new", type: "password", required: true, minlength: 8, autocomplete: "new-password" }),
  ], "Change password", async ({ current, new: fresh }) => {
    await api("/api/v1/me/password", json("PUT", { current, new: fresh }));
    // Changing it ends every session, this one too: log in again with the new one.
    await api("/api/v1/login", json("POST", { name: account.user.name, password: fresh }));
    toast("Password changed; other devices log in again");
    render();
  }));
  parts.push(...await keysSection());
  if (account.admin) parts.push(...await usersSection());
  return parts;
}
