"""Open schools of some local authorities from Get Information about Schools (GIAS).

Why? Referrals arrive per school (URN). To place them, gangmap needs each
school's URN, name, location and ward: exactly what the Department for
Education's GIAS register publishes every day for every establishment in
England. :func:`fetch_schools` downloads the full extract once (cached and
checksummed), keeps the open establishments of the given local authorities
and writes them with the GIAS column names that
:func:`gangmap.io.read_schools` reads.

Source
------
The "all establishment data" extract linked from
https://get-information-schools.service.gov.uk/Downloads, published daily at
``https://ea-edubase-api-prod.azurewebsites.net/edubase/downloads/public/edubasealldataYYYYMMDD.csv``.
It is a CSV in Windows-1252 (cp1252) with about 130 columns, among them
``URN``, ``LA (code)``, ``LA (name)``, ``EstablishmentName``,
``TypeOfEstablishment (name)``, ``EstablishmentStatus (name)``,
``PhaseOfEducation (name)``, ``StatutoryLowAge``, ``StatutoryHighAge``,
``Postcode``, ``Easting``, ``Northing``, ``AdministrativeWard (code)``,
``AdministrativeWard (name)``. Today's file may not be there yet, so the
days before are tried (``days_back``). ``LA (code)`` is the three-digit DfE
code: Northamptonshire 928 (until March 2021), North Northamptonshire 940,
West Northamptonshire 941.

``AdministrativeWard (code)`` is the ward *current* in GIAS; with boundaries of
another vintage gangmap places the school by its Easting/Northing instead.

Licence: Open Government Licence v3.0 (GIAS data are Crown copyright, published
by the Department for Education under the OGL;
https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/).

By hand: https://get-information-schools.service.gov.uk/Downloads ("Establishment
fields", CSV), then pass the file to ``--schools``.

Examples
--------
>>> from gangmap.fetch.schools import extract_url
>>> extract_url("20240105")
'https://ea-edubase-api-prod.azurewebsites.net/edubase/downloads/public/edubasealldata20240105.csv'
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
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
    refuse_input,
    utc_now,
    write_sidecar,
)

__all__ = ["GIAS_URL", "GIAS_PAGE", "OUTPUT_COLUMNS", "OPEN_STATUSES", "SchoolsFetch", "fetch_schools",
           "extract_url", "decode_extract"]

GIAS_URL = "https://ea-edubase-api-prod.azurewebsites.net/edubase/downloads/public/"
GIAS_PAGE = "https://get-information-schools.service.gov.uk/Downloads"
ATTRIBUTION = ("Contains public sector information (Get Information about Schools, Department for "
               "Education) licensed under the Open Government Licence v3.0.")
#: Columns written, in this order (GIAS names, as the schools reader expects).
OUTPUT_COLUMNS = ["URN", "EstablishmentName", "LA (code)", "LA (name)", "TypeOfEstablishment (name)",
                  "EstablishmentStatus (name)", "PhaseOfEducation (name)", "StatutoryLowAge",
                  "StatutoryHighAge", "Postcode", "Easting", "Northing", "AdministrativeWard (code)",
                  "AdministrativeWard (name)"]
_NEEDED = ["URN", "EstablishmentName", "LA (code)", "EstablishmentStatus (name)", "PhaseOfEducation (name)",
           "Easting", "Northing", "AdministrativeWard (code)"]
OPEN_STATUSES = ("Open", "Open, but proposed to close")
MANUAL = (f"download the establishment fields CSV by hand from {GIAS_PAGE} and pass it to --extract "
          "(or straight to --schools)")


def extract_url(day: str, base_url: str = GIAS_URL) -> str:
    """URL of the GIAS extract published on ``day`` (``YYYYMMDD``)."""
    if not re.fullmatch(r"\d{8}", str(day)):
        raise ConfigError(f"--date {day!r}: give the extract's date as YYYYMMDD, e.g. 20240105.")
    return f"{base_url.rstrip('/')}/edubasealldata{day}.csv"


def decode_extract(data: bytes, source: str) -> tuple[str, str]:
    """Decode a GIAS extract: UTF-8 (with or without BOM) when it is, else cp1252 as published."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise DownloadError(f"{source}: neither UTF-8 nor cp1252 text (byte {exc.start}); download it "
                            f"again from {GIAS_PAGE}.") from None


def _las(codes) -> list[str]:
    if isinstance(codes, (str, int)):
        codes = [codes]
    out = []
    for c in codes or []:
        out += [x for x in re.split(r"[\s,]+", str(c).strip()) if x]
    bad = [c for c in out if not re.fullmatch(r"\d{3}", c)]
    if not out or bad:
        raise ConfigError(f"--la {bad or out}: give three-digit DfE local authority codes, e.g. 928 "
                          "(Northamptonshire to 2021), 940 (North Northamptonshire), 941 (West "
                          f"Northamptonshire); list on {GIAS_PAGE}.")
    return sorted(set(out))


@dataclass
class SchoolsFetch:
    """What :func:`fetch_schools` wrote: the file, the extract used and counts per LA."""

    path: Path
    extract: str
    schools: int
    by_la: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def summary(self) -> str:
        las = ", ".join(f"LA {k}: {v}" for k, v in self.by_la.items())
        return f"{self.path}: {self.schools} establishments ({las}) from {self.extract}"


def _get_extract(client: DownloadClient, cache: Path, day, base_url: str, days_back: int,
                 refresh: bool) -> tuple[Path, str]:
    """The extract file (cached) and its URL: ``day`` or the latest of the last ``days_back`` days."""
    days = [str(day)] if day else [(date.today() - timedelta(days=i)).strftime("%Y%m%d")
                                   for i in range(days_back + 1)]
    for d in days:
        url = extract_url(d, base_url)
        path = cache / "gias" / f"edubasealldata{d}.csv"
        if not refresh and cached(path, {"source_url": url}) is not None:
            return path, url
        res = client.download(url, path, what=f"GIAS extract {d}", allow=(404,) if not day else (),
                              hint404=f"no extract for {d}: try another --date, or {MANUAL}")
        if res.get("status") == 404:
            continue
        write_sidecar(path, {"source_url": url, "bytes": res["bytes"], "fetched_utc": utc_now(),
                             "licence": LICENCE, "attribution": ATTRIBUTION, "encoding": "as published"})
        return path, url
    raise DownloadError(f"no GIAS extract found for {days[0]} or the {days_back} days before at "
                        f"{base_url}; give --date YYYYMMDD, or {MANUAL}.")


def _read_extract(path: Path, source: str):
    """The extract as a frame of strings, and the encoding it was in."""
    import pandas as pd

    text, encoding = decode_extract(path.read_bytes(), source)
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise DownloadError(f"{source}: not a readable CSV ({one_line(exc, 120)}); {MANUAL}.") from None
    missing = [c for c in _NEEDED if c not in df.columns]
    if missing:
        raise DownloadError(f"{source}: not a GIAS establishment extract: no column(s) {missing}; "
                            f"{MANUAL}.")
    return df, encoding


def fetch_schools(las, out_file, *, day: str | None = None, extract=None, phases=None,
                  include_closed: bool = False, base_url: str = GIAS_URL, cache_dir=None,
                  days_back: int = 7, timeout: float = 120, retries: int = 3, backoff: float = 1.0,
                  session=None, refresh: bool = False) -> SchoolsFetch:
    """Open GIAS establishments of local authorities ``las``, written to ``out_file`` (UTF-8 CSV).

    Parameters
    ----------
    las : list of str
        DfE three-digit LA codes (``928``, ``940``, ``941``).
    out_file : path
        CSV with :data:`OUTPUT_COLUMNS` and a sidecar (source URL, extract date,
        encoding, counts, licence).
    day : str, optional
        ``YYYYMMDD`` of the extract; default the latest of the last ``days_back`` days.
    extract : path, optional
        A GIAS extract already downloaded (no network).
    phases : list of str, optional
        Keep only these ``PhaseOfEducation (name)`` values (e.g. ``["Secondary"]``).
    include_closed : bool
        Keep every status, not just :data:`OPEN_STATUSES` (for referrals to schools since closed).
    base_url, cache_dir, days_back, timeout, retries, backoff, session, refresh
        Where and how to download (see :class:`~gangmap.fetch.client.DownloadClient`).
    """
    codes = _las(las)
    refuse_input(out_file, [extract] if extract else [], option="--out")
    out = Path(out_file)
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder; give a file name such as schools.csv.")
    if extract is not None:
        path, url = Path(extract), str(extract)
        if not path.is_file():
            raise ConfigError(f"--extract {extract}: no such file; download it from {GIAS_PAGE}.")
    else:
        cache = Path(cache_dir) if cache_dir else default_cache_dir()
        with DownloadClient(timeout=timeout, retries=retries, backoff=backoff, manual=MANUAL,
                            session=session) as client:
            path, url = _get_extract(client, cache, day, base_url, days_back, refresh)
    df, encoding = _read_extract(path, url)
    keep = df["LA (code)"].str.strip().isin(codes)
    if not include_closed:
        keep &= df["EstablishmentStatus (name)"].str.strip().isin(OPEN_STATUSES)
    if phases:
        keep &= df["PhaseOfEducation (name)"].str.strip().str.casefold().isin({p.casefold() for p in phases})
    rows = df.loc[keep, [c for c in OUTPUT_COLUMNS if c in df.columns]]
    by_la = {c: int((rows["LA (code)"].str.strip() == c).sum()) for c in codes}
    empty = [c for c, n in by_la.items() if n == 0]
    if len(empty) == len(codes):
        raise DownloadError(f"{url}: no {'' if include_closed else 'open '}establishments with LA (code) "
                            f"{', '.join(empty)}; check the codes (928 Northamptonshire became 940 and 941 "
                            "in 2021; --include-closed keeps closed schools).")
    with atomic_path(out) as part:
        rows.to_csv(part, index=False, lineterminator="\n", encoding="utf-8")
    meta = {"source": "Get Information about Schools (DfE): all establishment data", "source_url": url,
            "download_page": GIAS_PAGE, "source_encoding": encoding, "encoding": "utf-8",
            "la_codes": codes, "statuses": "all" if include_closed else list(OPEN_STATUSES),
            "phases": phases or "all", "schools": len(rows), "by_la": by_la,
            "empty_las": empty, "fetched_utc": utc_now(),
            "licence": LICENCE, "licence_url": LICENCE_URL, "attribution": ATTRIBUTION}
    write_sidecar(out, meta)
    return SchoolsFetch(path=out, extract=url, schools=len(rows), by_la=by_la, meta=meta)
