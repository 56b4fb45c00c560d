"""Series frames: monthly counts per area, the input of the campaign evaluation.

A *series frame* is a DataFrame whose index is the area codes (in table
order), whose columns are the months ``"YYYY-MM"`` in ascending order and
whose values are counts (float). NaN means the source published no data that
month for that area: it is never read as 0. ``AreaCube.series(kind,
category=...)`` of the join makes them; :func:`series_from_reports` is the
convenience path from a reports file for the evaluation.

Why NaN and not 0: police.uk has months in which a force published nothing;
counting them as zero would make a fall in reports out of a gap in the data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..geography import Geography
from ..measures.series import MONTH_RE
from ..measures.series import check_series as check_measures_series
from ..table import AreaTable
from .common import article, months, read_area_table, some


def check_series(series: Any, *, what: str = "planning.evaluate") -> pd.DataFrame:
    """A series frame of months for the evaluation: text codes, every month from first to last (gaps as NaN).

    The checks are :func:`gangmap.measures.series.check_series` (the one
    check of series frames: duplicate codes, non-numeric or negative counts);
    on top, the evaluation takes months only (not quarters), in any column
    order, and a month missing from the columns is no data. Raises
    :class:`InputError`, starting with ``what``.
    """
    if isinstance(series, pd.DataFrame):
        cols = [str(c) for c in series.columns]
        bad = [c for c in cols if not MONTH_RE.match(c)]
        if bad:
            raise InputError(f"{what}: the series frame's columns must be months 'YYYY-MM'; found {some(bad)}.")
        series = series.set_axis(cols, axis=1).set_axis(pd.Index(series.index.astype(str)), axis=0)
        series = series.sort_index(axis=1)
    frame = check_measures_series(series, what=what)
    return frame.reindex(columns=months(frame.columns[0], frame.columns[-1]))


def _filter_category(it, category, notes: list) -> pd.Series:
    data = it.data
    if category is None:
        return pd.Series(True, index=data.index)
    if "category" not in data:
        raise InputError(f"{it.source}: cannot filter by category: the input has no category column. Remove the "
                         "filter or add the column.")
    wanted = [category] if isinstance(category, str) else list(category)
    have = data["category"].astype("string")
    present = set(have.dropna().str.casefold())
    missing = [w for w in wanted if str(w).casefold() not in present]
    if missing:
        avail = sorted(have.dropna().unique().tolist())
        raise InputError(f"{it.source}: category {missing} not found. Available: {some(avail, 30)}.")
    return have.str.casefold().isin({str(w).casefold() for w in wanted}).fillna(False)


def _placed(it, table: AreaTable, category, notes: list) -> pd.DataFrame:
    """The rows of ``it`` on the areas of ``table``, with a ``code`` column (filtered, placed rows only)."""
    from ..joining import locate_points

    geo = table.geography
    if geo.level == "ward" and it.key != geo.code:  # names, points, LSOAs and schools: the join's own rules
        from ..joining import place

        placed, _ = place(it, table.frame, category=category)
        data = placed[placed["status"] != "filtered"]
        code = data["ward_code"]
    else:
        data = it.data[_filter_category(it, category, notes).to_numpy()]
        if it.key == geo.code:
            code = data[geo.code].astype("string")
        elif it.key == "point":
            code = pd.Series(locate_points(data["x"], data["y"], table).to_numpy(), index=data.index)
        else:
            raise InputError(f"{it.source}: these reports are placed by {it.key}; on {article(geo.label)} table they "
                             f"need a {geo.code} column or coordinates.")
    code = code.where(code.isin(set(table.codes.astype(str))))
    lost = code.isna()
    if lost.any():
        notes.append(f"{int(lost.sum())} report row(s) are in no {geo.label} of the table and are left out")
    return data[~lost.to_numpy()].assign(code=code[~lost].astype(str).to_numpy())


def series_from_reports(reports: Any, *, areas: Any = None, category: Any = None,
                        notes: list | None = None) -> tuple[pd.DataFrame, Geography | None, str]:
    """Monthly report counts per area from a reports input: ``(series frame, geography, source)``.

    With ``areas`` (an area table or boundaries) the rows are placed on those
    areas (by code, name or coordinates) and every area gets a row; without,
    the reports must carry area codes and only areas with a report get a
    row. A month in which the input has no row at all is taken as *no data*
    (NaN for every area); a note says so. Rows placed on no area are left
    out, with a note.
    """
    from ..io import Intake, as_intake

    notes = notes if notes is not None else []
    it = reports if isinstance(reports, Intake) else as_intake(reports, "reports")
    if "period" not in it.data:
        raise InputError(f"{it.source}: the reports have no period/month column, so before and after the launch "
                         "cannot be told apart. Add a period column (YYYY-MM).")
    if areas is not None:
        table = read_area_table(areas, "evaluate")
        data, order, geo = _placed(it, table, category, notes), table.codes.astype(str).tolist(), table.geography
    else:
        if not it.key.endswith("_code") or it.key not in it.data:
            raise InputError(f"{it.source}: these reports are placed by {it.key}, so the areas are needed: pass "
                             "wards= (or areas=) with the area table or boundaries.")
        data = it.data[_filter_category(it, category, notes).to_numpy()].assign(code=lambda d: d[it.key].astype(str))
        order, geo = sorted(set(data["code"])), None
    data = data[data["period"].notna()]
    if data.empty:
        raise InputError(f"{it.source}: no reports with a period are left to compare.")
    periods = data["period"].astype(str)
    bad = sorted({p for p in periods if not MONTH_RE.match(p)})
    if bad:
        raise InputError(f"{it.source}: period(s) {some(bad)} are not months (YYYY-MM); fix the period column.")
    span = months(periods.min(), periods.max())
    grid = pd.to_numeric(data["count"]).astype(float).groupby([data["code"], periods]).sum().unstack(fill_value=0.0)
    frame = grid.reindex(index=order, columns=span).astype(float).fillna(0.0)
    empty = [m for m in span if m not in set(periods)]
    if empty:
        frame[empty] = np.nan
        notes.append(f"no report at all in {some(empty)}: taken as months with no data, not as zero")
    return frame, geo, it.source
