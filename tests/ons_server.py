"""A local stand-in for the ONS Open Geography Portal's ArcGIS REST service.

:class:`OnsServer` is a :class:`http.server.ThreadingHTTPServer` on
127.0.0.1 (port 0: the OS picks a free port) that speaks enough of the
ArcGIS FeatureServer protocol for :mod:`gangmap.fetch`:

* ``GET <root>/<service>/FeatureServer/0?f=json``: layer metadata with a
  small ``maxRecordCount`` so that paging really happens;
* ``GET <root>/<service>/FeatureServer/0/query`` with
  ``where=LADyyCD IN ('...')``, ``returnCountOnly=true``,
  ``resultOffset``/``resultRecordCount`` and ``f=geojson`` (pages carry
  ``exceededTransferLimit`` at the top level or in ``properties``);
* an unknown service or a bad ``where`` gives an ArcGIS error page: HTTP 200
  with ``{"error": {"code": 400, ...}}``, as the real service does.

Failures can be injected: ``fail_statuses`` (HTTP statuses returned, one per
request, before answering normally), ``slow`` (seconds to wait before
answering, bounded), ``error_body`` (an ArcGIS error returned with HTTP 200).
Every request is logged in ``requests``.

Features are the real Northamptonshire 2013 wards from ``../shared/data``
renamed to the year's columns (``WD24CD``, ``WD24NM``, ``LAD24CD``,
``LAD24NM``; the seven old districts mapped to E06000061/E06000062), when that
folder exists, or generated squares otherwise; plus a few squares in a third
district (E06000060) so that the ``where`` filter matters.

Examples
--------
>>> with OnsServer(year=2024) as srv:  # doctest: +SKIP
...     srv.base_url
'http://127.0.0.1:54321/arcgis/rest/services'
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
WARDS_2013 = SHARED_DATA / "boundaries" / "northamptonshire_wards_2013.geojson"

NORTH = ("E06000061", "North Northamptonshire")
WEST = ("E06000062", "West Northamptonshire")
OTHER = ("E06000060", "Buckinghamshire")
#: The seven pre-2021 districts and the unitary authority each joined in April 2021.
DISTRICT_TO_UNITARY = {
    "E07000150": NORTH,  # Corby
    "E07000152": NORTH,  # East Northamptonshire
    "E07000153": NORTH,  # Kettering
    "E07000156": NORTH,  # Wellingborough
    "E07000151": WEST,   # Daventry
    "E07000154": WEST,   # Northampton
    "E07000155": WEST,   # South Northamptonshire
}
#: Longest a handler may sleep (``slow``), so a test can never hang the server.
MAX_SLOW = 5.0


def _square(lon0: float, lat0: float, size: float) -> dict:
    ring = [[lon0, lat0], [lon0 + size, lat0], [lon0 + size, lat0 + size], [lon0, lat0 + size], [lon0, lat0]]
    return {"type": "Polygon", "coordinates": [ring]}


def _squares(n: int, lad: tuple[str, str], first_code: int, lon0: float, lat0: float) -> list[dict]:
    feats = []
    for i in range(n):
        geom = _square(lon0 + 0.02 * (i % 10), lat0 + 0.02 * (i // 10), 0.02)
        feats.append({"type": "Feature", "geometry": geom,
                      "properties": {"CD": f"E05{first_code + i:06d}", "NM": f"Square {first_code + i}",
                                     "LADCD": lad[0], "LADNM": lad[1]}})
    return feats


def build_features(year: int = 2024, *, use_shared: bool | None = None) -> list[dict]:
    """GeoJSON features with the year's ONS columns (``WDyyCD`` ...) and ``FID``.

    Real Northamptonshire wards (renamed) when ``../shared/data`` exists (or
    ``use_shared=True``), 120 generated squares otherwise; plus 7 squares in
    a third district (E06000060).
    """
    yy = f"{year % 100:02d}"
    if use_shared is None:
        use_shared = WARDS_2013.is_file()
    base: list[dict] = []
    if use_shared:
        data = json.loads(WARDS_2013.read_text(encoding="utf-8"))
        for f in data["features"]:
            p = f["properties"]
            lad = DISTRICT_TO_UNITARY[p["LAD13CD"]]
            base.append({"type": "Feature", "geometry": f["geometry"],
                         "properties": {"CD": p["WD13CD"], "NM": p["WD13NM"],
                                        "LADCD": lad[0], "LADNM": lad[1]}})
    else:
        base = _squares(70, NORTH, 900001, -0.9, 52.30) + _squares(50, WEST, 900101, -1.1, 52.10)
    base += _squares(7, OTHER, 900501, -0.8, 51.80)
    out = []
    for fid, f in enumerate(base, start=1):
        p = f["properties"]
        out.append({"type": "Feature", "id": fid, "geometry": f["geometry"],
                    "properties": {"FID": fid, f"WD{yy}CD": p["CD"], f"WD{yy}NM": p["NM"],
                                   f"WD{yy}NMW": " ", f"LAD{yy}CD": p["LADCD"], f"LAD{yy}NM": p["LADNM"],
                                   "GlobalID": f"{{00000000-0000-0000-0000-{fid:012d}}}"}})
    return out


class OnsServer(ThreadingHTTPServer):
    """The fake ONS ArcGIS service; use as a context manager (starts and stops a thread).

    Parameters
    ----------
    year : int
        Vintage served: service ``Wards_December_<year>_Boundaries_UK_<res>`` and
        fields ``WDyyCD``/``LADyyCD``.
    max_record_count : int
        ``maxRecordCount`` in the layer metadata and the largest page served.
    truncate_to : int, optional
        Serve at most this many features per page (as real servers do for
        heavy geometry) while still flagging ``exceededTransferLimit``.
    limit_flag : {"top", "properties"}
        Where ``exceededTransferLimit`` is put in GeoJSON pages.
    supports_count : bool
        Whether ``returnCountOnly=true`` is answered (else an ArcGIS 400 error).
    features : list of dict, optional
        Features to serve (default :func:`build_features`).
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *, year: int = 2024, max_record_count: int = 50, truncate_to: int | None = None,
                 limit_flag: str = "top", supports_count: bool = True, features=None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.year = year
        self.max_record_count = max_record_count
        self.truncate_to = truncate_to
        self.limit_flag = limit_flag
        self.supports_count = supports_count
        self.features = build_features(year) if features is None else features
        self.fail_statuses: list[int] = []
        self.slow = 0.0
        self.error_body: dict | None = None
        self.requests: list[tuple[str, dict]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The ArcGIS ``.../rest/services`` root to pass as ``base_url``."""
        return f"{self.root}/arcgis/rest/services"

    def start(self) -> OnsServer:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="ons-test-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server_close()

    def __enter__(self) -> OnsServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def handle_error(self, request, client_address) -> None:  # quiet: clients hang up on purpose
        pass

    # -- protocol --------------------------------------------------------------------------
    def queries(self, kind: str | None = None) -> list[dict]:
        """Logged query parameters; ``kind`` = "count", "page" or "meta" filters them."""
        out = []
        for path, params in self.requests:
            is_query = path.endswith("/query")
            k = ("count" if params.get("returnCountOnly") == "true" else "page") if is_query else "meta"
            if kind is None or k == kind:
                out.append(params)
        return out

    def service(self, resolution: str = "BGC") -> str:
        return f"Wards_December_{self.year}_Boundaries_UK_{resolution}"

    def matching(self, where: str) -> list[dict] | None:
        """Features matching ``where`` (``LADyyCD IN ('..', ..)`` or ``1=1``); None if not understood."""
        yy = f"{self.year % 100:02d}"
        if where.strip() == "1=1":
            return list(self.features)
        m = re.fullmatch(rf"\s*LAD{yy}CD\s+IN\s*\(([^)]*)\)\s*", where, flags=re.I)
        if not m:
            m1 = re.fullmatch(rf"\s*LAD{yy}CD\s*=\s*('[^']*')\s*", where, flags=re.I)
            if not m1:
                return None
            m = m1
        codes = set(re.findall(r"'([^']*)'", m.group(1)))
        return [f for f in self.features if f["properties"][f"LAD{yy}CD"] in codes]

    def answer(self, path: str, params: dict) -> tuple[int, dict]:
        m = re.fullmatch(r"/arcgis/rest/services/([^/]+)/FeatureServer/0(/query)?/?", path)
        if not m or not m.group(1).startswith(f"Wards_December_{self.year}_Boundaries_UK_"):
            return 200, {"error": {"code": 400, "message": "Invalid URL", "details": ["Invalid URL"]}}
        if not m.group(2):
            return 200, {"currentVersion": 11.3, "id": 0, "name": f"WD_DEC_{self.year}_UK_BGC",
                         "type": "Feature Layer", "geometryType": "esriGeometryPolygon",
                         "objectIdField": "FID", "maxRecordCount": self.max_record_count,
                         "advancedQueryCapabilities": {"supportsPagination": True},
                         "fields": [{"name": k} for k in self.features[0]["properties"]]}
        feats = self.matching(params.get("where", ""))
        if feats is None:
            return 200, {"error": {"code": 400, "message": "Unable to complete operation.",
                                   "details": ["Unable to perform query operation.",
                                               "Invalid query parameters."]}}
        if params.get("returnCountOnly") == "true":
            if not self.supports_count:
                return 200, {"error": {"code": 400, "message": "returnCountOnly is not supported",
                                       "details": []}}
            return 200, {"count": len(feats)}
        if params.get("f") != "geojson":
            return 200, {"error": {"code": 400, "message": "this test server only speaks f=geojson"}}
        offset = int(params.get("resultOffset", 0))
        asked = int(params.get("resultRecordCount", self.max_record_count))
        size = min(asked, self.max_record_count, self.truncate_to or asked)
        if params.get("orderByFields"):
            feats = sorted(feats, key=lambda f: f["properties"]["FID"])
        page = feats[offset: offset + size]
        body: dict = {"type": "FeatureCollection", "features": page}
        if offset + len(page) < len(feats):
            if self.limit_flag == "properties":
                body["properties"] = {"exceededTransferLimit": True}
            else:
                body["exceededTransferLimit"] = True
        return 200, body


class _Handler(BaseHTTPRequestHandler):
    server: OnsServer
    timeout = 10  # seconds a client may take to send its request

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        srv = self.server
        url = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        with srv._lock:
            srv.requests.append((url.path, params))
            fail = srv.fail_statuses.pop(0) if srv.fail_statuses and url.path.endswith("/query") else None
            slow, error_body = srv.slow, srv.error_body
        if slow and url.path.endswith("/query"):
            time.sleep(min(slow, MAX_SLOW))
        if fail is not None:
            self._send(fail, {"error": {"code": fail, "message": "injected failure"}})
            return
        if error_body is not None and url.path.endswith("/query"):
            self._send(200, error_body)
            return
        status, body = srv.answer(url.path, params)
        self._send(status, body)

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
