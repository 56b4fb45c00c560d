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
import os
import re
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import requests

from ..errors import BoundaryError, ConfigError, DownloadError

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
LICENCE = "Open Government Licence v3.0"
LICENCE_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
USER_AGENT = "gangmap (ward boundaries fetch; +https://geoportal.statistics.gov.uk/)"

_LAD_RE = re.compile(r"^[ENSW]\d{8}$")
_MAX_PAGES = 10_000


def attribution(year: int) -> str:
    """The attribution ONS asks for, for boundaries of ``year``.

    Examples
    --------
    >>> attribution(2024)
    'Source: Office for National Statistics licensed under the Open Government Licence v3.0. Contains OS data © Crown copyright and database right 2024'
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


def sidecar_path(path) -> Path:
    """The provenance file beside a downloaded boundary file: ``<file>.source.json``."""
    path = Path(path)
    return path.with_name(path.name + ".source.json")


def read_source(path) -> dict:
    """Read the sidecar ``<file>.source.json`` of a downloaded boundary file.

    Raises
    ------
    DownloadError
        The sidecar is missing or not valid JSON.
    """
    side = sidecar_path(path)
    try:
        return json.loads(side.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DownloadError(f"{side}: provenance file not found; fetch the boundaries again "
                            "with `gangmap boundaries fetch --refresh`.") from None
    except (ValueError, OSError) as exc:
        raise DownloadError(f"{side}: cannot read the provenance file ({exc}); fetch the "
                            "boundaries again with `gangmap boundaries fetch --refresh`.") from None


def _one_line(text, limit: int = 300) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 3] + "..."


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class _Client:
    """GET JSON from ArcGIS with timeouts, retries and one-line errors."""

    def __init__(self, session, *, timeout, retries, backoff, manual):
        self.session = session
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.backoff = max(0.0, float(backoff))
        self.manual = manual
        self.requests = 0

    def get_json(self, url: str, params: dict, what: str) -> dict:
        host = urlsplit(url).netloc or url
        attempts = self.retries + 1
        last = ""
        for attempt in range(attempts):
            if attempt:
                time.sleep(self._delay(attempt, last))
            self.requests += 1
            try:
                resp = self.session.get(url, params=params, timeout=self.timeout)
            except requests.exceptions.ConnectTimeout:
                last = "unreachable"
                continue
            except requests.exceptions.Timeout:
                last = "timeout"
                continue
            except requests.exceptions.ConnectionError:
                last = "unreachable"
                continue
            except requests.exceptions.RequestException as exc:
                raise DownloadError(f"request to {host} for the {what} failed "
                                    f"({_one_line(exc, 150)}); {self.manual}.") from None
            code = resp.status_code
            if code == 429 or code >= 500:
                last = f"HTTP {code}"
                self._retry_after = resp.headers.get("Retry-After")
                continue
            if code >= 400:
                hint = ("the service name may be wrong for this year: find the layer on the portal "
                        "and pass --service-url" if code == 404 else "the request was refused")
                raise DownloadError(f"HTTP {code} from {url} ({what}): {hint}; {self.manual}.")
            try:
                data = resp.json()
            except ValueError:
                raise DownloadError(f"{host} did not answer with JSON for the {what} (a proxy or "
                                    f"login page?): {_one_line(resp.text, 80)!r}; {self.manual}.") from None
            err = data.get("error") if isinstance(data, dict) else None
            if err is not None:
                ecode = err.get("code") if isinstance(err, dict) else None
                if isinstance(ecode, int) and (ecode == 429 or ecode >= 500):
                    last = f"ArcGIS error {ecode}"
                    self._retry_after = None
                    continue
                raise DownloadError(self._arcgis_message(err, url, what, self.manual))
            return data
        if last == "unreachable":
            raise DownloadError(f"cannot reach {host}: the network is unreachable or the machine is "
                                f"offline ({attempts} attempt{'s' if attempts > 1 else ''}); "
                                f"{self.manual}.")
        if last == "timeout":
            raise DownloadError(f"{host} did not answer within {self.timeout:g} s ({attempts} "
                                f"attempt{'s' if attempts > 1 else ''}) while getting the {what}; try "
                                f"again later or with a longer --timeout, or {self.manual}.")
        raise DownloadError(f"{host} kept failing ({last}, {attempts} attempt"
                            f"{'s' if attempts > 1 else ''}) while getting the {what}; try again later, "
                            f"or {self.manual}.")

    _retry_after = None

    def _delay(self, attempt: int, last: str) -> float:
        delay = self.backoff * 2 ** (attempt - 1)
        try:
            if self._retry_after is not None:
                delay = max(delay, min(float(self._retry_after), 60.0))
        except ValueError:
            pass
        return delay

    @staticmethod
    def _arcgis_message(err, url, what, manual) -> str:
        if not isinstance(err, dict):
            return f"the ArcGIS server at {url} returned an error for the {what}: {_one_line(err)}."
        code = err.get("code")
        msg = _one_line(err.get("message") or "no message")
        details = [d for d in (err.get("details") or []) if d and _one_line(d) != msg]
        more = f" ({_one_line('; '.join(map(str, details)), 200)})" if details else ""
        if what == "layer metadata":
            fix = ("no such layer: the service name may differ for this year; find the layer on the "
                   "portal and pass its .../FeatureServer/0 URL with --service-url, or " + manual)
        elif code in (400, 404):
            fix = "check the service (--service-url) and that the districts are given as that year's codes"
        else:
            fix = "check the request"
        return f"the ArcGIS server at {url} returned error {code} for the {what}: {msg}{more}; {fix}."


def _cached(path: Path, layer: str, where: str) -> dict | None:
    """The sidecar of a usable cached download made with the same query, else None."""
    side = sidecar_path(path)
    if not (path.is_file() and side.is_file()):
        return None
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return None
    if meta.get("service_url") != layer or meta.get("query", {}).get("where") != where:
        return None
    if meta.get("sha256") and meta["sha256"] != _sha256(path):
        return None
    return meta


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


def _fetch(lad_codes, *, year, resolution, out_dir, base_url, service_url, timeout, retries, backoff,
           session, refresh) -> tuple[Path, bool, dict]:
    """:func:`fetch_wards`, also returning whether the cache was used and the sidecar."""
    year, res = _check_year_resolution(year, resolution)
    codes = normalise_lad_codes(lad_codes)
    yy = f"{year % 100:02d}"
    layer = service_url.rstrip("/") if service_url else layer_url(year, res, base_url)
    if layer.endswith("/query"):
        layer = layer[: -len("/query")]
    service = service_name(year, res) if not service_url else _service_from_url(layer)
    where = f"LAD{yy}CD IN (" + ",".join(f"'{c}'" for c in codes) + ")"
    path = output_path(codes, year, res, out_dir)

    if not refresh:
        meta = _cached(path, layer, where)
        if meta is not None:
            return path, True, meta

    manual = (f"download the wards by hand from {PORTAL_URL} (search \"Wards December {year} "
              f"Boundaries\") and pass the file to --wards")
    own = session is None
    if own:
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
    try:
        client = _Client(session, timeout=timeout, retries=retries, backoff=backoff, manual=manual)
        info = client.get_json(layer, {"f": "json"}, "layer metadata")
        try:
            page_size = int(info.get("maxRecordCount") or 1000)
        except (TypeError, ValueError):
            page_size = 1000
        page_size = max(1, page_size)
        oid = info.get("objectIdField")
        query = {"where": where, "outFields": "*", "outSR": "4326", "f": "geojson"}
        if oid:
            query["orderByFields"] = oid
        query_url = f"{layer}/query"

        server_count = _count(client, query_url, where)
        if server_count == 0:
            raise DownloadError(
                f"no wards found for {where} in {service}: check the codes are {year} district "
                f"codes (LAD{yy}CD; Northamptonshire's seven districts became E06000061 and "
                "E06000062 in 2021) and the year is right.")

        features: list[dict] = []
        seen: set = set()
        offset = 0
        pages = 0
        while True:
            params = dict(query, resultOffset=offset, resultRecordCount=page_size)
            page = client.get_json(query_url, params, f"wards (offset {offset})")
            pages += 1
            if page.get("type") != "FeatureCollection" or not isinstance(page.get("features"), list):
                raise DownloadError(f"{query_url} did not return GeoJSON features (keys: "
                                    f"{', '.join(sorted(page))[:120]}); check the service URL; {manual}.")
            new = 0
            for feat in page["features"]:
                key = _feature_key(feat, oid)
                if key in seen:
                    continue
                seen.add(key)
                features.append(feat)
                new += 1
            offset += len(page["features"])
            if not _is_limited(page):
                break
            if new == 0 or pages >= _MAX_PAGES:
                raise DownloadError(f"{query_url} kept saying exceededTransferLimit but returned no new "
                                    f"wards after {len(features)} (does the layer support paging?); "
                                    f"{manual}.")
        if server_count is not None and len(features) != server_count:
            raise DownloadError(f"{query_url}: the server counts {server_count} wards for {where} but "
                                f"{len(features)} were downloaded; try again (or with --refresh), or {manual}.")
        if not features:
            raise DownloadError(f"no wards found for {where} in {service}: check the codes are {year} "
                                f"district codes (LAD{yy}CD) and the year is right.")

        first_url = f"{query_url}?{urlencode(dict(query, resultOffset=0, resultRecordCount=page_size))}"
        fetched = datetime.now(UTC).isoformat(timespec="seconds")
        meta = {
            "source_url": first_url,
            "service": service,
            "service_url": layer,
            "query": query,
            "page_size": page_size,
            "pages": pages,
            "requests": client.requests,
            "fetched_utc": fetched,
            "feature_count": len(features),
            "server_count": server_count,
            "year": year,
            "resolution": res,
            "lad_codes": codes,
            "licence": LICENCE,
            "licence_url": LICENCE_URL,
            "attribution": attribution(year),
            "manual_download": f"{PORTAL_URL} (search \"Wards December {year} Boundaries\")",
        }
        _write(path, features, meta, service, year)
        return path, False, meta
    finally:
        if own:
            session.close()


def _service_from_url(layer: str) -> str:
    m = re.search(r"/services/([^/]+)/(Feature|Map)Server", layer)
    return m.group(1) if m else layer


def _count(client: _Client, query_url: str, where: str) -> int | None:
    """The server's feature count for ``where``, or None if it does not support counting."""
    try:
        data = client.get_json(query_url, {"where": where, "returnCountOnly": "true", "f": "json"},
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


def _write(path: Path, features: list, meta: dict, service: str, year: int) -> None:
    """Write the GeoJSON and sidecar atomically after checking read_wards accepts them."""
    from ..io.boundaries import BoundaryWarning, read_wards

    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.stem}.part.geojson")
    side_part = path.with_name(f".{path.stem}.part.source.json")
    try:
        with open(part, "w", encoding="utf-8") as f:
            json.dump({"type": "FeatureCollection", "name": service, "features": features}, f,
                      ensure_ascii=False, separators=(",", ":"))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", BoundaryWarning)
            try:
                wards = read_wards(part)
            except BoundaryError as exc:
                raise DownloadError(f"the downloaded wards cannot be used: {_one_line(str(exc))} "
                                    f"(from {meta['source_url']}).") from None
        used = wards.attrs.get("columns_used", {})
        meta["columns"] = used
        meta["notes"] = [_one_line(w.message) for w in caught if issubclass(w.category, BoundaryWarning)]
        expected = f"WD{year % 100:02d}CD"
        if str(used.get("ward_code", "")).upper() != expected:
            meta["notes"].append(f"ward codes read from {used.get('ward_code')!r}, not {expected}: "
                                 "the layer may be another vintage than the year asked for")
        meta["sha256"] = _sha256(part)
        meta["file"] = path.name
        side_part.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(part, path)
        os.replace(side_part, sidecar_path(path))
    finally:
        for p in (part, side_part):
            if p.exists():
                p.unlink()


# --------------------------------------------------------------------------- CLI

_FETCH_EPILOG = (
    "Example: gangmap boundaries fetch --lad E06000061 E06000062 --year 2024. "
    "The file is written as wards_<year>_<resolution>_<codes>.geojson with a .source.json sidecar "
    "recording the source, date and licence; running the same command again uses that copy "
    "without the network (--refresh downloads again). Without a network, download the wards from "
    f"{PORTAL_URL} (search \"Wards December <year> Boundaries\"). " + attribution(2024).split(". ")[0] + "."
)


def add_cli(subparsers) -> argparse.ArgumentParser:
    """Add ``gangmap boundaries fetch`` to the ``gangmap`` command's subparsers.

    Sets ``func`` on the parsed arguments: ``args.func(args) -> int``.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="gangmap")
    >>> _ = add_cli(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["boundaries", "fetch", "--lad", "E06000061"])
    >>> args.year, args.resolution, args.func.__name__
    (2024, 'BGC', 'cmd_fetch')
    """
    p = subparsers.add_parser(
        "boundaries", help="download ward boundaries (ONS Open Geography Portal)",
        description="Ward boundaries: download them from the ONS Open Geography Portal.",
        epilog="Run `gangmap boundaries fetch --help` for the options.")
    actions = p.add_subparsers(dest="boundaries_command", metavar="ACTION")
    p.set_defaults(func=lambda args: (p.print_help(), 1)[1])

    f = actions.add_parser(
        "fetch", help="download the wards of some districts as GeoJSON",
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
    f.add_argument("--timeout", type=float, default=30, metavar="SECONDS",
                   help="seconds to wait for each answer (default 30)")
    f.add_argument("--retries", type=int, default=3,
                   help="extra attempts after network errors, timeouts and server errors (default 3)")
    f.add_argument("--refresh", action="store_true", help="download again even if a copy exists")
    f.set_defaults(func=cmd_fetch)
    return p


def cmd_fetch(args) -> int:
    """Run ``gangmap boundaries fetch``; print the path (or ``cached: path``)."""
    path, cached, meta = _fetch(args.lad, year=args.year, resolution=args.resolution, out_dir=args.out,
                                base_url=args.base_url, service_url=args.service_url,
                                timeout=args.timeout, retries=args.retries, backoff=1.0, session=None,
                                refresh=args.refresh)
    if cached:
        print(f"cached: {path}")
    else:
        print(str(path))
    print(f"  {meta.get('feature_count')} wards from {meta.get('service')}, fetched "
          f"{meta.get('fetched_utc')}; {meta.get('attribution')}")
    return 0
