"""A minimal PNG writer (RGBA, no dependencies) for the scripts that draw our images."""
import struct
import zlib


def encode(size, pixel, samples=2):
    """A size x size RGBA PNG; pixel(x, y) gives (r, g, b, a) at a point in [0, size) x [0, size),
    averaged over samples x samples points per pixel."""
    rows = []
    for py in range(size):
        row = bytearray([0])
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(samples):
                for sx in range(samples):
                    p = pixel(px + (sx + .5) / samples, py + (sy + .5) / samples)
                    for i in range(4):
                        acc[i] += p[i]
            row.extend(v // (samples * samples) for v in acc)
        rows.append(bytes(row))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))
