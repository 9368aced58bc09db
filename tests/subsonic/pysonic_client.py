#!/usr/bin/env python3
"""Drives anyaudio's /rest with py-sonic (libsonic, from PyPI: a Subsonic client library nobody
here wrote), as the integration tests in tests/api/subsonic.rs ask. Exits non-zero, with the
failed check on stderr, when anything is not as a Subsonic client expects; prints a JSON line
of what it saw on success.

Usage: pysonic_client.py PORT browse  USER PASSWORD LIBRARY_DIR
       pysonic_client.py PORT folders USER PASSWORD LIBRARY_DIR
       pysonic_client.py PORT page    USER PASSWORD EXPECTED_SONGS
       pysonic_client.py PORT lyrics  USER PASSWORD "ARTIST|TITLE"
"""
import json
import os
import sys

import libsonic
from libsonic import errors


def connect(port, user, password, **kwargs):
    return libsonic.Connection("http://127.0.0.1", user, password, port=port, appName="pysonic-test", **kwargs)


def check(condition, what):
    if not condition:
        sys.exit(f"check failed: {what}")


def browse(port, user, password, library):
    seen = {}
    # Token auth (py-sonic's default: a fresh salt per call, form POST), then the older ways.
    conn = connect(port, user, password)
    check(conn.ping(), "ping with a token")
    check(connect(port, user, password, legacyAuth=True).ping(), "ping with p=enc:...")
    # (Not useGET=True: py-sonic 1.2.0's GET path calls an undefined urllib2. GET is what the
    # Rust tests of /rest send.)
    try:
        connect(port, user, password + "x").getArtists()
        sys.exit("check failed: a wrong password was accepted")
    except errors.CredentialError:
        pass

    check(conn.getLicense()["license"]["valid"] is True, "licence valid")
    folders = conn.getMusicFolders()["musicFolders"]["musicFolder"]
    check(len(folders) == 1 and folders[0]["id"] == 1, f"one music folder: {folders}")
    me = conn.getUser(user)["user"]
    check(me["username"] == user and me["adminRole"] is True and me["streamRole"] is True, f"user: {me}")

    # By tags: artists -> an artist -> an album -> a song.
    indexes = conn.getArtists()["artists"]["index"]
    artists = [a for index in indexes for a in index["artist"]]
    names = [a["name"] for a in artists]  # in the index's order
    seen["artists"] = names
    aurora = next(a for a in artists if a["name"] == "Aurora Sines")
    artist = conn.getArtist(aurora["id"])["artist"]
    check([al["name"] for al in artist["album"]] == ["First Light"], f"Aurora's albums: {artist}")
    album = conn.getAlbum(artist["album"][0]["id"])["album"]
    titles = [s["title"] for s in album["song"]]
    check(titles == ["Dawn Chorus", "Morning Drift"], f"First Light in order: {titles}")
    check(album["songCount"] == 2 and album["year"] == 2024, f"album facts: {album}")
    song = album["song"][1]
    again = conn.getSong(song["id"])["song"]
    check(again["id"] == song["id"] and again["albumId"] == album["id"], f"getSong: {again}")
    check(again["suffix"] == "mp3" and again["contentType"] == "audio/mpeg", f"mp3 facts: {again}")
    sampler = next(a for a in artists if a["name"] == "Various Artists")
    compilation = conn.getArtist(sampler["id"])["artist"]["album"]
    check([al["name"] for al in compilation] == ["Demo Sampler"], f"the compilation is one album: {compilation}")
    try:
        conn.getAlbum("al-000000000000")
        sys.exit("check failed: an unknown album was found")
    except errors.DataNotFoundError:
        pass

    genres = sorted(g["value"] for g in conn.getGenres()["genres"]["genre"])
    seen["genres"] = genres
    newest = conn.getAlbumList2("newest", size=2)["albumList2"]["album"]
    check(len(newest) == 2, f"two newest albums: {newest}")
    by_name = [a["name"] for a in conn.getAlbumList2("alphabeticalByName", size=50)["albumList2"]["album"]]
    check(by_name == sorted(by_name, key=str.lower), f"albums by name: {by_name}")
    years = [a["year"] for a in conn.getAlbumList2("byYear", size=50, fromYear=2022, toYear=2024)["albumList2"]["album"]]
    check(years and all(2022 <= y <= 2024 for y in years) and years == sorted(years), f"by year: {years}")
    ambient = conn.getAlbumList2("byGenre", size=50, genre="Ambient")["albumList2"]["album"]
    check([a["name"] for a in ambient] == ["First Light"], f"by genre: {ambient}")
    found = conn.search3("morning")["searchResult3"]
    check([s["title"] for s in found.get("song", [])] == ["Morning Drift"], f"search3 morning: {found}")

    # The bytes: the whole file, a range of it (seeking), and the album's cover.
    path = os.path.join(library, "Aurora Sines", "First Light", "02 Morning Drift.mp3")
    with open(path, "rb") as f:
        expected = f.read()
    whole = conn.stream(song["id"]).read()
    check(whole == expected, f"stream: {len(whole)} bytes against the file's {len(expected)}")
    check(conn.download(song["id"]).read() == expected, "download is the file")
    ranged = connect(port, user, password, customHeaders={"Range": "bytes=1000-1999"}).stream(song["id"])
    check(ranged.status == 206, f"a range is 206: {ranged.status}")
    check(ranged.read() == expected[1000:2000], "the range is those bytes of the file")
    cover = conn.getCoverArt(album["coverArt"])
    with open(os.path.join(library, "Aurora Sines", "First Light", "cover.png"), "rb") as f:
        check(cover.read() == f.read(), "the album's cover is its cover.png")

    # Annotations: a star, a rating and plays, seen in what they feed.
    conn.star(sids=[song["id"]], albumIds=[album["id"]], artistIds=[aurora["id"]])
    conn.setRating(song["id"], 4)
    conn.scrobble(song["id"], submission=False)  # "now playing": not a play
    conn.scrobble(song["id"], listenTime=1700000000)
    conn.scrobble(song["id"])
    starred = conn.getStarred2()["starred2"]
    check([s["id"] for s in starred["song"]] == [song["id"]], f"starred songs: {starred}")
    check([a["id"] for a in starred["album"]] == [album["id"]], f"starred albums: {starred}")
    check([a["id"] for a in starred["artist"]] == [aurora["id"]], f"starred artists: {starred}")
    marked = conn.getSong(song["id"])["song"]
    check(marked["userRating"] == 4 and marked["playCount"] == 2 and "starred" in marked, f"marks: {marked}")
    frequent = conn.getAlbumList2("frequent")["albumList2"]["album"]
    check([a["id"] for a in frequent] == [album["id"]] and frequent[0]["playCount"] == 2, f"frequent: {frequent}")
    recent = conn.getAlbumList2("recent")["albumList2"]["album"]
    check([a["id"] for a in recent] == [album["id"]], f"recent: {recent}")
    check([a["id"] for a in conn.getAlbumList2("starred")["albumList2"]["album"]] == [album["id"]], "starred list")
    conn.unstar(sids=[song["id"]])
    check(conn.getStarred2()["starred2"].get("song", []) == [], "unstarred")
    check("starred" in conn.getStarred()["starred"]["album"][0], "getStarred shows the album")

    # Playlists: the library's M3U file is listed read-only beside the user's own.
    listed = conn.getPlaylists()["playlists"]["playlist"]
    favourites = next(p for p in listed if p["name"] == "Favourites")
    check(favourites["readonly"] is True and favourites["songCount"] > 0, f"the M3U playlist: {favourites}")
    first = album["song"][0]["id"]
    made = conn.createPlaylist(name="Mine", songIds=[song["id"], first])["playlist"]
    check([e["id"] for e in made["entry"]] == [song["id"], first], f"created: {made}")
    conn.updatePlaylist(made["id"], name="Mine, renamed", songIdsToAdd=[song["id"]], songIndexesToRemove=[0])
    again = conn.getPlaylist(made["id"])["playlist"]
    check(again["name"] == "Mine, renamed" and [e["id"] for e in again["entry"]] == [first, song["id"]], f"updated: {again}")
    try:
        conn.deletePlaylist(favourites["id"])
        sys.exit("check failed: the library's playlist was deleted")
    except errors.AuthError:
        pass
    conn.deletePlaylist(made["id"])
    check(all(p["id"] != made["id"] for p in conn.getPlaylists()["playlists"]["playlist"]), "deleted")

    # The play queue, saved on one device and picked up on another.
    check("playQueue" not in conn.getPlayQueue(), "no queue saved yet")
    conn.savePlayQueue([first, song["id"]], current=song["id"], position=12345)
    other = connect(port, user, password, legacyAuth=True).getPlayQueue()["playQueue"]
    check([e["id"] for e in other["entry"]] == [first, song["id"]], f"the queue: {other}")
    check(other["current"] == song["id"] and other["position"] == 12345 and other["changedBy"] == "pysonic-test", f"where: {other}")

    scan = conn.getScanStatus()["scanStatus"]
    check(scan["scanning"] is False and scan["count"] == 9, f"scan status: {scan}")
    print(json.dumps(seen))


AUDIO = (".mp3", ".flac", ".ogg", ".opus", ".m4a")


def folders(port, user, password, library):
    """Browses by folders as DSub and Ultrasonic do: getIndexes, then getMusicDirectory down to
    every song; the tree is the library's on disk."""
    conn = connect(port, user, password)
    on_disk = sorted(
        os.path.relpath(os.path.join(top, name), library)
        for top, _, names in os.walk(library)
        for name in names
        if name.lower().endswith(AUDIO)
    )
    indexes = conn.getIndexes()["indexes"]
    check(indexes["lastModified"] > 0, f"lastModified: {indexes}")
    tops = [a for index in indexes["index"] for a in index["artist"]]
    check(sorted(a["name"] for a in tops) == sorted(d for d in os.listdir(library) if os.path.isdir(os.path.join(library, d))),
          f"the top folders are the library's: {tops}")
    unchanged = conn.getIndexes(ifModifiedSince=indexes["lastModified"])["indexes"]
    check(not unchanged.get("index"), f"nothing new since lastModified: {unchanged}")

    seen, directories = [], 0
    pending = [(a["id"], a["name"]) for a in tops]
    while pending:
        folder_id, folder_path = pending.pop()
        directory = conn.getMusicDirectory(folder_id)["directory"]
        directories += 1
        check(directory["id"] == folder_id, f"the directory asked for: {directory}")
        for child in directory.get("child", []):
            check(child["parent"] == folder_id, f"a child's parent is its folder: {child}")
            if child["isDir"]:
                pending.append((child["id"], os.path.join(folder_path, child["title"])))
            else:
                check(os.path.dirname(child["path"]) == folder_path, f"{child['path']} lies in {folder_path}")
                seen.append(child["path"])
                song = child
    check(sorted(seen) == on_disk, f"every file once: {sorted(seen)} against {on_disk}")
    with open(os.path.join(library, song["path"]), "rb") as f:
        check(conn.stream(song["id"]).read() == f.read(), f"a song found by folder streams as its file: {song['path']}")

    # The folder-style lists name albums and artists that open as directories too.
    album = conn.getAlbumList("alphabeticalByName", size=1)["albumList"]["album"][0]
    songs = conn.getMusicDirectory(album["id"])["directory"]
    check(songs["name"] == album["title"] and songs["child"] and all(not c["isDir"] for c in songs["child"]),
          f"an album as a directory: {songs}")
    albums = conn.getMusicDirectory(album["parent"])["directory"]
    check(album["id"] in [c["id"] for c in albums["child"]], f"its artist as a directory: {albums}")
    try:
        conn.getMusicDirectory("fo-000000000000")
        sys.exit("check failed: an unknown folder was found")
    except errors.DataNotFoundError:
        pass
    print(json.dumps({"directories": directories, "songs": len(seen)}))


def lyrics(port, user, password, song):
    """getLyrics by artist and title, as the original API finds them: the lyrics element."""
    artist, title = song.split("|")
    print(json.dumps(connect(port, user, password).getLyrics(artist=artist or None, title=title)["lyrics"]))


def page(port, user, password, expected):
    """An empty search3 query pages through every song, as clients sync."""
    conn = connect(port, user, password)
    ids, offset, pages = [], 0, 0
    while True:
        result = conn.search3("", artistCount=0, albumCount=0, songCount=500, songOffset=offset)["searchResult3"]
        songs = result.get("song", [])
        ids.extend(s["id"] for s in songs)
        pages += 1
        if len(songs) < 500:
            break
        offset += len(songs)
        check(pages < 100, "paging ends")
    check(len(ids) == expected, f"{len(ids)} songs paged, {expected} in the library")
    check(len(set(ids)) == expected, "no song twice")
    albums = []
    offset = 0
    while True:
        page_of = conn.search3("", artistCount=0, albumCount=100, albumOffset=offset, songCount=0)["searchResult3"]
        found = page_of.get("album", [])
        albums.extend(a["id"] for a in found)
        if len(found) < 100:
            break
        offset += len(found)
    print(json.dumps({"songs": len(ids), "pages": pages, "albums": len(set(albums))}))


if __name__ == "__main__":
    port, mode, user, password, arg = sys.argv[1:6]
    if mode == "browse":
        browse(int(port), user, password, arg)
    elif mode == "folders":
        folders(int(port), user, password, arg)
    elif mode == "lyrics":
        lyrics(int(port), user, password, arg)
    else:
        page(int(port), user, password, int(arg))
