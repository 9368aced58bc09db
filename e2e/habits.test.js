// "Suggested for you" from listening habits: the pure scoring in src/web/assets/habits.js.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fold, isSkip, profile, seeds, suggest } from "../src/web/assets/habits.js";

const NOW = Date.UTC(2026, 10, 25, 12);
const HOUR = 3600 * 1000;
const track = (id, artist, genre = "Pop", album = `${artist} album`) => ({ id, title: `Song ${id}`, artist, album, genre, duration: 200 });
const tracks = Object.fromEntries([
  track("a1", "Ada"), track("a2", "Ada"), track("a3", "Ada"),
  track("b1", "Bo", "Jazz"), track("b2", "Bo", "Jazz"),
  track("c1", "Cy", "Rock"), track("c2", "Cy", "Rock"),
].map((t) => [t.id, t]));
const play = (id, hoursAgo, listened = 200, completed = true) => ({ id, at: NOW - hoursAgo * HOUR, listened, duration: 200, completed });

test("folding ignores case, accents and punctuation", () => {
  assert.equal(fold("Beyoncé — Halo!"), "beyonce halo");
});

test("a short play ended by the listener is a skip; a finished or long one is not", () => {
  assert.equal(isSkip(play("a1", 1, 5, false)), true);
  assert.equal(isSkip(play("a1", 1, 5, true)), false);
  assert.equal(isSkip(play("a1", 1, 120, false)), false);
});

test("full listens and favourites make an artist liked; skips and time make it less so", () => {
  const p = profile({ history: [play("a1", 3), play("a2", 5), play("b1", 4, 3, false)], favourites: [], tracks, now: NOW });
  assert.ok(p.artist.get("Ada") > 1.9);
  assert.ok(p.artist.get("Bo") < 0);
  const old = profile({ history: [play("a1", 24 * 28)], tracks, now: NOW });
  assert.ok(Math.abs(old.track.get("a1") - 0.25) < 1e-9, "four weeks ago counts a quarter");
  const fav = profile({ history: [], favourites: [{ id: "c1", at: NOW }], tracks, now: NOW });
  assert.deepEqual(seeds(fav), ["c1"]);
});

test("suggestions favour the artists listened to, skip what was just heard or often skipped", () => {
  const history = [play("a1", 1), play("a2", 30), play("a2", 50), play("c2", 40, 4, false), play("c2", 41, 3, false)];
  const related = {
    a1: [tracks.a2, tracks.a3, tracks.b1, tracks.c2],
    a2: [tracks.a1, tracks.a3, tracks.b2],
  };
  const picks = suggest({ history, favourites: [], searches: [], tracks, related, now: NOW });
  const ids = picks.map((p) => p.track.id);
  assert.equal(ids[0], "a3", JSON.stringify(picks));
  assert.ok(!ids.includes("a1"), "played an hour ago");
  assert.ok(!ids.includes("c2"), "skipped twice");
  assert.match(picks[0].reason, /Ada/);
  assert.ok(ids.indexOf("b1") > ids.indexOf("a3"));
});

test("a recent search lifts what matches it", () => {
  const history = [play("a1", 30)];
  const related = { a1: [tracks.a2, tracks.b1] };
  const without = suggest({ history, tracks, related, now: NOW }).map((p) => p.track.id);
  assert.deepEqual(without, ["a2", "b1"]);
  const picks = suggest({ history, tracks, related, searches: [{ q: "bo", at: NOW - HOUR }], now: NOW });
  assert.equal(picks[0].track.id, "b1");
  assert.equal(picks[0].reason, "You searched for “bo”");
});

test("no listening, no suggestions", () => {
  assert.deepEqual(suggest({ history: [], favourites: [], tracks, related: {}, now: NOW }), []);
  assert.deepEqual(seeds(profile({ history: [play("a1", 1, 2, false)], tracks, now: NOW })), [], "a skip seeds nothing");
});
