"""The seed's streaming server, as the 2018 AnyAudio blog post's last listing wrote it:
Flask + requests, `Accept-Ranges` added after every request, open ranges capped at 3 MiB,
upstream bytes relayed through a generator in 2048-byte pieces. Only the resolution of the
media URL (youtube-dl in the original) is replaced by a fixed upstream URL, so the benchmark
measures the middleman and nothing else. Run with gunicorn (sync workers), as the original was.
"""
import os

import requests
from flask import Flask, Response, request

app = Flask(__name__)
URL = os.environ["SEED_UPSTREAM"]
MIME = "audio/mpeg"


@app.after_request
def after_request(response):
    response.headers.add('Accept-Ranges', 'bytes')
    return response


def generate_data_from_response(resp, chunk=2048):
    for data_chunk in resp.iter_content(chunk_size=chunk):
        yield data_chunk


def serve_partial(url, range_header, mime, size=3145728):
    from_bytes, until_bytes = range_header.replace('bytes=', '').split('-')
    if not until_bytes:
        until_bytes = int(from_bytes) + size  # Default size is 3MB

    # Make request to YouTube
    headers = {'Range': 'bytes=%s-%s' % (from_bytes, until_bytes)}
    r = requests.get(url, headers=headers, stream=True)

    # Build response
    rv = Response(generate_data_from_response(r), 206, mimetype=mime,
                  direct_passthrough=True)
    rv.headers.add('Content-Range', r.headers.get('Content-Range'))
    rv.headers.add('Content-Length', r.headers['Content-Length'])
    return rv


@app.route('/stream')
def stream():
    range_header = request.headers.get('Range', None)
    if range_header:
        return serve_partial(URL, range_header, MIME)
    # No partial content, handle normally (the post's first listing)
    r = requests.get(URL)
    return Response(r.content, 200, mimetype=MIME)
