"""Reading inputs: area boundaries, reports, referrals, schools and population."""

from __future__ import annotations

from .boundaries import (  # noqa: F401
    GSS_RE,
    MAP_CRS,
    WARD_COLUMNS,
    WARD_GSS_RE,
    WORK_CRS,
    BoundaryWarning,
    districts,
    read_wards,
    to_map_crs,
)
from .intake import (  # noqa: F401
    GIAS_COLUMNS,
    POLICE_COLUMNS,
    Intake,
    as_intake,
    find_column,
    read_police_csv,
    read_population,
    read_referrals,
    read_reports,
    read_schools,
    read_table,
)
