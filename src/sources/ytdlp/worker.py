"""anyaudio's yt-dlp worker: imports yt_dlp once, then answers requests as JSON lines.

The server (src/sources/ytdlp/pool.rs) starts it as `PYTHON -c <this file>` under the
interpreter the `yt-dlp` launcher names. On stdin, one JSON object per line:

  {"launcher": PATH, "options": [...]}     first: the options every call starts with (the
                                           user's config file and options, then the server's)
  {"id": N, "options": [...], "target": T} then one per request

On stdout, one JSON object per line:

  {"ready": true, "version": V, "watch": PATH, "signature": [size, mtime_ns, inode]}
  {"ready": false, "error": TEXT}          (and it exits)
  {"id": N, "exit": CODE, "stdout": TEXT, "stderr": TEXT, "rss": BYTES}

A request is the command line `yt-dlp OPTIONS -- TARGET`, run as yt-dlp's own `_real_main`
runs it (`yt_dlp/__init__.py`), with what it printed and its exit status as the answer. The
target goes to `YoutubeDL.download()` as data: it never reaches the option parser, and options
that name URLs are refused. `watch` is the file whose change means yt-dlp was upgraded.
"""
import sys

if sys.path and sys.path[0] in ('', '.'):
    del sys.path[0]  # `-c` puts the working directory first: never import from it

import importlib.util
import io
import json
import os
import traceback
import zipfile

# The protocol keeps private copies of stdin and stdout (not inherited by the programs yt-dlp
# runs: a JavaScript runtime, ffmpeg); what anything else writes to fd 1 lands on stderr.
requests = os.fdopen(os.dup(0), 'rb')
answers = os.fdopen(os.dup(1), 'w', encoding='utf-8')
_null = os.open(os.devnull, os.O_RDWR)
os.dup2(_null, 0)
os.dup2(2, 1)


class Capture:
    """A text stream that keeps what is written, as a pipe to the CLI would have received it."""

    encoding = 'utf-8'
    errors = 'replace'

    def __init__(self):
        self.parts = []

    def write(self, text):
        self.parts.append(text)
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False

    def fileno(self):
        raise io.UnsupportedOperation('fileno')

    def take(self):
        text = ''.join(self.parts)
        self.parts.clear()
        return text


out, err = Capture(), Capture()
sys.stdin = open(os.devnull)
sys.stdout, sys.stderr = out, err


def send(message):
    answers.write(json.dumps(message) + '\n')
    answers.flush()


def rss():
    try:
        with open('/proc/self/statm') as f:
            return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
    except (OSError, ValueError, IndexError):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def watched_file(origin):
    """The file an upgrade of yt-dlp replaces: its version.py, or the zip it is imported from."""
    version = os.path.join(os.path.dirname(origin), 'version.py')
    if os.path.isfile(version):
        return version
    path = origin
    while path and not os.path.exists(path):
        path = os.path.dirname(path)
    return path


# Options that make yt-dlp do something else than extract (`_real_main` acts on them before
# or instead of `download`): refused, since no answer would be the JSON asked for.
ACTIONS = {
    'update_self': '--update',
    'rm_cachedir': '--rm-cache-dir',
    'list_extractors': '--list-extractors',
    'list_extractor_descriptions': '--extractor-descriptions',
    'ap_list_mso': '--ap-list-mso',
    'list_impersonate_targets': '--list-impersonate-targets',
    'load_info_filename': '--load-info-json',
    'batchfile': '--batch-file',
}


def parse(yt_dlp, options):
    """yt-dlp's own translation of `options` into YoutubeDL parameters (`parse_options`)."""
    try:
        parsed = yt_dlp.parse_options(options)
    except SystemExit:
        said = err.take().strip().splitlines()
        raise ValueError(said[-1] if said else 'yt-dlp refused its options')
    actions = [flag for name, flag in ACTIONS.items() if getattr(parsed.options, name, None)]
    if actions:
        raise ValueError(f'{", ".join(actions)} has no use for anyaudio (yt-dlp would not extract)')
    if parsed.urls:
        raise ValueError('the options name URLs')
    return parsed


def start():
    first = json.loads(requests.readline())
    launcher, base = first['launcher'], first['options']
    if launcher and zipfile.is_zipfile(launcher):
        sys.path.insert(0, launcher)  # yt-dlp's zipimport build: the module is inside it
    spec = importlib.util.find_spec('yt_dlp')
    if spec is None or not spec.origin:
        raise ValueError(f'this Python ({sys.executable}) cannot import yt_dlp')
    watch = watched_file(spec.origin)
    stat = os.stat(watch)  # before the import: a change during it shows as a change after
    import yt_dlp
    from yt_dlp.version import __version__
    parsed = parse(yt_dlp, base)
    # What `_real_main` sets up once per run, here once per worker.
    try:
        from yt_dlp.globals import IN_CLI, plugin_dirs
        IN_CLI.value = True
        plugin_dirs.value = parsed.options.plugin_dirs
        if plugin_dirs.value:
            yt_dlp._load_all_plugins()
    except ImportError:
        pass
    if parsed.options.ffmpeg_location:
        from yt_dlp.postprocessor import FFmpegPostProcessor
        FFmpegPostProcessor._ffmpeg_location.set(parsed.options.ffmpeg_location)
    send({'ready': True, 'version': __version__, 'watch': watch,
          'signature': [stat.st_size, stat.st_mtime_ns, stat.st_ino]})
    return yt_dlp, base


def run(yt_dlp, ydl, target):
    """`download([target])` as `main` runs it: its exit status."""
    from yt_dlp.cookies import CookieLoadError
    from yt_dlp.utils import DownloadCancelled, DownloadError, SameFileError
    ydl._download_retcode = 0
    try:
        return ydl.download([target])
    except (CookieLoadError, DownloadError):
        return 1
    except SameFileError as e:
        err.write(f'ERROR: {e}\n')
        return 1
    except DownloadCancelled:
        return 101
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        try:
            ydl.save_cookies()  # as `__exit__` does at the end of a CLI run
        except Exception:
            traceback.print_exc()


def serve(yt_dlp, base):
    # One YoutubeDL per option set, kept: its extractors keep what they cache in memory
    # (YouTube's player code, challenge solutions) from one request to the next.
    instances = {}
    for line in requests:
        request = json.loads(line)
        options = tuple(request['options'])
        code = 2
        try:
            ydl = instances.pop(options, None)
            if ydl is None:
                ydl = yt_dlp.YoutubeDL(parse(yt_dlp, [*base, *options]).ydl_opts)
            instances[options] = ydl  # most recently used last
            while len(instances) > 8:
                instances.pop(next(iter(instances))).close()
            code = run(yt_dlp, ydl, request['target'])
        except ValueError as e:
            err.write(f'ERROR: {e}\n')
        send({'id': request['id'], 'exit': code, 'stdout': out.take(), 'stderr': err.take(), 'rss': rss()})
    for ydl in instances.values():
        ydl.close()


def main():
    try:
        yt_dlp, base = start()
    except ValueError as e:  # ours: said plainly
        send({'ready': False, 'error': str(e)})
        return
    except Exception as e:
        detail = ''.join(traceback.format_exception_only(type(e), e)).strip()
        send({'ready': False, 'error': ' '.join([detail, err.take().strip()]).strip()})
        return
    serve(yt_dlp, base)


main()
