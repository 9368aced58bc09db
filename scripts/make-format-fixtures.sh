#!/usr/bin/env bash
# Builds tests/fixtures/formats: one short tagged file of every extension the library reads, made
# by the real encoders (run once; the output is committed, with the versions in its README).
# Needs: ffmpeg (libmp3lame, libopus, libvorbis, libspeex), mpcenc (musepack-tools).
# APE has no free encoder on Debian: "Format ape.ape" is kept as committed (see the README).
set -euo pipefail
out="${1:-$(dirname "$0")/../tests/fixtures/formats}"
mkdir -p "$out"
cd "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ffmpeg -loglevel error -y -f lavfi -i "sine=frequency=440:duration=1:sample_rate=44100" -ac 1 "$tmp/tone.wav"

n=0
encode() { # encode EXT FFMPEG-ARGS...
  local ext=$1; shift
  n=$((n + 1))
  ffmpeg -loglevel error -y -i "$tmp/tone.wav" "$@" \
    -metadata title="Format $ext" -metadata artist="Fixture Artist" -metadata album="Every Format" \
    -metadata album_artist="Fixture Band" -metadata track="$n" -metadata date=2024 -metadata genre=Test \
    "Format $ext.$ext"
}
encode mp3 -c:a libmp3lame -b:a 64k
encode flac -c:a flac
encode ogg -c:a libvorbis -q:a 0
encode oga -c:a flac -f ogg
encode opus -c:a libopus -b:a 32k
encode m4a -c:a aac -b:a 64k
encode m4b -c:a aac -b:a 64k -f mp4
encode mp4 -c:a aac -b:a 64k
encode aac -c:a aac -b:a 64k -f adts -write_id3v2 1
encode wav -c:a pcm_s16le
encode aif -c:a pcm_s16be -f aiff -write_id3v2 1
encode aiff -c:a pcm_s16be -write_id3v2 1
encode wv -c:a wavpack
encode spx -c:a libspeex -f ogg
encode webm -c:a libopus -b:a 32k
encode weba -c:a libopus -b:a 32k -f webm
encode mka -c:a flac
mpcenc --silent --overwrite --tag Title="Format mpc" --tag Artist="Fixture Artist" --tag Album="Every Format" \
  --tag Track=18 --tag Year=2024 --tag Genre=Test "$tmp/tone.wav" "Format mpc.mpc"
ls -l
