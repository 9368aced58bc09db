// Listening habits -> "suggested for you". Pure functions over what the browser keeps (no
// accounts): plays, skips, favourites, searches, and the server's related tracks of the tracks
// the listener likes most. Nothing here touches the DOM or the network, so node can test it.

const DAY = 86400 * 1000;
/** A play counts half as much after this long. */
const HALF_LIFE = 14 * DAY;

/** A play shorter than this (seconds) and under half the track, ended by the listener, is a skip. */
export const SKIP_SECONDS = 30;

export function fold(text) {
  return (text ?? "")
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

/** How much a moment `age` ms ago still counts. */
export function decay(age) {
  return Math.pow(0.5, Math.max(0, age) / HALF_LIFE);
}

/** Whether a play event was a skip: ended by the listener early in the track. */
export function isSkip(event) {
  if (event.completed) return false;
  const half = event.duration ? event.duration / 2 : Infinity;
  return event.listened < Math.min(SKIP_SECONDS, half);
}

function add(map, key, amount) {
  if (key == null || key === "") return;
  map.set(key, (map.get(key) ?? 0) + amount);
}

/**
 * What the listener likes: per track, artist, album and genre, a score that grows with full
 * listens and favourites, shrinks with skips, and fades with time.
 * `history`: [{id, at, listened, duration, completed}], newest first; `tracks`: id -> track.
 */
export function profile({ history = [], favourites = [], tracks = {}, now = Date.now() }) {
  const p = { track: new Map(), artist: new Map(), album: new Map(), genre: new Map(), plays: new Map(), skips: new Map(), lastPlayed: new Map() };
  for (const event of history) {
    const t = tracks[event.id];
    const w = decay(now - event.at);
    if (!p.lastPlayed.has(event.id)) p.lastPlayed.set(event.id, event.at);
    if (isSkip(event)) {
      add(p.skips, event.id, 1);
      add(p.track, event.id, -1.5 * w);
      add(p.artist, t?.artist, -0.5 * w);
      continue;
    }
    add(p.plays, event.id, 1);
    // A full listen counts 1, a partial one by how much of it was heard.
    const heard = event.completed ? 1 : Math.min(1, event.duration ? event.listened / event.duration : 0.5);
    add(p.track, event.id, heard * w);
    add(p.artist, t?.artist, heard * w);
    add(p.album, t?.album, 0.5 * heard * w);
    add(p.genre, t?.genre, 0.3 * heard * w);
  }
  for (const fav of favourites) {
    const t = tracks[fav.id];
    add(p.track, fav.id, 3);
    add(p.artist, t?.artist, 2);
    add(p.album, t?.album, 1);
    add(p.genre, t?.genre, 0.5);
  }
  return p;
}

/** The tracks to ask the server's related tracks of: the best liked, at most `n`. */
export function seeds(p, n = 5) {
  return [...p.track.entries()].filter(([, s]) => s > 0).sort((a, b) => b[1] - a[1]).slice(0, n).map(([id]) => id);
}

/**
 * Ranks candidate tracks for "suggested for you".
 * `related`: seed id -> [track] (the server's related tracks); `searches`: [{q, at}].
 * Returns [{track, score, reason}] best first, without recently played or often skipped tracks.
 */
export function suggest({ history = [], favourites = [], searches = [], tracks = {}, related = {}, now = Date.now(), limit = 12 }) {
  const p = profile({ history, favourites, tracks, now });
  const candidates = new Map();
  for (const [seed, list] of Object.entries(related)) {
    const seedScore = Math.max(0, p.track.get(seed) ?? 0);
    for (const t of list ?? []) {
      const c = candidates.get(t.id) ?? { track: t, related: 0, seed: null, seedScore: 0 };
      c.related += 1 + seedScore;
      if (seedScore >= c.seedScore) Object.assign(c, { seed, seedScore });
      candidates.set(t.id, c);
    }
  }
  const recentSearches = searches.map((s) => ({ words: fold(s.q).split(" ").filter(Boolean), q: s.q, w: decay(now - s.at) }));
  const ranked = [];
  for (const c of candidates.values()) {
    const t = c.track;
    if (p.skips.get(t.id) >= 2) continue;
    const last = p.lastPlayed.get(t.id);
    if (last != null && now - last < 2 * 3600 * 1000) continue; // heard in the last two hours
    const artist = p.artist.get(t.artist) ?? 0;
    const album = p.album.get(t.album) ?? 0;
    const genre = p.genre.get(t.genre) ?? 0;
    const text = fold(`${t.title} ${t.artist ?? ""} ${t.album ?? ""}`).split(" ");
    let searched = 0, searchedFor = null;
    for (const s of recentSearches) {
      if (s.words.length && s.words.every((w) => text.some((x) => x.startsWith(w)))) {
        if (s.w > searched) searchedFor = s.q;
        searched = Math.max(searched, s.w);
      }
    }
    const plays = p.plays.get(t.id) ?? 0;
    const score = 0.6 * c.related + artist + 0.5 * album + 0.3 * genre + 1.5 * searched
      - 0.3 * plays - 1.5 * (p.skips.get(t.id) ?? 0);
    let reason;
    if (searchedFor && 1.5 * searched >= artist) reason = `You searched for “${searchedFor}”`;
    else if (artist > 0.5 && t.artist) reason = `Because you listen to ${t.artist}`;
    else if (c.seed && tracks[c.seed]) reason = `Like “${tracks[c.seed].title}”`;
    else reason = "From your listening";
    ranked.push({ track: t, score, reason });
  }
  ranked.sort((a, b) => b.score - a.score || a.track.title.localeCompare(b.track.title));
  return ranked.slice(0, limit);
}
