#!/usr/bin/env python3
"""Drives anyaudio's /rest with py-opensonic (libopensonic, from PyPI: an OpenSubsonic client
library nobody here wrote, logging in with an API key as the OpenSubsonic extension has it),
and checks the shape of the JSON against its typed models: one dataclass per response type of
the OpenSubsonic spec, with each field's JSON name, type and whether it is required.

Each call is made twice: through the library (its models must parse the answer, as an app's
would), and raw, whose JSON is then held against the model field by field (the library's
parser coerces scalars, so it would take "2024" for 2024 or 1 for true; this check does not).

Usage: opensonic_client.py PORT API_KEY
Prints a JSON line of what it walked on success; exits non-zero with the failed check.
"""
import dataclasses
import enum
import json
import sys
import types
import typing
import urllib.parse
import urllib.request

from libopensonic import Connection
from libopensonic import media
from mashumaro.types import Alias


def check(condition, what):
    if not condition:
        sys.exit(f"check failed: {what}")


def shape(value, tp, where):
    """Checks raw JSON `value` against `tp`, an annotation of a py-opensonic model."""
    if typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        check(value is not None, f"{where}: null")
        tp = args[0]
    if typing.get_origin(tp) is list:
        check(isinstance(value, list), f"{where}: {value!r} is not a list")
        for i, item in enumerate(value):
            shape(item, typing.get_args(tp)[0], f"{where}[{i}]")
    elif dataclasses.is_dataclass(tp):
        check(isinstance(value, dict), f"{where}: {value!r} is not an object")
        hints = typing.get_type_hints(tp, include_extras=True)
        for field in dataclasses.fields(tp):
            hint = hints[field.name]
            aliases = [a for a in typing.get_args(hint) if isinstance(a, Alias)]
            key = aliases[0].name if aliases else field.name
            required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
            if key in value:
                shape(value[key], hint, f"{where}.{key}")
            else:
                check(not required, f"{where}: the required {key!r} is missing")
    elif tp is bool:
        check(isinstance(value, bool), f"{where}: {value!r} is not a boolean")
    elif tp is int:
        check(isinstance(value, int) and not isinstance(value, bool), f"{where}: {value!r} is not an integer")
    elif tp is float:
        check(isinstance(value, (int, float)) and not isinstance(value, bool), f"{where}: {value!r} is not a number")
    elif tp is str:
        check(isinstance(value, str), f"{where}: {value!r} is not a string")
    elif isinstance(tp, type) and issubclass(tp, enum.Enum):
        check(value in {m.value for m in tp}, f"{where}: {value!r} is not one of {tp.__name__}")


class Walk:
    def __init__(self, port, api_key):
        self.base = f"http://127.0.0.1:{port}/rest"
        self.api_key = api_key
        self.conn = Connection("http://127.0.0.1", api_key=api_key, port=port, app_name="opensonic-test")
        self.seen = {}

    def raw(self, method, params):
        query = urllib.parse.urlencode({**params, "apiKey": self.api_key, "v": "1.16.1", "c": "opensonic-test", "f": "json"}, doseq=True)
        with urllib.request.urlopen(f"{self.base}/{method}?{query}") as response:
            body = json.load(response)["subsonic-response"]
        check(body["status"] == "ok" and body["openSubsonic"] is True and isinstance(body["serverVersion"], str), f"{method}: {body}")
        return body

    def call(self, label, parsed, method, params, path, model):
        """`parsed` is py-opensonic's answer; `path` leads from the envelope to what `model` describes."""
        value = self.raw(method, params)
        for key in path:
            value = value[key]
        shape(value, model, label)
        self.seen[label] = len(parsed) if isinstance(parsed, list) else 1
        return parsed


def main(port, api_key):
    w = Walk(port, api_key)
    c = w.conn
    check(c.ping(), "ping")
    extensions = w.call("getOpenSubsonicExtensions", c.get_open_subsonic_extensions(), "getOpenSubsonicExtensions", {},
                        ["openSubsonicExtensions"], list[media.OpenSubsonicExtension])
    check({e.name for e in extensions} >= {"apiKeyAuthentication", "formPost", "songLyrics"}, f"extensions: {extensions}")
    # (py-opensonic 10.4.1's get_music_folders iterates `musicFolders` as a list, where the spec's
    # answer, which py-sonic reads, is {"musicFolders": {"musicFolder": [...]}}: checked raw only.)
    w.call("getMusicFolders", [], "getMusicFolders", {}, ["musicFolders", "musicFolder"], list[media.MusicFolder])
    w.call("getScanStatus", c.get_scan_status(), "getScanStatus", {}, ["scanStatus"], media.ScanStatus)
    w.call("getGenres", c.get_genres(), "getGenres", {}, ["genres", "genre"], list[media.Genre])

    artists = w.call("getArtists", c.get_artists(), "getArtists", {}, ["artists"], media.Artists)
    first = artists.index[0].artist[0]
    artist = w.call("getArtist", c.get_artist(first.id), "getArtist", {"id": first.id}, ["artist"], media.ArtistWithAlbumsID3)
    album = w.call("getAlbum", c.get_album(artist.album[0].id), "getAlbum", {"id": artist.album[0].id}, ["album"], media.AlbumID3WithSongs)
    song = album.song[0]
    w.call("getSong", c.get_song(song.id), "getSong", {"id": song.id}, ["song"], media.Child)
    w.call("getArtistInfo2", c.get_artist_info2(first.id), "getArtistInfo2", {"id": first.id}, ["artistInfo2"], media.ArtistInfo2)
    w.call("getAlbumInfo2", c.get_album_info2(album.id), "getAlbumInfo2", {"id": album.id}, ["albumInfo"], media.AlbumInfo)

    indexes = w.call("getIndexes", c.get_indexes(), "getIndexes", {}, ["indexes"], media.Indexes)
    folder = indexes.index[0].artist[0]
    w.call("getMusicDirectory", c.get_music_directory(folder.id), "getMusicDirectory", {"id": folder.id}, ["directory"], media.Directory)
    w.call("getMusicDirectory(album)", c.get_music_directory(album.id), "getMusicDirectory", {"id": album.id}, ["directory"], media.Directory)

    c.star(sids=[song.id], album_ids=[album.id], artist_ids=[first.id])
    c.scrobble(song.id)
    for kind in ("newest", "random", "alphabeticalByName", "alphabeticalByArtist", "frequent", "recent", "starred"):
        w.call(f"getAlbumList2({kind})", c.get_album_list2(kind, size=50), "getAlbumList2", {"type": kind, "size": 50},
               ["albumList2", "album"], list[media.AlbumID3])
    w.call("getAlbumList(newest)", c.get_album_list("newest", size=50), "getAlbumList", {"type": "newest", "size": 50},
           ["albumList", "album"], list[media.Child])
    w.call("getRandomSongs", c.get_random_songs(size=5), "getRandomSongs", {"size": 5}, ["randomSongs", "song"], list[media.Child])
    genre = song.genre or "Ambient"
    w.call("getSongsByGenre", c.get_songs_by_genre(genre), "getSongsByGenre", {"genre": genre}, ["songsByGenre", "song"], list[media.Child])
    w.call("search3", c.search3("a"), "search3", {"query": "a"}, ["searchResult3"], media.SearchResult3)
    w.call("search3(sync)", c.search3("", song_count=500), "search3", {"query": "", "songCount": 500}, ["searchResult3"], media.SearchResult3)
    w.call("search2", c.search2("a"), "search2", {"query": "a"}, ["searchResult2"], media.SearchResult2)
    starred = w.call("getStarred2", c.get_starred2(), "getStarred2", {}, ["starred2"], media.Starred2)
    check([s.id for s in starred.song or []] == [song.id], f"starred: {starred}")
    w.call("getStarred", c.get_starred(), "getStarred", {}, ["starred"], media.Starred)
    c.save_play_queue([song.id], current=song.id, position=1000)
    w.call("getPlayQueue", c.get_play_queue(), "getPlayQueue", {}, ["playQueue"], media.PlayQueue)
    playlists = w.call("getPlaylists", c.get_playlists(), "getPlaylists", {}, ["playlists", "playlist"], list[media.Playlist])
    w.call("getPlaylist", c.get_playlist(playlists[0].id), "getPlaylist", {"id": playlists[0].id}, ["playlist"], media.Playlist)
    w.call("getLyricsBySongId", c.get_lyrics_by_song_id(song.id), "getLyricsBySongId", {"id": song.id},
           ["lyricsList", "structuredLyrics"], list[media.StructuredLyrics])
    w.call("getLyrics", c.get_lyrics(artist=song.artist, title=song.title), "getLyrics", {"artist": song.artist, "title": song.title},
           ["lyrics"], media.Lyrics)
    w.call("getUser", c.get_user("ana"), "getUser", {"username": "ana"}, ["user"], media.User)
    print(json.dumps(w.seen))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
