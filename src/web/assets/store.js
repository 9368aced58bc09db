// What the browser keeps for the listener, in localStorage: history, favourites, searches, the
// queue and the position in it, settings, and the details of every track these name, so the
// app can list them with the server out of reach. A listener who logs in keeps favourites and
// plays in their account too (marks.js listens for the `anyaudio:favourite` and `anyaudio:play`
// events this sends).

const PREFIX = "anyaudio.";
const MAX_HISTORY = 500;
const MAX_SEARCHES = 50;

function load(key, fallback) {
  try {
    const raw = localStorage.getItem(PREFIX + key);
    return raw == null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

function save(key, value) {
  try {
    localStorage.setItem(PREFIX + key, JSON.stringify(value));
  } catch (error) {
    console.warn("could not save", key, error); // storage full or disabled: the app goes on
  }
}

/** The fields of a track worth keeping. */
function slim(t) {
  const { id, title, artist, album, genre, duration, artwork, source, mime, codec } = t;
  return { id, title, artist, album, genre, duration, artwork, source, mime, codec };
}

export const store = {
  tracks: load("tracks", {}),
  history: load("history", []),
  favourites: load("favourites", []),
  searches: load("searches", []),
  queue: load("queue", { ids: [], index: -1, position: 0 }),
  settings: load("settings", { theme: "system", volume: 1, source: "library" }),
  offline: load("offline", {}),

  remember(track) {
    this.tracks[track.id] = slim(track);
  },
  track(id) {
    return this.tracks[id];
  },
  /** Drops details of tracks nothing refers to any more. */
  prune() {
    const used = new Set([
      ...this.history.map((e) => e.id),
      ...this.favourites.map((f) => f.id),
      ...this.queue.ids,
      ...Object.keys(this.offline),
    ]);
    for (const id of Object.keys(this.tracks)) if (!used.has(id)) delete this.tracks[id];
  },
  persist(...keys) {
    if (keys.includes("history") || keys.includes("favourites") || keys.includes("queue")) this.prune();
    for (const key of [...keys, "tracks"]) save(key, this[key]);
  },

  addPlay(event) {
    this.history.unshift(event);
    this.history.length = Math.min(this.history.length, MAX_HISTORY);
    this.persist("history");
    window.dispatchEvent(new CustomEvent("anyaudio:play", { detail: event }));
  },
  isFavourite(id) {
    return this.favourites.some((f) => f.id === id);
  },
  toggleFavourite(track) {
    if (this.isFavourite(track.id)) {
      this.favourites = this.favourites.filter((f) => f.id !== track.id);
    } else {
      this.remember(track);
      this.favourites.unshift({ id: track.id, at: Date.now() });
    }
    this.persist("favourites");
    const saved = this.isFavourite(track.id);
    window.dispatchEvent(new CustomEvent("anyaudio:favourite", { detail: { id: track.id, saved } }));
    return saved;
  },
  /** Favourites as an account keeps them (tracks with when they were saved), replacing these. */
  setFavourites(saved) {
    saved.forEach(({ track }) => this.remember(track));
    this.favourites = saved.map(({ track, at }) => ({ id: track.id, at }));
    this.persist("favourites");
  },
  addSearch(q) {
    this.searches = [{ q, at: Date.now() }, ...this.searches.filter((s) => s.q !== q)].slice(0, MAX_SEARCHES);
    this.persist("searches");
  },
  setQueue(tracks, index) {
    tracks.forEach((t) => this.remember(t));
    this.queue = { ids: tracks.map((t) => t.id), index, position: 0 };
    this.persist("queue");
  },
  saveQueue() {
    this.persist("queue");
  },
  savePosition(position) {
    this.queue.position = position;
    save("queue", this.queue); // often: no pruning
  },
  setOffline(track, size) {
    this.remember(track);
    this.offline[track.id] = { size, at: Date.now() };
    this.persist("offline");
  },
  removeOffline(id) {
    delete this.offline[id];
    this.persist("offline");
  },
  setting(key, value) {
    this.settings[key] = value;
    save("settings", this.settings);
  },
};
