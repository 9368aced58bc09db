// The player: one <audio> element, the queue, stream URLs (asked for lazily, cached until they
// expire, the next track's fetched ahead), saved-for-offline audio, the Media Session (lock
// screen and media keys), and a history entry for every play.

import { store } from "./store.js";
import * as offline from "./offline.js";

/** A stream URL is asked for again this long before it expires (seconds). */
const URL_MARGIN = 60;

export class Player extends EventTarget {
  constructor(audio, api) {
    super();
    this.audio = audio;
    this.api = api;
    this.queue = [];
    this.index = -1;
    this.urls = new Map(); // track id -> {url, expires_at}
    this.blobUrl = null;
    this.play_ = null; // the play being listened to: {id, at, listened, duration}
    this.lastTime = 0;
    this.retried = false;
    this.savedAt = 0;
    audio.volume = store.settings.volume ?? 1;
    audio.preload = "auto";
    audio.addEventListener("timeupdate", () => this.onTime());
    audio.addEventListener("ended", () => this.onEnded());
    audio.addEventListener("error", () => this.onError());
    audio.addEventListener("play", () => this.emit());
    audio.addEventListener("pause", () => {
      store.savePosition(audio.currentTime);
      this.emit();
    });
    audio.addEventListener("loadedmetadata", () => this.updatePositionState());
    for (const name of ["waiting", "stalled", "playing", "canplay", "progress", "volumechange", "durationchange"]) {
      audio.addEventListener(name, () => this.emit(name));
    }
    this.setupMediaSession();
  }

  get current() {
    return this.queue[this.index] ?? null;
  }

  emit(kind = "change") {
    this.dispatchEvent(new CustomEvent("change", { detail: kind }));
  }

  /** A playable URL for `track`: saved audio, a cached stream URL, or a new one from the server. */
  async sourceFor(track, { fresh = false } = {}) {
    if (store.offline[track.id]) {
      const blob = await offline.url(track.id);
      if (blob) return { url: blob, blob: true };
    }
    const cached = this.urls.get(track.id);
    if (!fresh && cached && cached.expires_at - URL_MARGIN > Date.now() / 1000) return cached;
    const next = this.queue.slice(this.index + 1, this.index + 3).filter((t) => t.id !== track.id);
    const prefetch = next.length ? `?prefetch=${next.map((t) => encodeURIComponent(t.id)).join(",")}` : "";
    const answer = await this.api(`/api/v1/tracks/${encodeURIComponent(track.id)}/stream_url${prefetch}`);
    this.urls.set(track.id, answer);
    return answer;
  }

  /** Asks for the next track's stream URL now, so it starts at once when its turn comes. */
  prefetchNext() {
    const next = this.queue[this.index + 1];
    if (next && !store.offline[next.id]) this.sourceFor(next).catch(() => {});
  }

  /** Replaces the queue with `tracks` and plays the one at `index`. */
  async playList(tracks, index = 0) {
    this.queue = [...tracks];
    store.setQueue(this.queue, index);
    await this.playAt(index);
  }

  async playAt(index, { startAt = 0, autoplay = true } = {}) {
    const track = this.queue[index];
    if (!track) return;
    this.finishPlay(false);
    this.index = index;
    this.retried = false;
    store.queue.index = index;
    store.savePosition(startAt);
    this.emit("track");
    let source;
    try {
      source = await this.sourceFor(track);
    } catch (error) {
      this.dispatchEvent(new CustomEvent("error", { detail: `Cannot play “${track.title}”: ${error.message}` }));
      return;
    }
    if (this.current !== track) return; // another track was chosen meanwhile
    this.setSource(source, startAt);
    this.updateMetadata();
    if (autoplay) {
      this.play_ = { id: track.id, at: Date.now(), listened: 0, duration: track.duration ?? 0 };
      await this.audio.play().catch((error) => {
        if (error.name !== "AbortError") this.dispatchEvent(new CustomEvent("error", { detail: error.message }));
      });
    }
    this.prefetchNext();
  }

  setSource(source, startAt) {
    if (this.blobUrl) URL.revokeObjectURL(this.blobUrl);
    this.blobUrl = source.blob ? source.url : null;
    this.audio.src = source.url;
    this.lastTime = startAt;
    if (startAt > 0) {
      this.audio.addEventListener("loadedmetadata", () => (this.audio.currentTime = startAt), { once: true });
    }
  }

  /** Puts back the queue and position of the last visit, paused. */
  async restore() {
    const { ids, index, position } = store.queue;
    const tracks = ids.map((id) => store.track(id)).filter(Boolean);
    if (!tracks.length) return;
    this.queue = tracks;
    const at = Math.min(Math.max(index, 0), tracks.length - 1);
    await this.playAt(at, { startAt: position ?? 0, autoplay: false });
  }

  toggle() {
    if (!this.current) return;
    if (this.audio.paused) {
      if (!this.play_ || this.play_.id !== this.current.id) {
        this.play_ = { id: this.current.id, at: Date.now(), listened: 0, duration: this.current.duration ?? 0 };
      }
      this.audio.play().catch(() => {});
    } else {
      this.audio.pause();
    }
  }

  next() {
    if (this.index + 1 < this.queue.length) this.playAt(this.index + 1);
  }

  previous() {
    if (this.audio.currentTime > 3 || this.index === 0) this.seek(0);
    else this.playAt(this.index - 1);
  }

  seek(seconds) {
    if (!this.current || !Number.isFinite(seconds)) return;
    const duration = this.audio.duration || this.current.duration || 0;
    this.audio.currentTime = Math.max(0, duration ? Math.min(seconds, duration - 0.1) : seconds);
    this.lastTime = this.audio.currentTime;
  }

  setVolume(volume) {
    this.audio.volume = Math.min(1, Math.max(0, volume));
    store.setting("volume", this.audio.volume);
  }

  // The queue.
  enqueue(track) {
    this.queue.push(track);
    this.queueChanged();
  }

  playNext(track) {
    this.queue.splice(this.index + 1, 0, track);
    this.queueChanged();
  }

  removeAt(i) {
    if (i === this.index) return; // the playing track stays; skip it instead
    this.queue.splice(i, 1);
    if (i < this.index) this.index--;
    this.queueChanged();
  }

  move(from, to) {
    if (from === to || from < 0 || to < 0 || from >= this.queue.length || to >= this.queue.length) return;
    const playing = this.current;
    const [track] = this.queue.splice(from, 1);
    this.queue.splice(to, 0, track);
    this.index = this.queue.indexOf(playing);
    this.queueChanged();
  }

  /** Empties the queue but for the playing track. */
  clear() {
    this.queue = this.current ? [this.current] : [];
    this.index = this.current ? 0 : -1;
    this.queueChanged();
  }

  queueChanged() {
    this.queue.forEach((t) => store.remember(t));
    store.queue = { ids: this.queue.map((t) => t.id), index: this.index, position: this.audio.currentTime || 0 };
    store.saveQueue();
    this.prefetchNext();
    this.emit("queue");
  }

  // Events.
  onTime() {
    const t = this.audio.currentTime;
    const delta = t - this.lastTime;
    // Only time that played counts as listened, not seeks.
    if (this.play_ && !this.audio.paused && delta > 0 && delta < 2) this.play_.listened += delta;
    this.lastTime = t;
    if (Date.now() - this.savedAt > 5000) {
      this.savedAt = Date.now();
      store.savePosition(t);
      this.updatePositionState();
    }
    this.emit("time");
  }

  onEnded() {
    this.finishPlay(true);
    if (this.index + 1 < this.queue.length) this.playAt(this.index + 1);
    else this.emit();
  }

  /** A stream URL can expire during a long pause: ask for a new one once and carry on. */
  async onError() {
    const track = this.current;
    if (!track || this.retried || this.blobUrl) {
      if (track) this.dispatchEvent(new CustomEvent("error", { detail: `“${track.title}” could not be played` }));
      return;
    }
    this.retried = true;
    const at = this.lastTime;
    try {
      const source = await this.sourceFor(track, { fresh: true });
      this.setSource(source, at);
      await this.audio.play();
    } catch (error) {
      this.dispatchEvent(new CustomEvent("error", { detail: `“${track.title}” could not be played: ${error.message}` }));
    }
  }

  /** Writes the play being listened to into the history. */
  finishPlay(completed) {
    const play = this.play_;
    this.play_ = null;
    if (!play || (!completed && play.listened < 1)) return;
    store.addPlay({ ...play, listened: Math.round(play.listened), completed });
    this.dispatchEvent(new CustomEvent("played", { detail: play }));
  }

  // Media Session: the lock screen, notification and hardware media keys.
  setupMediaSession() {
    const ms = navigator.mediaSession;
    if (!ms) return;
    const actions = {
      play: () => this.toggle(),
      pause: () => this.toggle(),
      previoustrack: () => this.previous(),
      nexttrack: () => this.next(),
      seekbackward: (d) => this.seek(this.audio.currentTime - (d.seekOffset || 10)),
      seekforward: (d) => this.seek(this.audio.currentTime + (d.seekOffset || 10)),
      seekto: (d) => this.seek(d.seekTime),
      stop: () => this.audio.pause(),
    };
    for (const [action, handler] of Object.entries(actions)) {
      try {
        ms.setActionHandler(action, handler);
      } catch {
        // this browser does not know the action
      }
    }
  }

  updateMetadata() {
    const t = this.current;
    if (!navigator.mediaSession || !t || typeof MediaMetadata === "undefined") return;
    navigator.mediaSession.metadata = new MediaMetadata({
      title: t.title,
      artist: t.artist ?? "",
      album: t.album ?? "",
      // The API's `artwork`: the cover's URL (a remote thumbnail or the server's artwork of a
      // library file), null when the track has none.
      artwork: [
        ...(t.artwork ? [{ src: t.artwork }] : []),
        { src: "/icon-512.png", sizes: "512x512", type: "image/png" },
      ],
    });
  }

  updatePositionState() {
    const ms = navigator.mediaSession;
    const d = this.audio.duration;
    if (!ms?.setPositionState || !Number.isFinite(d) || d <= 0) return;
    try {
      ms.setPositionState({ duration: d, position: Math.min(this.audio.currentTime, d), playbackRate: this.audio.playbackRate || 1 });
    } catch {
      // position out of range while a new source loads
    }
  }
}
