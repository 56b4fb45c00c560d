"""Reading inputs: area boundaries of any geography, and reports, referrals, population, schools, police.uk.

Why a subpackage? Reading is where analysts' real files meet gangmap: Excel
exports, old encodings, hand-made lists, archives of police data. Each concern
has its module, and this module re-exports the public names:

* :mod:`~gangmap.io.boundaries` and :mod:`~gangmap.io.shapes`: boundaries
  into an :class:`~gangmap.table.AreaTable` (columns of any ONS vintage, code
  checks per geography, CRS, polygons only, repairs, overlaps);
* :mod:`~gangmap.io.text` and :mod:`~gangmap.io.tables`: bytes to text (per-line
  encoding fallback, NFC) and CSV/XLSX to a frame (title rows, empty columns,
  stray quotes, sheets);
* :mod:`~gangmap.io.columns`, :mod:`~gangmap.io.values` and
  :mod:`~gangmap.io.periods`: which column is what, numbers and keys, months;
* :mod:`~gangmap.io.readers` and :mod:`~gangmap.io.police`: the readers, each
  returning an :class:`Intake` whose kept and rejected rows add up to the rows
  read; :mod:`~gangmap.io.sources`: several files as one input;
* :mod:`~gangmap.io.options`: each reader keyword and its command-line flag,
  so messages name both.

The names are loaded lazily (as in :mod:`gangmap`): reading the command
line's options (:mod:`~gangmap.io.options`) or a period must not pay for
geopandas, which only the boundary and record readers need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> the module of this package that defines it
_LAZY: dict[str, str] = {
    **dict.fromkeys(["FORMATS", "GSS_RE", "MAP_CRS", "WARD_COLUMNS", "WARD_GSS_RE", "WORK_CRS", "districts",
                     "read_areas", "read_wards", "to_map_crs"], "boundaries"),
    "find_column": "columns",
    "OPTIONS": "options", "pass_hint": "options",
    "parse_period": "periods",
    "POLICE_COLUMNS": "police", "read_police": "police", "read_police_csv": "police",
    **dict.fromkeys(["GIAS_COLUMNS", "Intake", "as_intake", "read_population", "read_referrals", "read_reports",
                     "read_schools"], "readers"),
    "BoundaryWarning": "shapes",
    "read_inputs": "sources", "reports_input": "sources",
    "Table": "tables", "load_table": "tables", "read_table": "tables",
}

__all__ = [
    "read_areas", "read_wards", "districts", "to_map_crs", "BoundaryWarning", "FORMATS",
    "Intake", "read_reports", "read_referrals", "read_population", "read_schools", "read_police",
    "read_police_csv", "reports_input", "read_inputs", "as_intake", "OPTIONS", "pass_hint", "Table", "load_table",
    "read_table", "find_column", "parse_period",
    "POLICE_COLUMNS", "GIAS_COLUMNS", "WARD_COLUMNS", "GSS_RE", "WARD_GSS_RE", "WORK_CRS", "MAP_CRS",
]


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'gangmap.io' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, eagerly
    from .boundaries import (
        FORMATS,
        GSS_RE,
        MAP_CRS,
        WARD_COLUMNS,
        WARD_GSS_RE,
        WORK_CRS,
        districts,
        read_areas,
        read_wards,
        to_map_crs,
    )
    from .columns import find_column
    from .options import OPTIONS, pass_hint
    from .periods import parse_period
    from .police import POLICE_COLUMNS, read_police, read_police_csv
    from .readers import (
        GIAS_COLUMNS,
        Intake,
        as_intake,
        read_population,
        read_referrals,
        read_reports,
        read_schools,
    )
    from .shapes import BoundaryWarning
    from .sources import read_inputs, reports_input
    from .tables import Table, load_table, read_table
