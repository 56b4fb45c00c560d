"""A local stand-in for the Nomis API (ONS small-area population estimates by single year of age).

Answers ``GET /api/v01/dataset/<dataset>.data.csv`` with the parameters
gangmap sends (``geography`` = comma-separated GSS codes, ``date`` = year,
``gender=0``, ``c_age`` = ``111...118`` or a single code, ``measures=20100``,
``select=...``) in Nomis's CSV shape: a quoted upper-case header of the
selected columns, then one row per area and age::

    "DATE_NAME","GEOGRAPHY_CODE","GEOGRAPHY_NAME","C_AGE","C_AGE_NAME","OBS_VALUE"
    "2020","E01027344","Corby 001A",111,"Age 10",37

Areas are the codes in ``areas`` (``{code: name}``); codes Nomis does not
hold are left out of the answer (the assumption the fetcher relies on to see
which areas have estimates). Values are :func:`estimate` (a deterministic
function of code, age and year, so tests can recompute every figure
independently). An unknown dataset or year gives the error text Nomis
returns for a bad query, with HTTP 400.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from replay_server import ReplayServer

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LSOA_2011 = SHARED_DATA / "boundaries" / "northamptonshire_lsoa_2011.geojson"
WARDS_2013 = SHARED_DATA / "boundaries" / "northamptonshire_wards_2013.geojson"


def estimate(code: str, age: int, year: int) -> int:
    """People of ``age`` in area ``code`` in mid-``year`` (a fixed pseudo-random 5..64)."""
    h = hashlib.sha256(f"{code}|{age}|{year}".encode()).hexdigest()
    return 5 + int(h[:6], 16) % 60


def shared_areas(path: Path, code: str, name: str) -> dict:
    """``{code: name}`` of the features of a shared boundaries file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {f["properties"][code]: f["properties"][name] for f in data["features"]}


class NomisServer(ReplayServer):
    """The fake Nomis (see the module docs)."""

    def __init__(self, areas: dict, *, dataset: str = "NM_2010_1", years=(2018, 2019, 2020)):
        super().__init__()
        self.areas = dict(areas)
        self.dataset = dataset
        self.years = {str(y) for y in years}
        self.fail_match = lambda path: path.endswith(".data.csv")

    @property
    def base_url(self) -> str:
        return f"{self.root}/api/v01/dataset/"

    @staticmethod
    def ages(c_age: str) -> list[int]:
        if "..." in c_age:
            lo, hi = c_age.split("...")
            return list(range(int(lo) - 101, int(hi) - 101 + 1))
        return [int(c) - 101 for c in c_age.split(",")]

    def answer(self, path: str, params: dict):
        csv_type = {"Content-Type": "text/csv"}
        if path != f"/api/v01/dataset/{self.dataset}.data.csv" or params.get("date") not in self.years:
            return 400, {"Content-Type": "text/plain"}, b"Cannot create query"
        cols = [c.strip().upper() for c in params.get("select", "").split(",") if c.strip()]
        lines = [",".join(f'"{c}"' for c in cols)]
        year = int(params["date"])
        for code in params.get("geography", "").split(","):
            if code not in self.areas:
                continue
            for age in self.ages(params.get("c_age", "200")):
                row = {"DATE_NAME": f'"{year}"', "GEOGRAPHY_CODE": f'"{code}"',
                       "GEOGRAPHY_NAME": f'"{self.areas[code]}"', "C_AGE": str(101 + age),
                       "C_AGE_NAME": f'"Age {age}"', "OBS_VALUE": str(estimate(code, age, year))}
                lines.append(",".join(row.get(c, '""') for c in cols))
        return 200, csv_type, ("\r\n".join(lines) + "\r\n").encode("utf-8")
