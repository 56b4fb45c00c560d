"""Download ward boundaries from the ONS Open Geography Portal (ArcGIS REST).

The ONS publishes each year's ward boundaries as an ArcGIS FeatureServer
layer on ``services1.arcgis.com``. :func:`fetch_wards` queries that layer for
the wards of some local authority districts, pages through the results,
writes one GeoJSON file plus a sidecar ``<file>.source.json`` (source URL,
query, date fetched, feature count, licence attribution) and returns its path.
A second call with the same arguments finds the file and sidecar and returns
them without touching the network.

Service names
-------------
The layer URL is ``<base_url>/<service>/FeatureServer/0`` where ``<service>``
is :func:`service_name` of the year and resolution: by default
``Wards_December_<year>_Boundaries_UK_<resolution>`` (the name ONS uses for
2022 onwards), with the exceptions in :data:`KNOWN_SERVICES`. ONS sometimes
republishes a layer under a new name (a ``_V2`` or ``_2022`` suffix); when the
default is not found, look the layer up on https://geoportal.statistics.gov.uk/
("I want to use this" > "View API resources") and pass ``service_url=``
(``--service-url``).

Resolutions: ``BFC`` full resolution, ``BGC`` generalised (20 m), ``BSC``
super generalised (200 m); all clipped to the coastline.

Licence: Source: Office for National Statistics licensed under the Open
Government Licence v3.0. Contains OS data © Crown copyright and database right.

Examples
--------
>>> from gangmap.fetch import fetch_wards, layer_url
>>> layer_url(2024, "BGC")
'https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services/Wards_December_2024_Boundaries_UK_BGC/FeatureServer/0'
>>> path = fetch_wards(["E06000061", "E06000062"], year=2024)  # doctest: +SKIP
>>> path.name  # doctest: +SKIP
'wards_2024_BGC_E06000061-E06000062.geojson'
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import time  # noqa: F401  (tests patch time.sleep through this module)
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from ..errors import BoundaryError, ConfigError, DownloadError
from .client import (
    LICENCE,
    LICENCE_URL,
    DownloadClient,
    atomic_path,
    cached,
    one_line,
    read_sidecar,
    sidecar_path,
    utc_now,
    write_sidecar,
)

#: ArcGIS REST services root of the ONS Open Geography Portal.
DEFAULT_BASE_URL = "https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services"
#: Where people can download boundaries by hand.
PORTAL_URL = "https://geoportal.statistics.gov.uk/"
#: Boundary resolutions ONS publishes for wards.
RESOLUTIONS = {
    "BFC": "full resolution, clipped to the coastline",
    "BGC": "generalised (20 m), clipped to the coastline",
    "BSC": "super generalised (200 m), clipped to the coastline",
}
#: Service names that do not follow ``Wards_December_<year>_Boundaries_UK_<res>``. These are
#: names seen in use; ONS may rename layers, so ``service_url=`` always wins.
KNOWN_SERVICES = {
    (2021, "BGC"): "Wards_December_2021_UK_BGC_2022",
    (2019, "BGC"): "Wards_December_2019_Boundaries_UK_BGC_2022",
    (2019, "BFC"): "Wards_December_2019_Boundaries_UK_BFC_v2",
}
USER_AGENT = "gangmap (ward boundaries fetch; +https://geoportal.statistics.gov.uk/)"

_LAD_RE = re.compile(r"^[ENSW]\d{8}$")
_MAX_PAGES = 10_000
_COLUMN_PATTERNS = {
    "ward_code": re.compile(r"^wd\d{2}cd$", re.I),
    "ward_name": re.compile(r"^wd\d{2}nm$", re.I),
    "lad_code": re.compile(r"^lad\d{2}cd$", re.I),
    "lad_name": re.compile(r"^lad\d{2}nm$", re.I),
}
__all__ = ["DEFAULT_BASE_URL", "KNOWN_SERVICES", "LICENCE", "LICENCE_URL", "PORTAL_URL", "RESOLUTIONS",
           "USER_AGENT", "add_fetch_parser", "attribution", "cmd_fetch", "fetch_wards",
           "layer_url", "normalise_lad_codes", "output_path", "read_source", "service_name",
           "sidecar_path"]


def attribution(year: int) -> str:
    """The attribution ONS asks for, for boundaries of ``year``.

    Examples
    --------
    >>> attribution(2024)[:56]
    'Source: Office for National Statistics licensed under th'
    >>> attribution(2024)[-56:]
    'ntains OS data © Crown copyright and database right 2024'
    """
    return ("Source: Office for National Statistics licensed under the Open Government Licence "
            f"v3.0. Contains OS data © Crown copyright and database right {int(year)}")


def _check_year_resolution(year, resolution) -> tuple[int, str]:
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ConfigError(f"year must be a number such as 2024, not {year!r}.") from None
    if not 2011 <= year <= 2099:
        raise ConfigError(f"year {year} is outside the ONS ward vintages (2011 onwards); "
                          "give the boundary year, e.g. --year 2024.")
    res = str(resolution).upper()
    if res not in RESOLUTIONS:
        raise ConfigError(f"resolution {resolution!r} is not one of "
                          + ", ".join(f"{k} ({v})" for k, v in RESOLUTIONS.items()) + ".")
    return year, res


def service_name(year: int = 2024, resolution: str = "BGC") -> str:
    """Name of the ONS ArcGIS service holding the wards of ``year``.

    ``Wards_December_<year>_Boundaries_UK_<resolution>``, except for the
    names listed in :data:`KNOWN_SERVICES`.

    Examples
    --------
    >>> service_name(2024, "BGC")
    'Wards_December_2024_Boundaries_UK_BGC'
    >>> service_name(2023, "bsc")
    'Wards_December_2023_Boundaries_UK_BSC'
    """
    year, res = _check_year_resolution(year, resolution)
    return KNOWN_SERVICES.get((year, res), f"Wards_December_{year}_Boundaries_UK_{res}")


def layer_url(year: int = 2024, resolution: str = "BGC", base_url: str = DEFAULT_BASE_URL) -> str:
    """URL of the ward layer: ``<base_url>/<service_name>/FeatureServer/0``.

    Examples
    --------
    >>> layer_url(2024, "BGC", base_url="http://127.0.0.1:8000/arcgis/rest/services")
    'http://127.0.0.1:8000/arcgis/rest/services/Wards_December_2024_Boundaries_UK_BGC/FeatureServer/0'
    """
    return f"{base_url.rstrip('/')}/{service_name(year, resolution)}/FeatureServer/0"


def normalise_lad_codes(lad_codes) -> list[str]:
    """Upper-case, de-duplicated, sorted district codes; raise ConfigError on bad ones.

    Accepts a list or a comma/space separated string.

    Examples
    --------
    >>> normalise_lad_codes("e06000062, E06000061")
    ['E06000061', 'E06000062']
    """
    if isinstance(lad_codes, str):
        lad_codes = [lad_codes]
    codes = []
    for item in lad_codes or []:
        codes += [c for c in re.split(r"[\s,;]+", str(item).strip().upper()) if c]
    if not codes:
        raise ConfigError("give at least one local authority district code, e.g. --lad E06000061.")
    bad = [c for c in codes if not _LAD_RE.match(c)]
    if bad:
        raise ConfigError(f"not district GSS codes: {bad[:5]}. Give codes such as E06000061 (North "
                          "Northamptonshire) or E07000154; look them up on "
                          f"{PORTAL_URL} (Local Authority Districts).")
    return sorted(set(codes))


def output_path(lad_codes, year: int = 2024, resolution: str = "BGC",
                out_dir="data/boundaries") -> Path:
    """File :func:`fetch_wards` writes to: ``wards_<year>_<res>_<codes>.geojson`` in ``out_dir``.

    More than four districts are named by the first, the number of others and
    a short hash of all of them.

    Examples
    --------
    >>> output_path(["E06000062", "E06000061"], 2024, "BGC", "data/boundaries").as_posix()
    'data/boundaries/wards_2024_BGC_E06000061-E06000062.geojson'
    """
    year, res = _check_year_resolution(year, resolution)
    codes = normalise_lad_codes(lad_codes)
    if len(codes) <= 4:
        tag = "-".join(codes)
    else:
        digest = hashlib.sha1(",".join(codes).encode()).hexdigest()[:8]
        tag = f"{codes[0]}-and-{len(codes) - 1}-more-{digest}"
    return Path(out_dir) / f"wards_{year}_{res}_{tag}.geojson"


def read_source(path) -> dict:
    """Read the sidecar ``<file>.source.json`` of a downloaded boundary file.

    Raises
    ------
    DownloadError
        The sidecar is missing or not valid JSON.
    """
    return read_sidecar(path, fix="fetch the boundaries again with `gangmap fetch boundaries --refresh`")


def _arcgis_check(url: str, what: str, manual: str):
    """A ``check`` for :meth:`DownloadClient.get_json`: ArcGIS reports errors with HTTP 200."""
    def check(data):
        err = data.get("error") if isinstance(data, dict) else None
        if err is None:
            return None
        ecode = err.get("code") if isinstance(err, dict) else None
        if isinstance(ecode, int) and (ecode == 429 or ecode >= 500):
            return f"ArcGIS error {ecode}"
        raise DownloadError(_arcgis_message(err, url, what, manual))
    return check


def _arcgis_message(err, url, what, manual) -> str:
    if not isinstance(err, dict):
        return f"the ArcGIS server at {url} returned an error for the {what}: {one_line(err)}."
    code = err.get("code")
    msg = one_line(err.get("message") or "no message")
    details = [d for d in (err.get("details") or []) if d and one_line(d) != msg]
    more = f" ({one_line('; '.join(map(str, details)), 200)})" if details else ""
    if what == "layer metadata":
        fix = ("no such layer: the service name may differ for this year; find the layer on the "
               "portal and pass its .../FeatureServer/0 URL with --service-url, or " + manual)
    elif code in (400, 404):
        fix = "check the service (--service-url) and that the districts are given as that year's codes"
    else:
        fix = "check the request"
    return f"the ArcGIS server at {url} returned error {code} for the {what}: {msg}{more}; {fix}."


class _ArcGis:
    """JSON from one ArcGIS layer through the shared :class:`DownloadClient`."""

    HINT404 = ("the service name may be wrong for this year: find the layer on the portal and pass "
               "--service-url")

    def __init__(self, client: DownloadClient):
        self.client = client

    def get_json(self, url: str, params: dict, what: str) -> dict:
        return self.client.get_json(url, params, what=what, hint404=self.HINT404,
                                    check=_arcgis_check(url, what, self.client.manual))


def _is_limited(page: dict) -> bool:
    props = page.get("properties")
    return bool(page.get("exceededTransferLimit")
                or (isinstance(props, dict) and props.get("exceededTransferLimit")))


def _feature_key(feature: dict, oid_field: str | None):
    props = feature.get("properties") or {}
    if oid_field and oid_field in props:
        return props[oid_field]
    if feature.get("id") is not None:
        return feature["id"]
    return json.dumps(props, sort_keys=True, default=str)


def fetch_wards(lad_codes, *, year: int = 2024, resolution: str = "BGC", out_dir="data/boundaries",
                base_url: str = DEFAULT_BASE_URL, service_url: str | None = None, timeout: float = 30,
                retries: int = 3, backoff: float = 1.0, session=None, refresh: bool = False) -> Path:
    """Download the wards of some districts from the ONS Open Geography Portal.

    Queries the year's ward layer (see :func:`layer_url`) with
    ``where=LADyyCD IN (...)``, ``outFields=*``, ``outSR=4326``,
    ``f=geojson``, paging with ``resultOffset``/``resultRecordCount`` (the page
    size is the layer's ``maxRecordCount``) until ``exceededTransferLimit`` is
    gone. The result is checked against the server's count
    (``returnCountOnly``, when supported) and read with
    :func:`gangmap.read_wards`, then written with a sidecar
    ``<file>.source.json`` recording the source URL, service, query, UTC date
    fetched, feature count and the licence attribution.

    A second call with the same arguments returns the cached file without any
    network access (unless ``refresh=True``).

    Parameters
    ----------
    lad_codes : str or list of str
        Local authority district codes of the boundary year (for 2021 onwards
        Northamptonshire is E06000061 and E06000062).
    year : int
        Boundary vintage (December of that year); selects the service name and
        the ``LADyyCD`` field.
    resolution : {"BGC", "BSC", "BFC"}
        Generalised (20 m, default), super generalised (200 m) or full.
    out_dir : str or Path
        Folder to write into (created if needed).
    base_url : str
        ArcGIS REST services root (default: the ONS portal).
    service_url : str, optional
        The layer URL (``.../FeatureServer/0``), overriding ``base_url`` and the
        service name pattern.
    timeout : float
        Seconds to wait for each answer.
    retries : int
        Extra attempts after a connection error, timeout, HTTP 5xx/429 or an
        ArcGIS 5xx error, with exponential backoff (``backoff``, 2×backoff, ...
        seconds). 4xx answers and ArcGIS errors such as 400 are not retried.
    backoff : float
        First wait between attempts, seconds.
    session : requests.Session, optional
        Session to use (for proxies or certificates); one is made otherwise.
    refresh : bool
        Download again even if a cached copy exists.

    Returns
    -------
    Path
        The GeoJSON file (EPSG:4326, the layer's own columns such as
        ``WD24CD``, ``WD24NM``, ``LAD24CD``, ``LAD24NM``).

    Raises
    ------
    DownloadError
        Network unreachable, timeouts, server or ArcGIS errors, no wards found,
        a count mismatch, or a result that :func:`gangmap.read_wards` rejects.
        One line, naming the manual download page when it helps.
    ConfigError
        Bad district codes, year or resolution.

    Examples
    --------
    >>> p = fetch_wards(["E06000061", "E06000062"], year=2024)  # doctest: +SKIP
    >>> import gangmap
    >>> wards = gangmap.read_wards(p)  # doctest: +SKIP
    """
    return _fetch(lad_codes, year=year, resolution=resolution, out_dir=out_dir, base_url=base_url,
                  service_url=service_url, timeout=timeout, retries=retries, backoff=backoff,
                  session=session, refresh=refresh)[0]


@dataclass
class _Query:
    """What one boundaries fetch asks for, and where it goes."""

    year: int
    res: str
    codes: list
    layer: str
    service: str
    where: str
    path: Path

    @property
    def yy(self) -> str:
        return f"{self.year % 100:02d}"

    @property
    def manual(self) -> str:
        return (f"download the wards by hand from {PORTAL_URL} (search \"Wards December {self.year} "
                "Boundaries\") and pass the file to --wards")


def _query(lad_codes, year, resolution, out_dir, base_url, service_url) -> _Query:
    year, res = _check_year_resolution(year, resolution)
    codes = normalise_lad_codes(lad_codes)
    layer = service_url.rstrip("/") if service_url else layer_url(year, res, base_url)
    if layer.endswith("/query"):
        layer = layer[: -len("/query")]
    service = service_name(year, res) if not service_url else _service_from_url(layer)
    where = f"LAD{year % 100:02d}CD IN (" + ",".join(f"'{c}'" for c in codes) + ")"
    return _Query(year, res, codes, layer, service, where, output_path(codes, year, res, out_dir))


def _fetch(lad_codes, *, year, resolution, out_dir, base_url, service_url, timeout, retries, backoff,
           session, refresh) -> tuple[Path, bool, dict]:
    """:func:`fetch_wards`, also returning whether the cache was used and the sidecar."""
    q = _query(lad_codes, year, resolution, out_dir, base_url, service_url)
    if not refresh:
        meta = cached(q.path)
        if meta is not None and meta.get("service_url") == q.layer \
                and meta.get("query", {}).get("where") == q.where:
            return q.path, True, meta
    with DownloadClient(timeout=timeout, retries=retries, backoff=backoff, manual=q.manual,
                        session=session, user_agent=USER_AGENT) as client:
        api = _ArcGis(client)
        info = api.get_json(q.layer, {"f": "json"}, "layer metadata")
        try:
            page_size = max(1, int(info.get("maxRecordCount") or 1000))
        except (TypeError, ValueError):
            page_size = 1000
        oid = info.get("objectIdField")
        query = {"where": q.where, "outFields": "*", "outSR": "4326", "f": "geojson"}
        if oid:
            query["orderByFields"] = oid
        server_count = _count(api, f"{q.layer}/query", q.where)
        if server_count == 0:
            raise DownloadError(
                f"no wards found for {q.where} in {q.service}: check the codes are {q.year} district "
                f"codes (LAD{q.yy}CD; Northamptonshire's seven districts became E06000061 and "
                "E06000062 in 2021) and the year is right.")
        features, pages = _pages(api, q, query, page_size, oid)
        _check_total(q, features, server_count)
        first_url = f"{q.layer}/query?{urlencode(dict(query, resultOffset=0, resultRecordCount=page_size))}"
        meta = {
            "source_url": first_url, "service": q.service, "service_url": q.layer, "query": query,
            "page_size": page_size, "pages": pages, "requests": client.requests,
            "fetched_utc": utc_now(), "feature_count": len(features), "server_count": server_count,
            "year": q.year, "resolution": q.res, "lad_codes": q.codes,
            "licence": LICENCE, "licence_url": LICENCE_URL, "attribution": attribution(q.year),
            "manual_download": f"{PORTAL_URL} (search \"Wards December {q.year} Boundaries\")",
        }
    _write(q.path, features, meta, q.service, q.year)
    return q.path, False, meta


def _pages(api: _ArcGis, q: _Query, query: dict, page_size: int, oid) -> tuple[list, int]:
    """Every feature of the query, page by page (``resultOffset``), without duplicates."""
    query_url = f"{q.layer}/query"
    features: list[dict] = []
    seen: set = set()
    offset = pages = 0
    while True:
        params = dict(query, resultOffset=offset, resultRecordCount=page_size)
        page = api.get_json(query_url, params, f"wards (offset {offset})")
        pages += 1
        if page.get("type") != "FeatureCollection" or not isinstance(page.get("features"), list):
            raise DownloadError(f"{query_url} did not return GeoJSON features (keys: "
                                f"{', '.join(sorted(page))[:120]}); check the service URL; {q.manual}.")
        new = 0
        for feat in page["features"]:
            key = _feature_key(feat, oid)
            if key not in seen:
                seen.add(key)
                features.append(feat)
                new += 1
        offset += len(page["features"])
        if not _is_limited(page):
            return features, pages
        if new == 0 or pages >= _MAX_PAGES:
            raise DownloadError(f"{query_url} kept saying exceededTransferLimit but returned no new "
                                f"wards after {len(features)} (does the layer support paging?); "
                                f"{q.manual}.")


def _check_total(q: _Query, features: list, server_count: int | None) -> None:
    if server_count is not None and len(features) != server_count:
        raise DownloadError(f"{q.layer}/query: the server counts {server_count} wards for {q.where} but "
                            f"{len(features)} were downloaded; try again (or with --refresh), or {q.manual}.")
    if not features:
        raise DownloadError(f"no wards found for {q.where} in {q.service}: check the codes are {q.year} "
                            f"district codes (LAD{q.yy}CD) and the year is right.")


def _service_from_url(layer: str) -> str:
    m = re.search(r"/services/([^/]+)/(Feature|Map)Server", layer)
    return m.group(1) if m else layer


def _count(api: _ArcGis, query_url: str, where: str) -> int | None:
    """The server's feature count for ``where``, or None if it does not support counting."""
    try:
        data = api.get_json(query_url, {"where": where, "returnCountOnly": "true", "f": "json"},
                            "ward count")
    except DownloadError as exc:
        # An unsupported count is not fatal; a real query error shows up again on the data query.
        if "returned error" in str(exc):
            return None
        raise
    count = data.get("count")
    if count is None and isinstance(data.get("properties"), dict):
        count = data["properties"].get("count")
    return int(count) if isinstance(count, (int, float)) else None


def _columns_used(features: list) -> dict:
    """The ONS columns holding ward/district codes and names (``WD24CD`` ...), from the properties."""
    props = features[0].get("properties") or {} if features else {}
    used = {}
    for role, pattern in _COLUMN_PATTERNS.items():
        hit = next((k for k in props if pattern.match(str(k))), None)
        if hit is not None:
            used[role] = hit
    return used


def _write(path: Path, features: list, meta: dict, service: str, year: int) -> None:
    """Write the GeoJSON and sidecar atomically after checking read_wards accepts them."""
    from ..io.boundaries import BoundaryWarning, read_wards

    with atomic_path(path) as part:
        with open(part, "w", encoding="utf-8") as f:
            json.dump({"type": "FeatureCollection", "name": service, "features": features}, f,
                      ensure_ascii=False, separators=(",", ":"))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", BoundaryWarning)
            try:
                read_wards(part)
            except BoundaryError as exc:
                raise DownloadError(f"the downloaded wards cannot be used: {one_line(str(exc))} "
                                    f"(from {meta['source_url']}).") from None
        used = _columns_used(features)
        meta["columns"] = used
        meta["notes"] = [one_line(w.message) for w in caught if issubclass(w.category, BoundaryWarning)]
        expected = f"WD{year % 100:02d}CD"
        if str(used.get("ward_code", "")).upper() != expected:
            meta["notes"].append(f"ward codes read from {used.get('ward_code')!r}, not {expected}: "
                                 "the layer may be another vintage than the year asked for")
    write_sidecar(path, meta)


# --------------------------------------------------------------------------- CLI

_FETCH_EPILOG = (
    "Example: gangmap fetch boundaries --lad E06000061 E06000062 --year 2024. "
    "The file is written as wards_<year>_<resolution>_<codes>.geojson with a .source.json sidecar "
    "recording the source, date and licence; running the same command again uses that copy "
    "without the network (--refresh downloads again). Without a network, download the wards from "
    f"{PORTAL_URL} (search \"Wards December <year> Boundaries\"). " + attribution(2024).split(". ")[0] + "."
)


def add_fetch_parser(subparsers, name: str = "boundaries") -> argparse.ArgumentParser:
    """Add the boundaries download command (``gangmap fetch boundaries``) to ``subparsers``."""
    from .options import network_args

    f = subparsers.add_parser(
        name, help="ward boundaries of some districts (ONS Open Geography Portal), as GeoJSON",
        description="Download the electoral wards of the given local authority districts from the "
                    "ONS Open Geography Portal's ArcGIS service (Wards December <year> Boundaries UK), "
                    "check them, and write them with a provenance sidecar. Prints the path written, "
                    "or 'cached: PATH' when an earlier download with the same options is reused.",
        epilog=_FETCH_EPILOG)
    f.add_argument("--lad", nargs="+", required=True, metavar="CODE",
                   help="district codes of that year, space or comma separated (e.g. E06000061 "
                        "E06000062 for North and West Northamptonshire since 2021)")
    f.add_argument("--year", type=int, default=2024,
                   help="boundary year (December of that year; default 2024). Selects the service "
                        "and the LADyyCD field")
    f.add_argument("--resolution", default="BGC", type=str.upper, choices=list(RESOLUTIONS),
                   help="BGC generalised 20 m (default, right for ward maps), BSC super generalised "
                        "200 m (smallest), BFC full resolution (largest)")
    f.add_argument("--out", default="data/boundaries", metavar="DIR",
                   help="folder to write into (default data/boundaries; git-ignored)")
    f.add_argument("--base-url", default=DEFAULT_BASE_URL, metavar="URL",
                   help="ArcGIS REST services root (default: the ONS portal)")
    f.add_argument("--service-url", metavar="URL",
                   help="the ward layer URL (.../FeatureServer/0) when the default service name "
                        "for the year is not found")
    network_args(f)
    f.set_defaults(func=cmd_fetch)
    return f


def cmd_fetch(args) -> int:
    """Run ``gangmap fetch boundaries``; print the path (or ``cached: path``)."""
    path, was_cached, meta = _fetch(args.lad, year=args.year, resolution=args.resolution,
                                    out_dir=args.out, base_url=args.base_url,
                                    service_url=args.service_url, timeout=args.timeout,
                                    retries=args.retries, backoff=1.0, session=None, refresh=args.refresh)
    print(f"cached: {path}" if was_cached else str(path))
    print(f"  {meta.get('feature_count')} wards from {meta.get('service')}, fetched "
          f"{meta.get('fetched_utc')}; {meta.get('attribution')}")
    return 0
