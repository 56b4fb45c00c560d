"""Audit one SafeTable: the range of raw values a reader can narrow every hidden cell to.

This is the per-table check. A pack publishes many tables of the same areas;
the check across all of them is :mod:`gangmap.disclosure.linked`, and the
check that reads back the published files is
:func:`gangmap.disclosure.audit_pack`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ConfigError, DisclosureError
from ..table import AreaTable
from .roles import count_values
from .safetable import SafeTable, require_safe
from .tree import INF, Tree, intervals, lp_intervals

__all__ = ["audit"]


def _domains(safe: SafeTable, tree: Tree, column: str, raw_nodes: np.ndarray | None, insider: bool):
    """Each node's domain for the reader: shown bands (exact areas with ``raw``), hidden ≥ floor."""
    pol = safe.policy
    n, w0 = tree.n, tree.first_ward
    vals, flags = np.full(n, np.nan), np.zeros(n, dtype=bool)
    vals[w0:] = safe.frame[column].to_numpy(dtype=float, na_value=np.nan)
    flags[w0:] = safe.suppressed[column].to_numpy()
    index = {(lv, cd): i for i, (lv, cd) in enumerate(zip(safe.totals["level"], safe.totals["code"]))}
    unpublished = set()
    for v in range(w0):
        row = index.get((tree.level[v], tree.code[v]))
        if row is None:  # a total the table does not carry (a ranked subset): no domain of its own
            unpublished.add(v)
            continue
        vals[v] = safe.totals[column].iloc[row]
        flags[v] = bool(safe.totals[f"{column}_suppressed"].iloc[row])
    p_lo, p_hi = pol.primary_range
    lo, hi = [0.0] * n, [0.0] * n
    for v in range(n):
        if v in unpublished:
            lo[v], hi[v] = 0.0, INF
        elif flags[v]:
            small = raw_nodes is not None and insider and pol.is_primary(int(raw_nodes[v]))
            lo[v], hi[v] = (float(p_lo), float(p_hi)) if small else (float(pol.floor), INF)
        elif np.isnan(vals[v]):
            lo[v] = hi[v] = 0.0  # no data: not part of any sum
        elif raw_nodes is not None and v >= w0:
            lo[v] = hi[v] = float(raw_nodes[v])  # the exact count behind a shown area
        else:
            a, b = pol.band(vals[v])
            lo[v], hi[v] = float(a), float(b)
    return lo, hi, flags


def _unavoidable(safe: SafeTable, tree: Tree, raw_nodes: np.ndarray, lo, hi, which) -> dict[int, bool]:
    """Whether an insider could narrow each cell even if every non-zero cell were hidden."""
    pol = safe.policy
    lo2, hi2 = list(lo), list(hi)
    p_lo, p_hi = pol.primary_range
    for v in range(tree.n):
        x = raw_nodes[v]
        if np.isnan(x) or (x == 0 and not pol.is_primary(0)):
            continue
        lo2[v], hi2[v] = (float(p_lo), float(p_hi)) if pol.is_primary(int(x)) else (float(pol.floor), INF)
    u_lo, u_hi, *_ = intervals(tree, lo2, hi2)
    return {v: u_lo[v] >= u_hi[v] for v in which}


def _raw_nodes(safe: SafeTable, tree: Tree, raw, column: str) -> np.ndarray:
    frame = raw.frame if isinstance(raw, AreaTable) else raw
    if column not in frame.columns:
        raise DisclosureError(f"raw table has no column {column!r}; pass the table the SafeTable was made from.")
    if len(frame) != len(safe.frame):
        raise DisclosureError("raw table has a different number of rows from the SafeTable; "
                              "pass the table it was made from.")
    return tree.raw(count_values(frame, column, safe.geography))


def _column_records(safe, tree, column, raw, insider, method) -> list[dict]:
    raw_nodes = None if raw is None else _raw_nodes(safe, tree, raw, column)
    lo, hi, flags = _domains(safe, tree, column, raw_nodes, insider)
    which = [v for v in range(tree.n) if flags[v]]
    if not which:
        return []
    if method == "lp":
        res = lp_intervals(tree, lo, hi, which)
        f_lo, f_hi = {v: res[v][0] for v in which}, {v: res[v][1] for v in which}
    else:
        a, b, *_ = intervals(tree, lo, hi)
        f_lo, f_hi = {v: a[v] for v in which}, {v: b[v] for v in which}
    unavoid = None if raw_nodes is None else _unavoidable(safe, tree, raw_nodes, lo, hi, which)
    out = []
    for v in which:
        low, high = float(f_lo[v]), float(f_hi[v])
        rec = {"column": column, "level": tree.level[v], "code": tree.code[v], "name": tree.name[v],
               "low": low, "high": high, "values": high - low + 1, "recoverable": bool(low >= high)}
        if unavoid is not None:
            rec["primary"] = bool(safe.policy.is_primary(int(raw_nodes[v])))
            rec["unavoidable"] = bool(unavoid[v])
        out.append(rec)
    return out


def audit(safe: SafeTable, *, raw: AreaTable | pd.DataFrame | None = None, insider: bool = True,
          method: str = "exact") -> pd.DataFrame:
    """For every suppressed cell, the range of raw values consistent with what is shown.

    A reader sees the shown area values (under ``nhs`` each stands for a band
    of raw values: 10 means 8–12), the shown parent and county totals
    (banded too), and knows a suppressed cell is at least 1 (0 with
    ``suppress_zero``). From these the reader can bound every suppressed cell;
    a cell whose range is a single value can be worked out ("recoverable").

    Parameters
    ----------
    safe : SafeTable
    raw : AreaTable or DataFrame, optional
        The table the SafeTable was made from. When given, the reader is
        assumed to know the exact count behind every shown area and, with
        ``insider=True``, which hidden cells are the small ones (1–7 or
        1..k-1). Adds the columns ``primary`` (hidden because small, not to
        protect another cell) and ``unavoidable`` (the insider could work it
        out even if every non-zero cell were hidden).
    insider : bool
        With ``raw``: whether the reader knows which hidden cells are small.
    method : {"exact", "lp"}
        ``"exact"``: interval reasoning over the tree of sums (exact, fast).
        ``"lp"``: a linear programme per cell with scipy (a cross-check; the
        constraint matrix of a hierarchy is totally unimodular, so its bounds
        are whole numbers and agree with ``"exact"``).

    Notes
    -----
    :func:`make_safe` guarantees: without ``raw`` (a reader of what is
    shown) every hidden cell keeps at least ``policy.min_range`` possible
    values (``values``); with ``raw`` and ``insider=False`` no hidden cell is
    recoverable; with ``raw`` and ``insider=True`` no primary cell is
    recoverable unless it is ``unavoidable``.

    Returns
    -------
    DataFrame
        One row per suppressed cell: ``column``, ``level`` (ward, district,
        county), ``code``, ``name``, ``low``, ``high`` (inf if unbounded),
        ``values`` (how many raw values remain possible), ``recoverable``
        (and ``primary``, ``unavoidable`` when ``raw`` is given).

    Examples
    --------
    >>> from gangmap.disclosure import make_safe
    >>> t = pd.DataFrame({"ward_code": ["W1", "W2", "W3"], "lad_code": ["D1"] * 3,
    ...                   "reports": [3, 12, 30]})
    >>> a = audit(make_safe(t, ["reports"], policy="threshold"))
    >>> a[["code", "low", "high", "recoverable"]]
      code  low  high  recoverable
    0   W1  1.0  14.0        False
    1   W2  1.0  14.0        False
    """
    require_safe(safe, "an audit")
    if method not in ("exact", "lp"):
        raise ConfigError(f"method must be 'exact' or 'lp', got {method!r}.")
    tree = Tree(safe.frame, safe.hierarchy, safe.geography)
    records = []
    for column in safe.counts:
        records += _column_records(safe, tree, column, raw, insider, method)
    cols = ["column", "level", "code", "name", "low", "high", "values", "recoverable"]
    if raw is not None:
        cols += ["primary", "unavoidable"]
    return pd.DataFrame.from_records(records, columns=cols)
