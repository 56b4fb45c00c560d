"""Street-level crime from data.police.uk, month by month, exactly as published.

Why this module? Police data for "the twelve months either side of the
launch" means 24 files for one force, spread over archives of several
hundred megabytes each; done by hand it is the step where months go missing
without anyone noticing. :func:`fetch_police` gets them, keeps the published
bytes, and writes a manifest that says, month by month, what was published
and what was not, so that a month the force did not publish stays *no data*
downstream (never a month of 0 reports).

Sources (Open Government Licence v3.0, https://data.police.uk/about/ and
https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/)
--------------------------------------------------------------------------
``archive`` (default)
    The monthly archives listed on https://data.police.uk/data/archive/:
    ``https://data.police.uk/data/archive/YYYY-MM.zip`` holds the 36 months
    up to ``YYYY-MM`` for every force (the oldest archives hold everything
    since 2010-12), and ``latest.zip`` the latest 36 months. Inside, one
    folder per month: ``YYYY-MM/YYYY-MM-<force>-street.csv`` (also
    ``-outcomes.csv`` and ``-stop-and-search.csv``, not used here). A month
    that has files for other forces but none for ``<force>`` is a month the
    force did not publish. The street CSV columns are ``Crime ID, Month,
    Reported by, Falls within, Longitude, Latitude, Location, LSOA code, LSOA
    name, Crime type, Last outcome category, Context``. Each file is copied
    byte for byte out of the archive; the archive is cached (``--cache``)
    with its SHA-256.
``api``
    The API (https://data.police.uk/docs/): ``/api/crimes-street-dates``
    lists the months available (about the last three years),
    ``/api/crime-categories?date=`` names the categories, and
    ``/api/crimes-street/all-crime?poly=lat,lng:lat,lng:...&date=YYYY-MM``
    returns the crimes in a polygon (HTTP 503 above 10,000 crimes: the area is
    then split into quarters). The area is the outline of ``area`` (for example
    the ward boundaries); crimes outside it are dropped. The API carries no
    LSOA and no force, so the CSV written from it has those columns empty; its
    manifest says ``"as_published": false``.

By hand: https://data.police.uk/data/ (custom download: pick the force and
the months, tick "Include crime data") or the archives page above; unzip and
pass the folder or the files to gangmap.

Examples
--------
>>> from gangmap.fetch.police import months_between, archive_for
>>> months_between("2017-03", "2017-06")
['2017-03', '2017-04', '2017-05', '2017-06']
>>> archive_for("2019-02")
'2019-02.zip'
>>> r = fetch_police("northamptonshire", "2017-03", "2019-02", "police")  # doctest: +SKIP
>>> r.missing  # doctest: +SKIP
[]
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, DownloadError
from .client import (
    LICENCE,
    LICENCE_URL,
    DownloadClient,
    atomic_path,
    cached,
    default_cache_dir,
    one_line,
    sha256_file,
    utc_now,
    write_sidecar,
)

__all__ = ["ARCHIVE_URL", "API_URL", "MANUAL_PAGE", "PoliceFetch", "fetch_police",
           "months_between", "archive_for", "street_member", "read_manifest", "combine_police",
           "MANIFEST"]

ARCHIVE_URL = "https://data.police.uk/data/archive/"
API_URL = "https://data.police.uk/api/"
MANUAL_PAGE = "https://data.police.uk/data/"
ATTRIBUTION = "Contains public sector information licensed under the Open Government Licence v3.0 (data.police.uk)."
#: The manifest written beside the monthly files.
MANIFEST = "manifest.json"
#: Months one monthly archive holds (the oldest archives hold more).
ARCHIVE_MONTHS = 36
#: API categories by slug, used when /api/crime-categories does not answer for a month.
API_CATEGORIES = {
    "anti-social-behaviour": "Anti-social behaviour", "bicycle-theft": "Bicycle theft",
    "burglary": "Burglary", "criminal-damage-arson": "Criminal damage and arson", "drugs": "Drugs",
    "other-theft": "Other theft", "possession-of-weapons": "Possession of weapons",
    "public-order": "Public order", "robbery": "Robbery", "shoplifting": "Shoplifting",
    "theft-from-the-person": "Theft from the person", "vehicle-crime": "Vehicle crime",
    "violent-crime": "Violence and sexual offences", "other-crime": "Other crime",
}
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_FORCE_RE = re.compile(r"^[a-z][a-z-]*[a-z]$")
_MEMBER_RE = re.compile(r"(?:^|/)(\d{4}-\d{2})/\1-([a-z-]+)-street\.csv$")
_MAX_SPLIT = 8


def _month(value: str, option: str) -> tuple[int, int]:
    m = _MONTH_RE.match(str(value).strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ConfigError(f"{option} {value!r} is not a month; give YYYY-MM, e.g. {option} 2017-03.")
    return int(m.group(1)), int(m.group(2))


def months_between(start: str, end: str) -> list[str]:
    """Every month from ``start`` to ``end`` inclusive, as ``YYYY-MM``."""
    y, m = _month(start, "--from")
    y2, m2 = _month(end, "--to")
    if (y, m) > (y2, m2):
        raise ConfigError(f"--from {start} is after --to {end}; give the earlier month first.")
    out = []
    while (y, m) <= (y2, m2):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _shift(month: str, k: int) -> str:
    y, m = _month(month, "month")
    n = y * 12 + (m - 1) + k
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def _archive_month(last: str | None, month: str) -> str:
    """The archive month for ``month``: ``last`` (the request's end), or 36, 72... months before it.

    Archives are chosen from the end of the request backwards, so that a rerun
    which only needs a few months reads the same (cached) archive again.
    """
    if last is None:
        return month
    (y, m), (y2, m2) = _month(last, "month"), _month(month, "month")
    back = (y * 12 + m) - (y2 * 12 + m2)
    return _shift(last, -ARCHIVE_MONTHS * (back // ARCHIVE_MONTHS))


def archive_for(month: str) -> str:
    """The archive named for ``month`` (it holds the 36 months up to and including it)."""
    _month(month, "month")
    return f"{month}.zip"


def street_member(month: str, force: str) -> str:
    """Path of a force's street CSV inside an archive: ``YYYY-MM/YYYY-MM-<force>-street.csv``."""
    return f"{month}/{month}-{force}-street.csv"


def _forces(forces) -> list[str]:
    if isinstance(forces, str):
        forces = [forces]
    out = []
    for f in forces or []:
        out += [x.strip() for x in str(f).strip().lower().split(",") if x.strip()]
    bad = [f for f in out if not _FORCE_RE.match(f)]
    if not out or bad:
        raise ConfigError(f"force ids {bad or out} are not data.police.uk ids; give ids such as "
                          "northamptonshire, metropolitan, avon-and-somerset (list: "
                          f"{API_URL}forces).")
    return sorted(set(out))


@dataclass
class PoliceFetch:
    """What :func:`fetch_police` wrote.

    Attributes
    ----------
    out_dir : Path
        The folder: ``YYYY-MM/YYYY-MM-<force>-street.csv`` files and ``manifest.json``.
    manifest : Path
        The manifest (see :func:`read_manifest`).
    files : dict
        ``{(force, month): path}`` of the months published.
    missing : list of (force, month)
        Months asked for that the force did not publish (no data, never 0).
    cached : int
        Files reused from an earlier run (checksums verified).
    """

    out_dir: Path
    manifest: Path
    files: dict = field(default_factory=dict)
    missing: list = field(default_factory=list)
    cached: int = 0

    def summary(self) -> str:
        """One line per force: months written, reused and missing."""
        lines = []
        forces = sorted({f for f, _ in self.files} | {f for f, _ in self.missing})
        for force in forces:
            got = sorted(m for f, m in self.files if f == force)
            miss = sorted(m for f, m in self.missing if f == force)
            lines.append(f"{force}: {len(got)} month(s) written to {self.out_dir}"
                         + (f", {len(miss)} not published (no data, not 0): {', '.join(miss)}" if miss else ""))
        if self.cached:
            lines.append(f"  {self.cached} file(s) reused from an earlier run (checksums match)")
        return "\n".join(lines)


def read_manifest(path) -> dict:
    """Read a police ``manifest.json`` (a folder or the file itself).

    Keys: ``source``, ``forces``, ``months`` (asked), ``files`` (one entry per
    published month: ``force``, ``month``, ``path`` relative to the folder,
    ``sha256``, ``bytes``, ``rows``, ``source_url``, ``member``),
    ``missing_periods`` (``{force: [months]}``: not published, no data),
    ``missing`` (the same with a reason), ``as_published``, ``licence``,
    ``attribution``, ``fetched_utc``.
    """
    p = Path(path)
    p = p / MANIFEST if p.is_dir() else p
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DownloadError(f"{p}: no police manifest; run `gangmap fetch police` into that folder.") from None
    except (ValueError, OSError) as exc:
        raise DownloadError(f"{p}: cannot read the police manifest ({one_line(exc, 120)}); run "
                            "`gangmap fetch police --refresh`.") from None


def _reusable(out_dir: Path, forces, months, source: str, refresh: bool) -> dict:
    """Files of an earlier run into ``out_dir`` that can be kept: ``{(force, month): entry}``."""
    if refresh or not (out_dir / MANIFEST).is_file():
        return {}
    try:
        old = read_manifest(out_dir)
    except DownloadError:
        return {}
    if old.get("source") != source:
        return {}
    keep = {}
    for e in old.get("files", []):
        p = out_dir / e.get("path", "")
        if e.get("force") in forces and e.get("month") in months and p.is_file() \
                and sha256_file(p) == e.get("sha256"):
            keep[(e["force"], e["month"])] = e
    return keep


def fetch_police(forces, start: str, end: str, out_dir, *, source: str = "archive",
                 base_url: str = ARCHIVE_URL, api_url: str = API_URL, archive=None, area=None,
                 cache_dir=None, timeout: float = 60, retries: int = 3, backoff: float = 1.0,
                 session=None, refresh: bool = False) -> PoliceFetch:
    """Fetch data.police.uk street-level CSVs for ``forces`` and the months ``start``..``end``.

    Parameters
    ----------
    forces : str or list of str
        data.police.uk force ids (``northamptonshire``; list at
        https://data.police.uk/api/forces).
    start, end : str
        First and last month, ``YYYY-MM``.
    out_dir : path
        Folder to write ``YYYY-MM/YYYY-MM-<force>-street.csv`` and ``manifest.json`` into.
    source : {"archive", "api"}
        Monthly archives (bytes as published) or the API (see the module docs).
    base_url, api_url : str
        Roots of the archives and of the API (a local replay server in tests).
    archive : path or URL, optional
        One archive to use instead of choosing them by month: a local zip
        already downloaded, ``"latest"``, or a URL.
    area : path or GeoDataFrame, optional
        For ``source="api"``: the polygons whose outline is queried (e.g. the wards).
    cache_dir : path, optional
        Where archives are kept between runs (default :func:`default_cache_dir`).
    timeout, retries, backoff, session
        See :class:`~gangmap.fetch.client.DownloadClient`.
    refresh : bool
        Download again even when files with matching checksums exist.

    Returns
    -------
    PoliceFetch

    Raises
    ------
    DownloadError
        Network failures (one line naming the manual download page), an
        archive that is not a zip, a street file without the published header.
    ConfigError
        Bad months, force ids or source.
    """
    force_list = _forces(forces)
    months = months_between(start, end)
    if source not in ("archive", "api"):
        raise ConfigError(f"--source must be 'archive' or 'api', not {source!r}.")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a folder for the monthly police files.")
    keep = _reusable(out, force_list, months, source, refresh)
    manual = (f"download the street files by hand from {MANUAL_PAGE} (custom download) or an archive from "
              f"{ARCHIVE_URL}, unzip it and pass the folder")
    with DownloadClient(timeout=timeout, retries=retries, backoff=backoff, manual=manual,
                        session=session) as client:
        todo = [(f, m) for f in force_list for m in months if (f, m) not in keep]
        if source == "archive":
            run = _ArchiveRun(client, out, Path(cache_dir) if cache_dir else default_cache_dir(), base_url,
                              refresh)
            got, missing = run.collect(todo, archive, months[-1])
        else:
            if area is None:
                raise ConfigError("--source api needs --area FILE (the boundaries whose outline is "
                                  "queried, e.g. the wards file).")
            got, missing = _ApiRun(client, out, api_url, area).collect(todo)
        urls = sorted({e.get("source_url", "") for e in got.values()} - {""})
    entries = {**keep, **got}
    stale = _stale(out, entries)
    res = _write_manifest(out, force_list, months, source, entries, missing, len(keep), urls)
    for p in stale:  # files an earlier run wrote for months or forces no longer asked for
        p.unlink()
        if p.parent != out and not any(p.parent.iterdir()):
            p.parent.rmdir()
    return res


def _stale(out: Path, entries: dict) -> list[Path]:
    """Files listed in the previous manifest, unchanged since, that the new one will not list.

    They are removed once the new manifest is written, so that a folder read
    as a whole (``gangmap.io.read_police``) holds exactly the months asked for.
    Files gangmap did not write, or that were edited, are left alone.
    """
    if not (out / MANIFEST).is_file():
        return []
    try:
        old = read_manifest(out)
    except DownloadError:
        return []
    keep = {e["path"] for e in entries.values()}
    return [out / e["path"] for e in old.get("files", []) if e.get("path") not in keep
            and (out / e["path"]).is_file() and sha256_file(out / e["path"]) == e.get("sha256")]


def _write_manifest(out: Path, forces, months, source, entries: dict, missing: list, reused: int,
                    urls) -> PoliceFetch:
    missing = sorted(missing)
    meta = {
        "source": source,
        "as_published": source == "archive",
        "forces": forces, "from": months[0], "to": months[-1], "months": months,
        "files": [entries[k] for k in sorted(entries, key=lambda k: (k[1], k[0]))],
        "missing_periods": {f: [m for ff, m, _ in missing if ff == f] for f in forces},
        "missing": [{"force": f, "month": m, "reason": why} for f, m, why in missing],
        "urls": urls,
        "fetched_utc": utc_now(),
        "licence": LICENCE, "licence_url": LICENCE_URL, "attribution": ATTRIBUTION,
        "manual_download": MANUAL_PAGE,
        "note": ("A month listed in missing_periods was not published by the force: it is no data, "
                 "never 0 reports."),
    }
    path = out / MANIFEST
    with atomic_path(path) as part:
        part.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return PoliceFetch(out_dir=out, manifest=path,
                       files={k: out / e["path"] for k, e in entries.items()},
                       missing=[(f, m) for f, m, _ in missing], cached=reused)


def _count_rows(path: Path) -> int:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return max(0, sum(1 for _ in csv.reader(f)) - 1)


def _check_header(path: Path, where: str) -> None:
    from ..io import POLICE_COLUMNS  # the street-level header's one home (imported here: gangmap.io is heavy)

    with open(path, "rb") as f:
        first = f.readline().decode("utf-8-sig", errors="replace").strip()
    if [c.strip() for c in first.split(",")][:4] != POLICE_COLUMNS[:4]:
        raise DownloadError(f"{where} does not start with the data.police.uk street header "
                            f"({', '.join(POLICE_COLUMNS[:4])}, ...): {one_line(first, 80)!r}; the "
                            "archive may be damaged: fetch again with --refresh.")


class _ArchiveRun:
    """Months out of the monthly archives (downloaded once into the cache, checksummed)."""

    def __init__(self, client: DownloadClient, out: Path, cache: Path, base_url: str, refresh: bool):
        self.client, self.out, self.cache = client, out, cache
        self.base = base_url.rstrip("/") + "/"
        self.refresh = refresh

    def collect(self, todo, archive=None, last: str | None = None) -> tuple[dict, list]:
        got: dict = {}
        missing: list = []
        seen: dict = {}
        remaining = sorted(todo, key=lambda fm: fm[1])
        while remaining:
            name, url, path = self._locate(archive, _archive_month(last, max(m for _, m in remaining)))
            with self._open(path, url) as zf:
                covered, members = _index(zf)
                seen[name] = {f for _, f in members}
                left = []
                for force, month in remaining:
                    if month not in covered:
                        left.append((force, month))
                    elif (month, force) in members:
                        got[(force, month)] = self._extract(zf, members[(month, force)], force, month, url)
                    else:
                        missing.append((force, month, f"no {force} street file for {month} in {name} "
                                                      "(not published by the force)"))
            if archive is not None or len(left) == len(remaining):
                missing += [(f, m, f"{m} is not in {name}") for f, m in left]
                break
            remaining = left
        _check_forces({f for f, _ in todo}, seen)
        return got, missing

    def _locate(self, archive, last_month: str) -> tuple[str, str, Path]:
        """(name, URL or path, local path) of the archive to read next."""
        if archive is not None:
            a = str(archive)
            if a == "latest":
                return "latest.zip", self.base + "latest.zip", self.cache / "police" / "latest.zip"
            if re.match(r"^https?://", a):
                return a.rsplit("/", 1)[-1], a, self.cache / "police" / a.rsplit("/", 1)[-1]
            p = Path(a)
            if not p.is_file():
                raise ConfigError(f"--archive {a}: no such file; give a data.police.uk archive zip, "
                                  "'latest' or a URL.")
            return p.name, str(p), p
        name = archive_for(last_month)
        return name, self.base + name, self.cache / "police" / name

    def _open(self, path: Path, url: str) -> zipfile.ZipFile:
        if url != str(path):  # a download (local archives are read as they are)
            meta = None if self.refresh else cached(path, {"source_url": url})
            if meta is None:
                res = self.client.download(url, path, what=f"police archive {path.name}",
                                           hint404=f"no archive {path.name} on the server: see the list at "
                                                   f"{ARCHIVE_URL} (archives are named by their last month)")
                write_sidecar(path, {"source_url": url, "bytes": res["bytes"], "fetched_utc": utc_now(),
                                     "licence": LICENCE, "attribution": ATTRIBUTION})
        try:
            return zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise DownloadError(f"{path} is not a readable zip archive ({one_line(exc, 80)}); fetch again "
                                f"with --refresh, or download it from {ARCHIVE_URL}.") from None

    def _extract(self, zf: zipfile.ZipFile, member: str, force: str, month: str, url: str) -> dict:
        rel = street_member(month, force)
        dest = self.out / rel
        try:
            with atomic_path(dest) as part:
                with zf.open(member) as src, open(part, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                _check_header(part, f"{member} in {url}")
        except (zipfile.BadZipFile, OSError) as exc:
            raise DownloadError(f"cannot extract {member} from {url} ({one_line(exc, 80)}); fetch again "
                                "with --refresh.") from None
        return {"force": force, "month": month, "path": rel, "sha256": sha256_file(dest),
                "bytes": dest.stat().st_size, "rows": _count_rows(dest), "source_url": url, "member": member}


def _check_forces(forces: set, seen: dict) -> None:
    """A force with no street file in any archive read is a wrong id, not months of no data."""
    every = set().union(*seen.values()) if seen else set()
    absent = sorted(f for f in forces if f not in every)
    if absent and seen:
        names = ", ".join(seen)
        raise ConfigError(f"no street files for force {', '.join(absent)} in {names}; forces there: "
                          f"{', '.join(sorted(every)[:12])}{' ...' if len(every) > 12 else ''} "
                          f"(ids as in {API_URL}forces).")


def _index(zf: zipfile.ZipFile) -> tuple[set, dict]:
    """Months with any street file, and ``{(month, force): member}``."""
    covered, members = set(), {}
    for name in zf.namelist():
        m = _MEMBER_RE.search(name)
        if m:
            covered.add(m.group(1))
            members[(m.group(1), m.group(2))] = name
    return covered, members


class _ApiRun:
    """Months from the data.police.uk API, as street CSVs (no LSOA, no force: see the module docs)."""

    def __init__(self, client: DownloadClient, out: Path, api_url: str, area):
        self.client, self.out = client, out
        self.api = api_url.rstrip("/") + "/"
        self.outline = _outline(area)

    def collect(self, todo) -> tuple[dict, list]:
        forces = self.client.get_json(self.api + "forces", what="list of forces (API)")
        known = {f.get("id") for f in forces if isinstance(f, dict)}
        unknown = sorted({f for f, _ in todo} - known)
        if unknown:
            raise ConfigError(f"{self.api}forces has no force {', '.join(unknown)}; ids there: "
                              f"{', '.join(sorted(known)[:12])}{' ...' if len(known) > 12 else ''}.")
        dates = self.client.get_json(self.api + "crimes-street-dates", what="months available (API)")
        available = {d.get("date") for d in dates if isinstance(d, dict)}
        got, missing = {}, []
        for force, month in todo:
            if month not in available:
                missing.append((force, month, f"{month} is not in {self.api}crimes-street-dates"))
                continue
            crimes = self._month(month)
            got[(force, month)] = self._write(force, month, crimes)
        return got, missing

    def _categories(self, month: str) -> dict:
        try:
            cats = self.client.get_json(self.api + "crime-categories", {"date": month},
                                        what=f"crime categories {month}")
            return {**API_CATEGORIES, **{c["url"]: c["name"] for c in cats if "url" in c and "name" in c}}
        except DownloadError:
            return dict(API_CATEGORIES)

    def _month(self, month: str) -> list:
        import shapely

        minx, miny, maxx, maxy = self.outline.bounds
        found: dict = {}
        self._tile(month, (minx, miny, maxx, maxy), 0, found)
        pts = shapely.points([float(c["location"]["longitude"]) for c in found.values()],
                             [float(c["location"]["latitude"]) for c in found.values()])
        inside = shapely.intersects(self.outline, pts) if len(found) else []
        return [c for c, ok in zip(found.values(), inside) if ok]

    def _tile(self, month: str, box, depth: int, found: dict) -> None:
        x0, y0, x1, y1 = box
        poly = ":".join(f"{lat:.6f},{lng:.6f}" for lng, lat in ((x0, y0), (x0, y1), (x1, y1), (x1, y0)))
        url = self.api + "crimes-street/all-crime"
        resp = self.client.get(url, {"poly": poly, "date": month}, what=f"crimes {month}", allow=(503,))
        if resp.status_code == 503:  # more than 10,000 crimes in the polygon: split it
            if depth >= _MAX_SPLIT:
                raise DownloadError(f"{url} still answers 503 (too many crimes) for a tiny area in {month}; "
                                    "try again later, or download the archive instead (--source archive).")
            xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
            for b in ((x0, y0, xm, ym), (xm, y0, x1, ym), (x0, ym, xm, y1), (xm, ym, x1, y1)):
                self._tile(month, b, depth + 1, found)
            return
        try:
            crimes = resp.json()
        except ValueError:
            raise DownloadError(f"{url} did not answer with JSON for {month}: "
                                f"{one_line(resp.text, 80)!r}; {self.client.manual}.") from None
        for c in crimes:
            found.setdefault(c.get("id"), c)

    def _write(self, force: str, month: str, crimes: list) -> dict:
        from ..io import POLICE_COLUMNS

        cats = self._categories(month)
        rel = street_member(month, force)
        dest = self.out / rel
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(POLICE_COLUMNS)
        for c in crimes:
            loc = c.get("location") or {}
            outcome = c.get("outcome_status") or {}
            w.writerow([c.get("persistent_id") or "", c.get("month") or month, "", "",
                        loc.get("longitude", ""), loc.get("latitude", ""),
                        (loc.get("street") or {}).get("name", ""), "", "",
                        cats.get(c.get("category"), c.get("category", "")),
                        outcome.get("category", "") if isinstance(outcome, dict) else "", c.get("context") or ""])
        with atomic_path(dest) as part:
            part.write_text(buf.getvalue(), encoding="utf-8", newline="")
        return {"force": force, "month": month, "path": rel, "sha256": sha256_file(dest),
                "bytes": dest.stat().st_size, "rows": len(crimes),
                "source_url": self.api + "crimes-street/all-crime", "member": None}


def _outline(area):
    """The union of ``area``'s polygons in EPSG:4326 (lng/lat), simplified for the API."""
    from ..io.boundaries import read_wards

    try:
        gdf = read_wards(area)
    except Exception as exc:  # noqa: BLE001 - any unreadable area is one line
        raise ConfigError(f"--area {area}: cannot read the boundaries ({one_line(exc, 150)}).") from None
    return gdf.frame.to_crs(4326).union_all().buffer(0)


def combine_police(folder, out_file) -> Path:
    """Write every published month of a police folder into one CSV (header once, rows unchanged).

    For readers that take one file. The rows keep their published bytes; the
    sidecar ``<file>.source.json`` lists the months and the months missing
    (no data). ``out_file`` must not be one of the monthly files.
    """
    folder = Path(folder)
    man = read_manifest(folder)
    out = Path(out_file)
    files = [folder / e["path"] for e in man.get("files", [])]
    if any(out.resolve() == f.resolve() for f in files):
        raise ConfigError(f"--combined {out} is one of the monthly files; write it somewhere else.")
    with atomic_path(out) as part, open(part, "wb") as dst:
        for i, f in enumerate(files):
            with open(f, "rb") as src:
                header = src.readline()
                if i == 0:
                    dst.write(header)
                data = src.read()
                dst.write(data if data.endswith(b"\n") or not data else data + b"\r\n")
    write_sidecar(out, {"source": "data.police.uk street-level crime", "combined_from": str(folder),
                        "months": [e["month"] for e in man.get("files", [])],
                        "missing_periods": man.get("missing_periods", {}),
                        "as_published": man.get("as_published"), "licence": LICENCE,
                        "attribution": ATTRIBUTION, "fetched_utc": man.get("fetched_utc")})
    return out
