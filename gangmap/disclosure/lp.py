"""Ranges of unknowns in a system of linear constraints: what a reader of many tables can work out.

A pack publishes the same areas in many tables (all categories, one
category, each period), each with totals. Everything a reader sees is a
domain for an unknown count (a shown 10 under ``nhs`` is 8–12; a hidden cell
is at least 1) and a linear constraint between unknowns (a total is the sum
of its areas; the all-categories count of an area is the sum of the
per-category counts). The tightest range a reader can get for one unknown is
the minimum and the maximum of that unknown over all whole-number solutions.

:class:`System` collects the unknowns and constraints and solves for those
ranges with linear programming (scipy's HiGHS), one connected component at
a time. The linear relaxation can only widen a range, so its bounds (rounded
inwards to whole numbers) are an *outer* bound: exact whenever the
constraint matrix is totally unimodular (a tree of sums; two-way tables with
their margins), and checked with integer programming (``integer=True``,
scipy ``milp``) where a range is close to the limit.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..errors import DisclosureError

__all__ = ["System", "INF"]


def _tighten(coefs: Mapping[int, float], kind: str, rhs: float, lo: list[float], hi: list[float]) -> bool:
    """Tighten the bounds of the unknowns of one row ``sum(a x) == rhs`` (or ``>= rhs``); True if any moved."""
    items = list(coefs.items())
    # The row's activity range from each term's bounds.
    mins = [a * lo[v] if a > 0 else a * hi[v] for v, a in items]
    maxs = [a * hi[v] if a > 0 else a * lo[v] for v, a in items]
    n_inf_min = sum(1 for m in mins if m == -INF)
    n_inf_max = sum(1 for m in maxs if m == INF)
    s_min = sum(m for m in mins if m != -INF)
    s_max = sum(m for m in maxs if m != INF)
    changed = False
    for (v, a), mn, mx in zip(items, mins, maxs):
        # a x_v >= rhs - (max of the others); with ==, also a x_v <= rhs - (min of the others).
        others_max = INF if n_inf_max - (mx == INF) > 0 else s_max - (0.0 if mx == INF else mx)
        others_min = -INF if n_inf_min - (mn == -INF) > 0 else s_min - (0.0 if mn == -INF else mn)
        low_ax = rhs - others_max
        high_ax = rhs - others_min if kind == "eq" else INF
        new_lo, new_hi = (low_ax / a, high_ax / a) if a > 0 else (high_ax / a, low_ax / a)
        new_lo = math.ceil(new_lo - 1e-9) if new_lo != -INF else new_lo
        new_hi = math.floor(new_hi + 1e-9) if new_hi != INF else new_hi
        if new_lo > lo[v] + 1e-9:
            lo[v], changed = float(new_lo), True
        if new_hi < hi[v] - 1e-9:
            hi[v], changed = float(new_hi), True
    return changed

INF = math.inf


@dataclass
class System:
    """Unknowns with whole-number domains ``[lo, hi]`` and linear constraints between them."""

    lo: list[float] = field(default_factory=list)
    hi: list[float] = field(default_factory=list)
    keys: list[Hashable] = field(default_factory=list)
    index: dict[Hashable, int] = field(default_factory=dict)
    rows: list[tuple[dict[int, float], str, float]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lo)

    def add(self, key: Hashable, lo: float = 0.0, hi: float = INF) -> int:
        """A new unknown (or the existing one for ``key``, its domain narrowed to ``[lo, hi]``)."""
        if key in self.index:
            i = self.index[key]
            self.lo[i], self.hi[i] = max(self.lo[i], lo), min(self.hi[i], hi)
            return i
        self.index[key] = len(self.lo)
        self.keys.append(key)
        self.lo.append(float(lo))
        self.hi.append(float(hi))
        return len(self.lo) - 1

    def equal(self, coefs: Mapping[int, float], rhs: float = 0.0) -> None:
        """``sum(coef * x) == rhs``."""
        self.rows.append((dict(coefs), "eq", float(rhs)))

    def at_least(self, coefs: Mapping[int, float], rhs: float = 0.0) -> None:
        """``sum(coef * x) >= rhs``."""
        self.rows.append((dict(coefs), "ge", float(rhs)))

    def sum_of(self, total: int, parts: Iterable[int], *, complete: bool = True) -> None:
        """``total == sum(parts)``, or ``total >= sum(parts)`` when the parts need not cover it."""
        coefs: dict[int, float] = {total: 1.0}
        for p in parts:
            coefs[p] = coefs.get(p, 0.0) - 1.0
        if complete:
            self.equal(coefs)
        else:
            self.at_least(coefs)

    # ------------------------------------------------------------------ solving
    def components(self) -> list[int]:
        """A component number per unknown (unknowns linked by constraints share one)."""
        parent = list(range(len(self.lo)))

        def find(a: int) -> int:
            while parent[a] != a:
                parent[a] = parent[parent[a]]
                a = parent[a]
            return a

        for coefs, _, _ in self.rows:
            vs = list(coefs)
            for v in vs[1:]:
                ra, rb = find(vs[0]), find(v)
                if ra != rb:
                    parent[ra] = rb
        return [find(i) for i in range(len(self.lo))]

    def _matrices(self, members: list[int]):
        from scipy.sparse import csr_matrix

        pos = {v: i for i, v in enumerate(members)}
        eq, ge = [], []
        for coefs, kind, rhs in self.rows:
            if next(iter(coefs)) in pos:
                (eq if kind == "eq" else ge).append((coefs, rhs))

        def mat(rows, sign):
            if not rows:
                return None, None
            data, ri, ci = [], [], []
            for r, (coefs, _) in enumerate(rows):
                for v, a in coefs.items():
                    data.append(sign * a)
                    ri.append(r)
                    ci.append(pos[v])
            m = csr_matrix((data, (ri, ci)), shape=(len(rows), len(members)))
            return m, np.array([sign * rhs for _, rhs in rows])

        a_eq, b_eq = mat(eq, 1.0)
        a_ub, b_ub = mat(ge, -1.0)
        bounds = [(self.lo[v], None if self.hi[v] == INF else self.hi[v]) for v in members]
        return pos, a_eq, b_eq, a_ub, b_ub, bounds

    def ranges(self, which: Iterable[int], *, integer: bool = False, stop: Mapping[int, float] | None = None
               ) -> dict[int, tuple[float, float]]:
        """The tightest whole-number range ``(low, high)`` of each unknown in ``which``.

        ``stop``: for an unknown listed there, stop as soon as the range is known
        to hold at least that many values (``high`` may then be a lower bound of
        the true maximum); saves one solve per unknown that is well protected.
        """
        which = list(dict.fromkeys(which))
        comp = self.components()
        groups: dict[int, list[int]] = {}
        for v in range(len(self.lo)):
            groups.setdefault(comp[v], []).append(v)
        out: dict[int, tuple[float, float]] = {}
        by_comp: dict[int, list[int]] = {}
        for v in which:
            by_comp.setdefault(comp[v], []).append(v)
        for c, targets in by_comp.items():
            members = groups[c]
            prepared = self._matrices(members)
            for v in targets:
                out[v] = self._range(prepared, v, integer, (stop or {}).get(v))
        return out

    def _solve(self, prepared, v: int, sense: float, integer: bool) -> float | None:
        """min (sense=1) or -max (sense=-1) of unknown ``v``; None when unbounded."""
        cost = np.zeros(len(prepared[5]))
        cost[prepared[0][v]] = sense
        if integer:
            return self._solve_integer(prepared, cost)
        return self._solve_cost(prepared, cost)

    def _solve_cost(self, prepared, cost: np.ndarray) -> float | None:
        from scipy.optimize import linprog

        pos, a_eq, b_eq, a_ub, b_ub, bounds = prepared
        res = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if res.status == 2:
            raise DisclosureError("the published figures are inconsistent: no counts fit them all (check that "
                                  "the tables linked really cover the same areas, filters and periods).")
        if res.status == 3:
            return None
        if res.status != 0:  # pragma: no cover - numerical trouble
            raise DisclosureError(f"the range check could not be solved ({res.message}).")
        return float(res.fun)

    def _solve_integer(self, prepared, cost) -> float | None:
        """The same as :meth:`_solve_cost` over whole numbers (scipy ``milp``); None when unbounded."""
        from scipy.optimize import Bounds, LinearConstraint, milp

        pos, a_eq, b_eq, a_ub, b_ub, bounds = prepared
        cons = []
        if a_eq is not None:
            cons.append(LinearConstraint(a_eq, b_eq, b_eq))
        if a_ub is not None:
            cons.append(LinearConstraint(a_ub, -np.inf, b_ub))
        lb = np.array([b[0] for b in bounds], dtype=float)
        ub = np.array([np.inf if b[1] is None else b[1] for b in bounds], dtype=float)
        res = milp(cost, constraints=cons, integrality=np.ones(len(bounds)), bounds=Bounds(lb, ub))
        if res.status == 3 or "unbounded" in str(res.message).lower():
            return None
        if res.status == 2:
            raise DisclosureError("the published figures are inconsistent: no whole counts fit them all.")
        if res.x is None:  # pragma: no cover - time or iteration limit
            raise DisclosureError(f"the range check could not be solved ({res.message}).")
        return float(res.fun)

    def maximum(self, coefs: Mapping[int, float], *, integer: bool = False) -> float:
        """The largest value of ``sum(coef * x)`` over all solutions (inf when unbounded)."""
        comp = self.components()
        c = comp[next(iter(coefs))]
        members = [v for v in range(len(self.lo)) if comp[v] == c]
        if any(comp[v] != c for v in coefs):
            raise ValueError("maximum() needs unknowns of one component")
        prepared = self._matrices(members)
        pos = prepared[0]
        cost = np.zeros(len(members))
        for v, a in coefs.items():
            cost[pos[v]] -= a
        if integer:
            out = self._solve_integer(prepared, cost)
        else:
            out = self._solve_cost(prepared, cost)
        return INF if out is None else -out

    # ------------------------------------------------------------------ witnesses
    def _point(self, prepared, cost: np.ndarray, cap: float) -> np.ndarray | None:
        """One feasible point (LP vertex) minimising ``cost``, unbounded unknowns capped at ``cap``."""
        from scipy.optimize import linprog

        pos, a_eq, b_eq, a_ub, b_ub, bounds = prepared
        capped = [(a, cap if b is None else b) for a, b in bounds]
        res = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=capped, method="highs")
        return res.x if res.status == 0 else None

    def wide_enough(self, need: Mapping[int, float], *, truth: Mapping[int, float] | None = None,
                    tries: int = 4, seed: int = 0) -> set[int]:
        """The unknowns in ``need`` proven to keep at least ``need[v]`` possible values, cheaply.

        Every feasible point is a set of counts a reader cannot rule out, so
        the spread of an unknown over a few feasible points is a lower bound
        of its range. The points: the truth (when given and consistent) and
        the solutions of a few linear programmes with spread-out objectives
        (all targets low, all high, random mixtures). An unknown not proven
        here needs its own solves (:meth:`ranges`); nothing is ever proven
        wider than it is.
        """
        pts = self.points(list(need), truth=truth, tries=tries, seed=seed)
        return {v for v, (a, b) in pts.items() if b - a + 1 >= need[v]}

    def _feasible(self, prepared, members: list[int], truth: Mapping[int, float]) -> bool:
        if any(v not in truth or not np.isfinite(truth[v]) for v in members):
            return False
        pos, a_eq, b_eq, a_ub, b_ub, bounds = prepared
        x = np.array([truth[v] for v in members], dtype=float)
        if any(xi < a - 1e-9 or (b is not None and xi > b + 1e-9) for xi, (a, b) in zip(x, bounds)):
            return False
        if a_eq is not None and np.abs(a_eq @ x - b_eq).max() > 1e-6:
            return False
        return a_ub is None or bool((a_ub @ x <= b_ub + 1e-6).all())

    # ------------------------------------------------------------------ outer bounds
    def propagate(self, passes: int = 30) -> tuple[list[float], list[float]]:
        """Outer bounds of every unknown by bound propagation over the constraints (cheap, never too narrow)."""
        lo, hi = list(self.lo), list(self.hi)
        for _ in range(passes):
            changed = False
            for coefs, kind, rhs in self.rows:
                changed |= _tighten(coefs, kind, rhs, lo, hi)
            if not changed:
                break
        return lo, hi

    def checked_ranges(self, which: Iterable[int], need: Mapping[int, int], *,
                       truth: Mapping[int, float] | None = None, integer: bool = False
                       ) -> dict[int, tuple[float, float]]:
        """:meth:`exact_ranges`, solved again with integer programming wherever the answer is close to ``need``.

        The linear bound is exact when the constraints are totally
        unimodular (sums of areas, categories and periods under one rule);
        rounding bands of different rules in one system can break that, and
        then a whole-number reader may get a narrower range than the linear
        one. An unknown whose linear range holds fewer than twice the values
        it needs (``need[v]``) is solved over whole numbers, so a range near
        the limit is never judged wider than an attacker can get.
        """
        out = self.exact_ranges(which, truth=truth, integer=integer)
        close = [v for v, (lo, hi) in out.items() if not integer and hi - lo + 1 < 2 * need.get(v, 1)]
        if close:
            out.update(self.ranges(close, integer=True))
        return out

    def exact_ranges(self, which: Iterable[int], *, truth: Mapping[int, float] | None = None,
                     integer: bool = False) -> dict[int, tuple[float, float]]:
        """The same ranges as :meth:`ranges`, with far fewer solves.

        Outer bounds come from propagation, inner bounds from a few feasible
        points (:meth:`points`); where they meet the range is known, and
        only the remaining sides are solved one by one.
        """
        which = list(dict.fromkeys(which))
        o_lo, o_hi = self.propagate()
        pts = self.points(which, truth=truth)
        out: dict[int, tuple[float, float]] = {}
        todo_lo, todo_hi = [], []
        for v in which:
            i_lo, i_hi = pts.get(v, (INF, -INF))
            low = o_lo[v] if i_lo <= o_lo[v] + 1e-6 else None
            high = o_hi[v] if o_hi[v] != INF and i_hi >= o_hi[v] - 1e-6 else None
            out[v] = (low, high)
            if low is None:
                todo_lo.append(v)
            if high is None:
                todo_hi.append(v)
        if integer:
            todo_lo, todo_hi = which, which
        solved = self._sides(todo_lo, todo_hi, integer)
        return {v: (solved.get((v, -1), out[v][0]), solved.get((v, 1), out[v][1])) for v in which}

    def _sides(self, todo_lo: list[int], todo_hi: list[int], integer: bool) -> dict[tuple[int, int], float]:
        comp = self.components()
        groups: dict[int, list[int]] = {}
        for v in set(todo_lo) | set(todo_hi):
            groups.setdefault(comp[v], []).append(v)
        out: dict[tuple[int, int], float] = {}
        lo_set, hi_set = set(todo_lo), set(todo_hi)
        for c, targets in groups.items():
            prepared = self._matrices([v for v in range(len(self.lo)) if comp[v] == c])
            for v in targets:
                if v in hi_set:
                    neg = self._solve(prepared, v, -1.0, integer)
                    out[(v, 1)] = INF if neg is None else float(math.floor(-neg + 1e-6))
                if v in lo_set:
                    low = self._solve(prepared, v, 1.0, integer)
                    out[(v, -1)] = -INF if low is None else float(math.ceil(low - 1e-6))
        return out

    def points(self, which: Iterable[int], *, truth: Mapping[int, float] | None = None, tries: int = 4,
               seed: int = 0) -> dict[int, tuple[float, float]]:
        """Inner bounds ``(min, max)`` of each unknown over a few feasible points (see :meth:`wide_enough`)."""
        rng = np.random.default_rng(seed)
        comp = self.components()
        out: dict[int, tuple[float, float]] = {}
        by_comp: dict[int, list[int]] = {}
        for v in which:
            by_comp.setdefault(comp[v], []).append(v)
        for c, targets in by_comp.items():
            members = [v for v in range(len(self.lo)) if comp[v] == c]
            prepared = self._matrices(members)
            pos = prepared[0]
            finite = [h for h in (self.hi[v] for v in members) if h != INF]
            cap = 4.0 * (max(finite) if finite else 1.0) + 1000.0
            points = []
            if truth is not None and self._feasible(prepared, members, truth):
                points.append(np.array([truth[v] for v in members], dtype=float))
            idx = np.array([pos[v] for v in targets])
            for k in range(tries):
                cost = np.zeros(len(members))
                cost[idx] = 1.0 if k == 0 else -1.0 if k == 1 else rng.choice([-1.0, 1.0], size=len(idx))
                x = self._point(prepared, cost, cap)
                if x is not None:
                    points.append(x)
            if points:
                pts = np.vstack(points)[:, idx]
                lo_p = np.ceil(pts.min(axis=0) - 1e-6)
                hi_p = np.floor(pts.max(axis=0) + 1e-6)
                out.update({v: (float(a), float(b)) for v, a, b in zip(targets, lo_p, hi_p)})
        return out

    def _range(self, prepared, v: int, integer: bool, stop: float | None) -> tuple[float, float]:
        neg_high = self._solve(prepared, v, -1.0, integer)
        high = INF if neg_high is None else float(math.floor(-neg_high + 1e-6))
        if stop is not None and high == INF:
            return self.lo[v], INF  # wide enough whatever the minimum: skip that solve
        low = self._solve(prepared, v, 1.0, integer)
        low = float(math.ceil(low - 1e-6)) if low is not None else -INF
        return low, high
