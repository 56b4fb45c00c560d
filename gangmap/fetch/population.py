"""Child population per area from ONS small-area estimates by single year of age (Nomis).

Why? Rates "per 1,000 children aged 10-17" need a denominator on the same
areas as the map. The ONS publishes mid-year estimates by single year of age
for small areas; this module sums the asked ages and puts the result on the
given boundaries, saying exactly how.

Source
------
ONS mid-year population estimates, small area based by single year of age,
England and Wales, served by Nomis as dataset ``NM_2010_1``
(https://www.nomisweb.co.uk/datasets/pestsyoaoa). The query is::

    https://www.nomisweb.co.uk/api/v01/dataset/NM_2010_1.data.csv?geography=<GSS codes>
        &date=<year>&gender=0&c_age=<101+first age>...<101+last age>&measures=20100
        &select=date_name,geography_code,geography_name,c_age,c_age_name,obs_value

(``c_age`` 101 is age 0, 102 age 1, ..., 191 age 90+; ``gender=0`` all
people; ``measures=20100`` the value.) Codes are sent in chunks of
:data:`CHUNK`, well under Nomis's 25,000 cells per anonymous query.

Which areas
-----------
1. *Ward estimates*, when Nomis has every ward code of the boundaries for
   that year (ONS publishes ward estimates on the wards current at the time,
   so they exist only when the boundaries' vintage matches the year).
2. Otherwise *LSOA estimates* moved onto the wards through an LSOA-to-ward
   lookup: an ONS best-fit lookup file (``lookup=``: for example "LSOA (2011)
   to Electoral Ward (2020) to LAD (2020) Best Fit Lookup in EW" from
   https://geoportal.statistics.gov.uk/, columns ``LSOA11CD``, ``WD20CD``), or
   gangmap's own best-fit bridge (``lsoa=`` LSOA boundaries,
   :func:`gangmap.joining.lsoa_to_ward`, by representative point), whose
   report of straddling LSOAs is kept in the sidecar.

A ward that receives no LSOA and no estimate is not written (its population
is unknown, not 0) and is listed in the sidecar.

Licence: Source: Office for National Statistics licensed under the Open
Government Licence v3.0 (https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/).

By hand: https://www.nomisweb.co.uk/query/construct/summary.asp?mode=construct&version=0&dataset=2010
(choose the geography, the year, "single year of age" and download CSV), or
the ONS "Lower layer Super Output Area population estimates" and "Ward-level
population estimates" pages on https://www.ons.gov.uk/.

Examples
--------
>>> from gangmap.fetch.population import c_age_range, parse_ages
>>> parse_ages("10-17")
(10, 17)
>>> c_age_range(10, 17)
'111...118'
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, DownloadError
from .client import LICENCE, LICENCE_URL, DownloadClient, atomic_path, one_line, refuse_input, utc_now, write_sidecar

__all__ = ["NOMIS_URL", "DATASET", "DATASET_TITLE", "CHUNK", "PopulationFetch", "fetch_population",
           "parse_ages", "c_age_range", "nomis_url"]

NOMIS_URL = "https://www.nomisweb.co.uk/api/v01/dataset/"
DATASET = "NM_2010_1"
DATASET_TITLE = "Population estimates - small area based by single year of age - England and Wales"
DATASET_PAGE = "https://www.nomisweb.co.uk/datasets/pestsyoaoa"
MANUAL = ("download the estimates by hand from https://www.nomisweb.co.uk/datasets/pestsyoaoa (Nomis: "
          "geography, year, single year of age, CSV) and give gangmap a CSV of ward_code,population")
ATTRIBUTION = "Source: Office for National Statistics licensed under the Open Government Licence v3.0"
#: Area codes per Nomis query.
CHUNK = 150
_SELECT = "date_name,geography_code,geography_name,c_age,c_age_name,obs_value"


def parse_ages(ages) -> tuple[int, int]:
    """``"10-17"``, ``"14"``, ``(10, 17)`` -> ``(first, last)``; ages 0-90 (90 = 90 and over)."""
    if isinstance(ages, (tuple, list)) and len(ages) == 2:
        lo, hi = ages
    else:
        m = re.fullmatch(r"\s*(\d{1,2})\s*(?:-\s*(\d{1,2})\s*)?", str(ages))
        if not m:
            raise ConfigError(f"--age {ages!r}: give an age or a range such as 10-17.")
        lo, hi = m.group(1), m.group(2) or m.group(1)
    lo, hi = int(lo), int(hi)
    if not 0 <= lo <= hi <= 90:
        raise ConfigError(f"--age {ages!r}: ages run from 0 to 90 (90 and over), first <= last.")
    return lo, hi


def c_age_range(lo: int, hi: int) -> str:
    """Nomis ``c_age`` codes for single years ``lo``..``hi`` (101 is age 0)."""
    return f"{101 + lo}...{101 + hi}" if hi > lo else str(101 + lo)


def nomis_url(base_url: str = NOMIS_URL, dataset: str = DATASET) -> str:
    """The CSV endpoint of a Nomis dataset."""
    return f"{base_url.rstrip('/')}/{dataset}.data.csv"


@dataclass
class PopulationFetch:
    """What :func:`fetch_population` wrote and how.

    ``method`` is ``"ward"`` (ward estimates) or ``"lsoa"`` (LSOA estimates
    through a lookup); ``missing`` lists area codes given no population (not
    written: unknown, never 0); ``bridge`` is the bridge report's summary.
    """

    path: Path
    method: str
    areas: int
    total: float
    missing: list = field(default_factory=list)
    bridge: str = ""
    meta: dict = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"{self.path}: population aged {self.meta.get('ages')} in {self.meta.get('year')} for "
                 f"{self.areas} areas from {self.method} estimates ({self.meta.get('dataset')}); total "
                 f"{self.total:,.0f}"]
        if self.missing:
            lines.append(f"  {len(self.missing)} area(s) got no population (not written, unknown, not 0): "
                         f"{', '.join(self.missing[:8])}{' ...' if len(self.missing) > 8 else ''}")
        if self.bridge:
            lines += ["  " + x for x in self.bridge.splitlines()]
        return "\n".join(lines)


class _Nomis:
    """Sum of single-year estimates per area code from one Nomis dataset."""

    def __init__(self, client: DownloadClient, url: str, year, ages: tuple[int, int]):
        self.client, self.url, self.year, self.ages = client, url, year, ages
        self.queries: list[str] = []

    def params(self, codes) -> dict:
        return {"geography": ",".join(codes), "date": str(self.year), "gender": "0",
                "c_age": c_age_range(*self.ages), "measures": "20100", "select": _SELECT}

    def totals(self, codes) -> tuple[dict, dict]:
        """``({code: sum over the ages}, {code: name})`` for the codes Nomis has with every age."""
        sums: dict = {}
        names: dict = {}
        ages_seen: dict = {}
        for i in range(0, len(codes), CHUNK):
            chunk = list(codes[i: i + CHUNK])
            params = self.params(chunk)
            self.queries.append(self.url + "?" + "&".join(f"{k}={v}" for k, v in params.items()))
            text = self.client.get_text(self.url, params, what=f"population estimates ({len(chunk)} areas)",
                                        encoding="utf-8-sig")
            for row in _rows(text, self.url):
                code = row["GEOGRAPHY_CODE"].strip().upper()
                sums[code] = sums.get(code, 0.0) + _value(row, self.url)
                names[code] = row.get("GEOGRAPHY_NAME", "")
                ages_seen.setdefault(code, set()).add(row.get("C_AGE"))
        want = self.ages[1] - self.ages[0] + 1
        complete = {c: v for c, v in sums.items() if len(ages_seen[c]) == want}
        return complete, names


def _rows(text: str, url: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text))
    cols = [c.upper() for c in (reader.fieldnames or [])]
    if "GEOGRAPHY_CODE" not in cols or "OBS_VALUE" not in cols:
        first = text.strip().splitlines()[0] if text.strip() else "(empty)"
        raise DownloadError(f"{url} did not answer with the Nomis CSV columns GEOGRAPHY_CODE and OBS_VALUE "
                            f"({one_line(first, 100)!r}); check --dataset and --year, or {MANUAL}.")
    return [{k.upper(): (v or "") for k, v in row.items() if k} for row in reader]


def _value(row: dict, url: str) -> float:
    try:
        return float(row["OBS_VALUE"])
    except ValueError:
        raise DownloadError(f"{url}: OBS_VALUE {row['OBS_VALUE']!r} for {row['GEOGRAPHY_CODE']} is not a "
                            "number; the estimate may be withheld: use another year.") from None


#: ``bridge=`` values and the :func:`gangmap.joining.lsoa_to_ward` method each uses.
BRIDGES = {"best-fit": "centroid", "area": "area"}


def _bridge(wards, lsoa, lookup, bridge: str):
    """An LSOA-to-ward table (``lsoa_code``, ``ward_code``, ``weight``) and its report."""
    from ..joining import lsoa_to_ward

    if lookup is not None:
        return lsoa_to_ward(lsoa, wards, lookup=lookup)
    return lsoa_to_ward(lsoa, wards, method=BRIDGES[bridge])


def _rounded(x: float) -> float | None:
    return None if x != x else round(float(x), 4)  # NaN (no geometry) -> None


def _straddle(rep) -> dict:
    return {"method": rep.method, "lsoas": rep.lsoas, "assigned": rep.assigned,
            "unassigned": list(rep.unassigned), "split": rep.split, "straddling": rep.straddling,
            "straddling_tolerance": rep.tolerance, "over_10pct": rep.over_10pct,
            "median_share_outside": _rounded(rep.median_outside), "max_share_outside": _rounded(rep.max_outside),
            "unknown_wards": list(rep.unknown_wards), "notes": list(rep.notes)}


def fetch_population(wards, out_file, *, ages="10-17", year: int = 2020, lsoa=None, lookup=None,
                     bridge: str = "best-fit", dataset: str = DATASET, base_url: str = NOMIS_URL, timeout: float = 60,
                     retries: int = 3, backoff: float = 1.0, session=None) -> PopulationFetch:
    """Population aged ``ages`` in mid-``year`` for each area of ``wards``; write ``out_file``.

    Parameters
    ----------
    wards : path or GeoDataFrame
        The boundaries the map uses (anything :func:`gangmap.read_wards` reads).
    out_file : path
        CSV written: ``ward_code,population`` (the population reader's columns),
        with a sidecar ``<file>.source.json`` (source, dataset, table, query
        URLs, date fetched, licence, method, straddling LSOAs, missing areas).
    ages : str or (int, int)
        ``"10-17"`` sums ages 10 to 17 inclusive.
    year : int
        Mid-year of the estimates.
    lsoa : path or GeoDataFrame, optional
        LSOA boundaries for gangmap's best-fit bridge, when ward estimates do
        not fit the boundaries.
    lookup : path or DataFrame, optional
        An ONS LSOA-to-ward best-fit lookup instead (wins over ``lsoa``).
    bridge : {"best-fit", "area"}
        With ``lsoa``: each LSOA wholly to the area holding its representative
        point (best fit, as ONS lookups do; a small area may then get no LSOA,
        and so no population), or split between areas by overlapping area
        (every area overlapping an LSOA gets a share; assumes people spread
        evenly over the LSOA). The sidecar reports the LSOAs split or straddling.
    dataset, base_url : str
        The Nomis dataset and API root.
    timeout, retries, backoff, session
        See :class:`~gangmap.fetch.client.DownloadClient`.

    Raises
    ------
    ConfigError
        Bad ages; ``out_file`` is an input; ward estimates do not fit and
        neither ``lsoa`` nor ``lookup`` was given.
    DownloadError
        Network failures or an answer that is not Nomis CSV (one line).
    """
    import pandas as pd

    from ..io.boundaries import read_wards

    lo, hi = parse_ages(ages)
    if bridge not in BRIDGES:
        raise ConfigError(f"--bridge must be one of {', '.join(BRIDGES)}, not {bridge!r}.")
    refuse_input(out_file, [p for p in (wards, lsoa, lookup) if isinstance(p, (str, Path))])
    areas = read_wards(wards)
    codes = sorted(areas["ward_code"].astype(str))
    url = nomis_url(base_url, dataset)
    meta = {"source": "ONS mid-year population estimates (Nomis)", "dataset": dataset,
            "table": DATASET_TITLE if dataset == DATASET else dataset, "dataset_page": DATASET_PAGE,
            "year": int(year), "ages": f"{lo}-{hi}", "fetched_utc": utc_now(), "licence": LICENCE,
            "licence_url": LICENCE_URL, "attribution": ATTRIBUTION, "manual_download": DATASET_PAGE}
    with DownloadClient(timeout=timeout, retries=retries, backoff=backoff, manual=MANUAL,
                        session=session) as client:
        nomis = _Nomis(client, url, year, (lo, hi))
        by_ward, _ = nomis.totals(codes)
        if len(by_ward) == len(codes):
            table = pd.DataFrame({"ward_code": codes, "population": [by_ward[c] for c in codes]})
            meta.update(method="ward", note="ward estimates for every area of the boundaries")
            bridge_text = ""
        else:
            table, bridge_text = _via_lsoa(nomis, areas, codes, by_ward, (lsoa, lookup, bridge), meta, wards)
        meta["queries"] = nomis.queries
    return _write(out_file, table, codes, meta, bridge_text)


_BRIDGE_NOTES = {
    "best-fit": "gangmap's best-fit bridge (each LSOA wholly to the area holding its representative point)",
    "area": "gangmap's area bridge (each LSOA split between the areas it overlaps, by area)",
}


def _via_lsoa(nomis: _Nomis, areas, codes, by_ward, how: tuple, meta: dict, wards_src):
    import pandas as pd

    lsoa, lookup, bridge = how
    if lsoa is None and lookup is None:
        raise ConfigError(
            f"{wards_src}: Nomis has {nomis.year} ward estimates for {len(by_ward)} of the {len(codes)} "
            "areas (the boundaries are another vintage): pass --lsoa FILE (LSOA boundaries; gangmap's "
            "best-fit bridge) or --lookup FILE (an ONS LSOA-to-ward best-fit lookup from "
            "https://geoportal.statistics.gov.uk/) to use LSOA estimates instead.")
    lk, rep = _bridge(areas, lsoa, lookup, bridge)
    lsoa_codes = sorted(set(lk["lsoa_code"].astype(str)))
    by_lsoa, _ = nomis.totals(lsoa_codes)
    lost = [c for c in lsoa_codes if c not in by_lsoa]
    lk = lk[lk["lsoa_code"].astype(str).isin(set(by_lsoa))].copy()
    lk["population"] = lk["lsoa_code"].astype(str).map(by_lsoa) * lk["weight"].astype(float)
    per = lk.groupby(lk["ward_code"].astype(str))["population"].sum()
    table = pd.DataFrame({"ward_code": [c for c in codes if c in per.index]})
    table["population"] = table["ward_code"].map(per).to_numpy()
    meta.update(method="lsoa", bridge=_straddle(rep), lsoa_codes=len(lsoa_codes),
                lsoas_without_estimate=lost,
                note=(f"Nomis has {nomis.year} ward estimates for {len(by_ward)} of {len(codes)} areas, so "
                      "LSOA estimates were assigned to the areas through "
                      + ("the given lookup" if lookup is not None else _BRIDGE_NOTES[bridge])))
    text = rep.summary()
    if lost:
        text += (f"\n{len(lost)} LSOA(s) have no {nomis.year} estimate in {meta['dataset']} (another LSOA "
                 f"vintage?): {', '.join(lost[:5])}{' ...' if len(lost) > 5 else ''}")
    return table, text


def _largest_remainder(values):
    """Whole numbers summing to round(sum(values)), each the floor or ceiling of its value."""
    import numpy as np

    floor = np.floor(values)
    short = int(round(values.sum() - floor.sum()))
    order = np.argsort(-(values - floor), kind="stable")
    floor[order[:short]] += 1
    return floor


def _write(out_file, table, codes, meta: dict, bridge_text: str) -> PopulationFetch:
    out = Path(out_file)
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder; give a file name such as population_10-17.csv.")
    if not bool((table["population"] % 1 == 0).all()):
        # The population reader takes whole people; round so that the total is kept exactly.
        table = table.assign(population=_largest_remainder(table["population"].to_numpy(dtype=float)))
        meta["rounding"] = "shares of LSOAs rounded to whole people by largest remainder (total kept)"
    table = table.assign(population=table["population"].round(0).astype("int64"))
    missing = [c for c in codes if c not in set(table["ward_code"])]
    meta.update(areas=len(table), missing_areas=missing, total=float(table["population"].sum()),
                columns={"ward_code": "area code of the boundaries", "population": f"people aged "
                         f"{meta['ages']}, mid-{meta['year']}"})
    with atomic_path(out) as part:
        table.to_csv(part, index=False, lineterminator="\n")
    write_sidecar(out, meta)
    return PopulationFetch(path=out, method=meta["method"], areas=len(table), total=meta["total"],
                           missing=missing, bridge=bridge_text, meta=meta)
