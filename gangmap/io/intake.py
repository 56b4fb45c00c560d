"""The intake names as they were before the readers were split by concern.

The readers now live in :mod:`gangmap.io.readers` (reports, referrals,
population, schools), :mod:`gangmap.io.police` (data.police.uk files and
archives), :mod:`gangmap.io.tables` (CSV/XLSX text), :mod:`gangmap.io.columns`
(column roles), :mod:`gangmap.io.periods` (months) and
:mod:`gangmap.io.values` (numbers and keys). This module re-exports the public
names that code and notebooks imported as ``gangmap.intake.X`` or
``gangmap.io.intake.X``, so those imports keep working; new code imports from
:mod:`gangmap.io`.
"""

from __future__ import annotations

from .columns import find_column
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
from .tables import load_table, read_table

__all__ = ["GIAS_COLUMNS", "POLICE_COLUMNS", "Intake", "as_intake", "find_column", "load_table", "read_police",
           "read_police_csv", "read_population", "read_referrals", "read_reports", "read_schools", "read_table"]
