"""The tree of sums behind one count column, and exact interval reasoning over it.

The areas, their parent totals (districts by default) and the county total
of one count column form a tree: every total is the sum of its children. A
reader who sees some nodes (exactly, or as a rounding band) and knows that
hidden ones are at least 1 can bound every hidden node. For a tree of sums of
integers with interval domains one pass up and one pass down give the *exact*
feasible range of every node (:func:`intervals`); a linear programme over the
same constraints (:func:`lp_intervals`) is the independent cross-check the
tests and :func:`gangmap.disclosure.audit` use (the constraint matrix of a
hierarchy is totally unimodular, so both agree on whole numbers).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DisclosureError
from ..geography import WARD, Geography

__all__ = ["Tree", "intervals", "lp_intervals", "width", "INF", "level_name", "name_column"]

INF = math.inf


def level_name(column: str, geography: Geography = WARD) -> str:
    """The word for the groups of a hierarchy column: ``lad_code`` → ``district``."""
    if column == geography.parent_code:
        return geography.parent_label
    if column == "lad_code":
        return "district"
    return column[:-5] if column.endswith("_code") else column


def name_column(column: str, frame: pd.DataFrame, geography: Geography = WARD) -> str | None:
    """The name column that goes with a hierarchy code column, if the frame has one."""
    if column == geography.parent_code and geography.parent_name in frame:
        return geography.parent_name
    if column.endswith("_code") and column[:-5] + "_name" in frame:
        return column[:-5] + "_name"
    return None


class Tree:
    """The county (node 0), the groups of each hierarchy level, then one node per area.

    Nodes are numbered top-down, so every parent comes before its children.
    ``level``, ``code`` and ``name`` describe each node for reports.
    """

    def __init__(self, frame: pd.DataFrame, hierarchy: Sequence[str], geography: Geography = WARD):
        self.hierarchy = tuple(hierarchy)
        self.geography = geography
        self.parent: list[int] = [-1]
        self.level: list[str] = ["county"]
        self.code: list[Any] = [""]
        self.name: list[Any] = ["All areas"]
        up = np.zeros(len(frame), dtype=int)  # node of each row at the previous level
        for h in self.hierarchy:
            up = self._add_level(frame, h, up)
        self.first_ward = len(self.parent)
        codes = frame[geography.code].tolist() if geography.code in frame else list(frame.index)
        names = frame[geography.name].tolist() if geography.name in frame else [""] * len(frame)
        for r in range(len(frame)):
            self._node(int(up[r]), geography.level, codes[r], names[r])
        self.n = len(self.parent)
        self.children: list[list[int]] = [[] for _ in range(self.n)]
        for v in range(1, self.n):
            self.children[self.parent[v]].append(v)
        self.internal = [v for v in range(self.n) if self.children[v]]

    def _node(self, parent: int, level: str, code: Any, name: Any) -> int:
        self.parent.append(parent)
        self.level.append(level)
        self.code.append(code)
        self.name.append(name)
        return len(self.parent) - 1

    def _add_level(self, frame: pd.DataFrame, h: str, up: np.ndarray) -> np.ndarray:
        nc = name_column(h, frame, self.geography)
        codes = frame[h].tolist()
        names = frame[nc].tolist() if nc else [""] * len(frame)
        index: dict[Any, int] = {}
        here = np.zeros(len(frame), dtype=int)
        for r, key in enumerate(codes):
            node = index.get(key)
            if node is None:
                node = index[key] = self._node(int(up[r]), level_name(h, self.geography), key, names[r])
            elif self.parent[node] != up[r]:
                raise DisclosureError(
                    f"{h} {key!r} sits in more than one group of the level above; the hierarchy "
                    f"{self.hierarchy} must nest, coarsest first.")
            here[r] = node
        return here

    def raw(self, ward_values: np.ndarray) -> np.ndarray:
        """Node values from area values (NaN = no data); a group with no data at all is NaN."""
        vals = np.full(self.n, np.nan)
        vals[self.first_ward:] = ward_values
        for v in range(self.first_ward - 1, -1, -1):
            ch = vals[self.children[v]]
            ch = ch[~np.isnan(ch)]
            vals[v] = ch.sum() if len(ch) else np.nan
        return vals


def _upward(tree: Tree, lo, hi):
    n = tree.n
    u_lo, u_hi = [0.0] * n, [0.0] * n
    b_lo, b_hi = [-INF] * n, [INF] * n
    for v in range(n - 1, -1, -1):
        ch = tree.children[v]
        if ch:
            b_lo[v] = sum(u_lo[c] for c in ch)
            b_hi[v] = sum(u_hi[c] for c in ch)
            u_lo[v] = max(lo[v], b_lo[v])
            u_hi[v] = min(hi[v], b_hi[v])
        else:
            u_lo[v], u_hi[v] = lo[v], hi[v]
    return u_lo, u_hi, b_lo, b_hi


def intervals(tree: Tree, lo: list[float], hi: list[float]):
    """Exact range of each node given node domains ``[lo, hi]`` and the sums.

    For a tree of sums of integers with interval domains, one pass up and one
    pass down give the exact feasible range of every node (the constraint
    network is acyclic and a sum of integer intervals is an integer interval).

    Returns ``(F_lo, F_hi, B_lo, B_hi, O_lo, O_hi)``: feasible range, the range
    implied by the node's children (±inf for areas) and the range implied by
    everything outside its subtree.
    """
    n = tree.n
    u_lo, u_hi, b_lo, b_hi = _upward(tree, lo, hi)
    o_lo, o_hi = [-INF] * n, [INF] * n
    for p in tree.internal:  # top-down: parents are numbered first
        a_lo, a_hi = max(o_lo[p], lo[p]), min(o_hi[p], hi[p])
        ch = tree.children[p]
        n_inf = sum(1 for c in ch if u_hi[c] == INF)
        fin_hi = sum(u_hi[c] for c in ch if u_hi[c] != INF)
        for c in ch:
            if u_hi[c] == INF:
                sib_hi = INF if n_inf > 1 else fin_hi
            else:
                sib_hi = INF if n_inf else fin_hi - u_hi[c]
            o_lo[c] = a_lo - sib_hi
            o_hi[c] = a_hi - (b_lo[p] - u_lo[c])
    f_lo = [max(lo[v], b_lo[v], o_lo[v]) for v in range(n)]
    f_hi = [min(hi[v], b_hi[v], o_hi[v]) for v in range(n)]
    return f_lo, f_hi, b_lo, b_hi, o_lo, o_hi


def width(a: float, b: float) -> float:
    """``b - a`` capped, so that unbounded ranges compare."""
    return min(b - a, 1e9)


def lp_intervals(tree: Tree, lo, hi, which) -> dict[int, tuple[float, float]]:
    """The range of each node in ``which`` by linear programming (scipy HiGHS): the cross-check."""
    from scipy.optimize import linprog

    n = tree.n
    rows = []
    for p in tree.internal:
        r = np.zeros(n)
        r[p] = 1.0
        r[tree.children[p]] = -1.0
        rows.append(r)
    a_eq = np.array(rows) if rows else None
    b_eq = np.zeros(len(rows)) if rows else None
    bounds = [(lo[v], None if hi[v] == INF else hi[v]) for v in range(n)]
    out = {}
    for v in which:
        cost = np.zeros(n)
        cost[v] = 1.0
        res_min = linprog(cost, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        res_max = linprog(-cost, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if res_min.status == 2:
            raise DisclosureError("the shown figures are inconsistent (no raw values fit them).")
        low = float(round(res_min.fun))
        high = INF if res_max.status == 3 else float(round(-res_max.fun))
        out[v] = (low, high)
    return out
