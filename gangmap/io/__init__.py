"""Reading inputs: area boundaries, reports, referrals, schools and population."""

from __future__ import annotations

from .boundaries import (  # noqa: F401
    WORK_CRS,
    MAP_CRS,
    WARD_COLUMNS,
    GSS_RE,
    WARD_GSS_RE,
    BoundaryWarning,
    read_wards,
    to_map_crs,
    districts,
)
from .intake import (  # noqa: F401
    POLICE_COLUMNS,
    GIAS_COLUMNS,
    Intake,
    find_column,
    read_table,
    read_reports,
    read_police_csv,
    read_schools,
    read_referrals,
    read_population,
    as_intake,
)
