"""A local stand-in for data.police.uk: monthly archives and the API, in the real formats.

Archives (``GET /data/archive/YYYY-MM.zip`` and ``/data/archive/latest.zip``)
are zips laid out as published: one folder per month holding
``YYYY-MM/YYYY-MM-<force>-street.csv`` (plus ``-outcomes.csv`` and
``-stop-and-search.csv``) for each force, the 36 months up to the archive's
month (``latest`` = :attr:`PoliceServer.latest`). A ``(force, month)`` in
``unpublished`` has no street file, as when a force did not publish.

Street files are built at test time from the real Northamptonshire March 2018
file in ``../shared/data/police`` (never copied into the repository):

* ``2018-03`` is that file, byte for byte;
* other months are a deterministic subsample of its rows (about one in
  :data:`SAMPLE`, varying with the month so that counts change), with
  ``Month`` set to the month and the ``Crime ID`` re-hashed with the month;
* a second force (``leicestershire``) gets a few rows each month so that a
  force id matters.

The API answers ``/api/forces``, ``/api/crimes-street-dates``
(``[{"date": "YYYY-MM", "stop-and-search": [...]}, ...]``),
``/api/crime-categories?date=`` and ``/api/crimes-street/all-crime?poly=&date=``
(JSON crimes inside the polygon's bounding box; HTTP 503 with an empty body when
more than ``api_limit`` crimes, as the real API does above 10,000).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from pathlib import Path

from replay_server import ReplayServer

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MARCH_2018 = SHARED_DATA / "police" / "2018-03-northamptonshire-street.csv"
#: About one row in SAMPLE of the real file is kept in the other months.
SAMPLE = 8
FORCES = [{"id": "leicestershire", "name": "Leicestershire Police"},
          {"id": "northamptonshire", "name": "Northamptonshire Police"}]
CATEGORIES = {
    "Anti-social behaviour": "anti-social-behaviour", "Bicycle theft": "bicycle-theft",
    "Burglary": "burglary", "Criminal damage and arson": "criminal-damage-arson", "Drugs": "drugs",
    "Other theft": "other-theft", "Possession of weapons": "possession-of-weapons",
    "Public order": "public-order", "Robbery": "robbery", "Shoplifting": "shoplifting",
    "Theft from the person": "theft-from-the-person", "Vehicle crime": "vehicle-crime",
    "Violence and sexual offences": "violent-crime", "Other crime": "other-crime",
}


def shift(month: str, k: int) -> str:
    y, m = map(int, month.split("-"))
    n = y * 12 + m - 1 + k
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def _lines(data: bytes) -> tuple[bytes, list[bytes]]:
    lines = data.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines = lines[:-1]
    return lines[0], lines[1:]


def street_bytes(force: str, month: str) -> bytes:
    """The street CSV of ``force`` for ``month`` (see the module docs)."""
    real = MARCH_2018.read_bytes()
    if force == "northamptonshire" and month == "2018-03":
        return real
    header, rows = _lines(real)
    salt = int(hashlib.sha256(month.encode()).hexdigest()[:6], 16)
    if force == "northamptonshire":
        keep = [r for i, r in enumerate(rows) if (i + salt) % SAMPLE == 0]
    else:
        keep = rows[salt % 50: salt % 50 + 12]
    out = [header]
    for r in keep:
        cid, rest = r.split(b",", 1)
        rest = rest.replace(b"2018-03", month.encode(), 1)
        if force != "northamptonshire":
            rest = rest.replace(b"Northamptonshire Police", b"Leicestershire Police")
        if cid:
            cid = hashlib.sha256(cid + month.encode()).hexdigest().encode()
        out.append(cid + b"," + rest)
    return b"\r\n".join(out) + b"\r\n"


def crimes_json(rows: bytes, month: str) -> list[dict]:
    """The street rows of a month as the API's JSON crimes."""
    out = []
    for i, r in enumerate(csv.DictReader(io.StringIO(rows.decode("utf-8")))):
        if not r["Longitude"]:
            continue
        out.append({"category": CATEGORIES.get(r["Crime type"], "other-crime"), "location_type": "Force",
                    "location": {"latitude": r["Latitude"], "longitude": r["Longitude"],
                                 "street": {"id": 1000 + i, "name": r["Location"]}},
                    "context": r["Context"], "persistent_id": r["Crime ID"], "id": 50_000_000 + i,
                    "location_subtype": "", "month": month,
                    "outcome_status": ({"category": r["Last outcome category"], "date": month}
                                       if r["Last outcome category"] else None)})
    return out


class PoliceServer(ReplayServer):
    """The fake data.police.uk (see the module docs)."""

    def __init__(self, *, latest: str = "2019-06", unpublished=(), api_limit: int = 10_000,
                 api_months=None, forces=("northamptonshire", "leicestershire")):
        super().__init__()
        self.latest = latest
        self.unpublished = set(unpublished)
        self.api_limit = api_limit
        self.api_months = api_months
        self.forces = list(forces)
        self._zips: dict[str, bytes] = {}
        self.fail_match = lambda path: path.endswith(".zip") or "/crimes-street/" in path

    @property
    def archive_url(self) -> str:
        return f"{self.root}/data/archive/"

    @property
    def api_url(self) -> str:
        return f"{self.root}/api/"

    def archive_bytes(self, last: str) -> bytes:
        if last not in self._zips:
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                for k in range(-35, 1):
                    month = shift(last, k)
                    for force in self.forces:
                        if (force, month) in self.unpublished:
                            continue
                        zf.writestr(f"{month}/{month}-{force}-street.csv", street_bytes(force, month))
                        zf.writestr(f"{month}/{month}-{force}-outcomes.csv",
                                    b"Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,"
                                    b"LSOA code,LSOA name,Outcome type\r\n")
                    zf.writestr(f"{month}/{month}-{self.forces[0]}-stop-and-search.csv",
                                b"Type,Date,Part of a policing operation,Policing operation,Latitude,"
                                b"Longitude,Gender,Age range\r\n")
            self._zips[last] = buf.getvalue()
        return self._zips[last]

    def answer(self, path: str, params: dict):
        if path.startswith("/data/archive/") and path.endswith(".zip"):
            name = path.rsplit("/", 1)[-1][:-4]
            if name == "latest":
                name = self.latest
            if not (len(name) == 7 and name[4] == "-" and name <= self.latest):
                return 404, {"Content-Type": "text/html"}, b"<html>Not Found</html>"
            return 200, {"Content-Type": "application/zip"}, self.archive_bytes(name)
        if path.startswith("/api/"):
            return self._api(path[len("/api/"):], params)
        return 404, {"Content-Type": "text/html"}, b"<html>Not Found</html>"

    def _months(self) -> list[str]:
        return self.api_months or [shift(self.latest, k) for k in range(-35, 1)]

    def _api(self, what: str, params: dict):
        js = {"Content-Type": "application/json"}
        if what == "forces":
            return 200, js, json.dumps(FORCES).encode()
        if what == "crimes-street-dates":
            body = [{"date": m, "stop-and-search": ["northamptonshire"]} for m in reversed(self._months())]
            return 200, js, json.dumps(body).encode()
        if what == "crime-categories":
            cats = [{"url": "all-crime", "name": "All crime"}] + [{"url": v, "name": k} for k, v in
                                                                   CATEGORIES.items()]
            return 200, js, json.dumps(cats).encode()
        if what == "crimes-street/all-crime":
            month = params.get("date", self.latest)
            pts = [tuple(map(float, p.split(","))) for p in params.get("poly", "").split(":") if p]
            lats, lngs = [p[0] for p in pts], [p[1] for p in pts]
            crimes = [c for c in crimes_json(street_bytes("northamptonshire", month), month)
                      if min(lats) <= float(c["location"]["latitude"]) <= max(lats)
                      and min(lngs) <= float(c["location"]["longitude"]) <= max(lngs)]
            if len(crimes) > self.api_limit:
                return 503, {"Content-Type": "text/html"}, b""
            return 200, js, json.dumps(crimes).encode()
        return 404, js, b'{"error": "not found"}'
