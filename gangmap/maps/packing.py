"""Compact text for the map's geometry: small integers in a 64-letter alphabet.

JSON spends a comma, a sign and several digits on every coordinate delta
("-37,"): the arcs of England's LSOAs took 3 MB that way. Here every integer
is zigzag-coded (0, -1, 1, -2 ... become 0, 1, 2, 3 ...) and written in
groups of :data:`BITS` bits, least significant first, one letter per group,
the letter's value plus :data:`MORE` when another group follows. Deltas
under 16 take one letter, under 512 two. The letters are those of base64url,
so the text needs no escaping in JSON or HTML.

Only geometry is packed; codes, names and values stay plain JSON lists, so
that anyone can read what a map shows about an area.

Streams
-------
arcs
    Per arc: its number of points, then the points as deltas, the first one
    from the last point of the previous arc (arcs are numbered in order of
    use, so an arc usually starts where the one before it ended).
geoms
    Per feature: number of polygons; per polygon: number of rings; per ring:
    number of arc references, then each reference ``k`` (``~k``: arc ``k``
    reversed) as ``2 * (k - previous k) + reversed``.

The viewer (``gangmap.js``) reads :data:`ALPHABET` and :data:`BITS` from the
map's data (``D.packing``), so the format has one home.

Examples
--------
>>> pack_ints([0, -1, 1, 15, -16, 16, 1000])  # 0 1 2 30 31 | 32 = 0+more, 1 | 2000 = 16+more, 30+more, 1
'ABCefgBw-B'
>>> unpack_ints(pack_ints([0, -1, 1, 15, -16, 16, 1000])).tolist()
[0, -1, 1, 15, -16, 16, 1000]
>>> arcs = [[10, 20, 1, 0, 0, 1], [11, 21, -1, -1]]
>>> unpack_arcs(pack_arcs(arcs)) == arcs
True
>>> geoms = [[[[0, 1, ~2]]], [], [[[2, ~1]], [[3]]]]
>>> unpack_geoms(pack_geoms(geoms)) == geoms
True
"""

from __future__ import annotations

import numpy as np

__all__ = ["ALPHABET", "BITS", "MORE", "pack_ints", "unpack_ints", "pack_arcs", "unpack_arcs", "pack_geoms",
           "unpack_geoms", "spec", "read_arcs", "read_geoms"]

#: The letters, by value (base64url: nothing to escape in JSON, HTML or a URL).
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#: Value bits per letter; the letter's next bit says that another letter follows.
BITS = 5
MORE = 1 << BITS
_LETTERS = np.frombuffer(ALPHABET.encode("ascii"), np.uint8)
_VALUE = np.full(256, -1, np.int64)
_VALUE[_LETTERS] = np.arange(len(ALPHABET))


def spec() -> dict:
    """The format, as the viewer reads it from the map's data."""
    return {"alphabet": ALPHABET, "bits": BITS}


def pack_ints(values) -> str:
    """Signed integers as text (zigzag, then :data:`BITS` bits per letter)."""
    v = np.asarray(values, np.int64).ravel()
    if not len(v):
        return ""
    z = (v << 1) ^ (v >> 63)
    z = z.astype(np.uint64)
    n = np.ones(len(z), np.int64)
    rest = z >> np.uint64(BITS)
    while rest.any():
        n += rest > 0
        rest >>= np.uint64(BITS)
    owner = np.repeat(np.arange(len(z)), n)
    j = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    digit = (z[owner] >> (j * BITS).astype(np.uint64)) & np.uint64(MORE - 1)
    more = j < n[owner] - 1
    return _LETTERS[digit.astype(np.int64) + MORE * more].tobytes().decode("ascii")


def unpack_ints(text: str) -> np.ndarray:
    """The integers of :func:`pack_ints`."""
    d = _VALUE[np.frombuffer(text.encode("ascii"), np.uint8)]
    if (d < 0).any():
        raise ValueError("packed text holds a letter outside the alphabet")
    last = d < MORE
    if len(d) and not last[-1]:
        raise ValueError("packed text ends inside a number")
    ends = np.flatnonzero(last)
    starts = np.r_[0, ends[:-1] + 1]
    j = np.arange(len(d)) - np.repeat(starts, ends - starts + 1)
    part = (d & (MORE - 1)).astype(np.uint64) << (j * BITS).astype(np.uint64)
    z = np.add.reduceat(part, starts) if len(d) else np.zeros(0, np.uint64)
    return (z >> np.uint64(1)).astype(np.int64) ^ -(z & np.uint64(1)).astype(np.int64)


def pack_arcs(arcs) -> str:
    """Arcs ``[x0, y0, dx1, dy1, ...]`` (first point absolute) as one text."""
    from itertools import chain

    lens = np.fromiter((len(a) for a in arcs), np.int64, len(arcs)) // 2
    if not len(lens):
        return ""
    flat = np.fromiter(chain.from_iterable(arcs), np.int64, 2 * int(lens.sum())).reshape(-1, 2)
    starts = np.cumsum(lens) - lens
    run = np.cumsum(flat, axis=0)
    full = lens > 0
    first, last = starts[full], (starts + lens - 1)[full]
    before = np.zeros((len(first), 2), np.int64)  # the running sum before each arc
    before[1:] = run[first[1:] - 1]
    absolute = run - np.repeat(before, lens[full], axis=0)
    d = flat.copy()
    prev_last = np.zeros((len(first), 2), np.int64)
    prev_last[1:] = absolute[last[:-1]]
    d[first] = absolute[first] - prev_last
    stream = np.zeros(len(lens) + 2 * len(flat), np.int64)
    at = 2 * starts + np.arange(len(lens))
    stream[at] = lens
    coord = np.ones(len(stream), bool)
    coord[at] = False
    stream[coord] = d.ravel()
    return pack_ints(stream)


def unpack_arcs(text: str) -> list:
    """The arcs of :func:`pack_arcs`, first point absolute again."""
    v = unpack_ints(text).tolist()
    arcs, i, x, y = [], 0, 0, 0
    while i < len(v):
        n = v[i]
        a = v[i + 1:i + 1 + 2 * n]
        if n:
            a[0] += x
            a[1] += y
            x, y = sum(a[0::2]), sum(a[1::2])
        arcs.append(a)
        i += 1 + 2 * n
    return arcs


def pack_geoms(geoms) -> str:
    """Features as polygons of rings of arc references, as one text."""
    out: list[int] = []
    prev = 0
    for g in geoms:
        out.append(len(g))
        for poly in g:
            out.append(len(poly))
            for ring in poly:
                out.append(len(ring))
                for k in ring:
                    arc, rev = (k, 0) if k >= 0 else (~k, 1)
                    out.append(2 * (arc - prev) + rev)
                    prev = arc
    return pack_ints(out)


def unpack_geoms(text: str) -> list:
    """The features of :func:`pack_geoms`."""
    v = iter(unpack_ints(text).tolist())
    out, prev = [], 0
    for n_polys in v:
        g = []
        for _ in range(n_polys):
            poly = []
            for _ in range(next(v)):
                ring = []
                for _ in range(next(v)):
                    code = next(v)
                    prev += code >> 1
                    ring.append(~prev if code & 1 else prev)
                poly.append(ring)
            g.append(poly)
        out.append(g)
    return out


def read_arcs(arcs) -> list:
    """Arcs as lists (:attr:`Encoded.arcs <gangmap.maps.topology.Encoded.arcs>`), from a map's data: packed or not."""
    return unpack_arcs(arcs) if isinstance(arcs, str) else list(arcs or [])


def read_geoms(geoms) -> list:
    """Features as nested lists of arc references, from a map's data: packed or not."""
    return unpack_geoms(geoms) if isinstance(geoms, str) else list(geoms or [])
