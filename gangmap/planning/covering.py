"""The capacitated maximal covering location problem behind :func:`gangmap.planning.plan_hubs`.

Why a model of its own: the first release solved the uncapacitated MCLP
(spopt) and applied hub capacity afterwards, so its headline counted need
"covered" that no hub had room to serve (an independent check found 648
covered where 355 was served, against a capacitated optimum of 538). Here
capacity is inside the model and the objective is the need actually served.

Model
-----
Schools ``i`` with need ``w_i``; candidate sites ``j`` (schools too);
``a_ij = 1`` when school ``i`` is within reach of site ``j``; ``C_j`` the
number of schools site ``j`` can still serve. Variables: ``y_j`` (open a hub
at ``j``, binary) and ``x_ij`` (school ``i`` served by the hub at ``j``)::

    maximise    sum_ij w_i x_ij                      (need served)
    subject to  sum_j x_ij <= 1                      each school served by at most one hub
                x_ij <= a_ij y_j                     only by an open hub within reach
                sum_i x_ij <= C_j y_j                hub capacity (schools)
                sum_j y_j = |existing| + p           p new hubs
                y_j = 1 for existing hubs
                y binary, 0 <= x <= 1

For fixed ``y`` the constraints on ``x`` form a bipartite b-matching
polytope, which is totally unimodular, so an optimal vertex has whole
``x``: declaring ``x`` continuous loses nothing and keeps the model small.
The model is solved with CBC through PuLP (bundled with ``pulp<4``).

Once the sites are chosen, :func:`assign` solves the assignment alone as a
linear programme (HiGHS dual simplex: a vertex, hence whole), with a tiny
distance term so that among equally good assignments schools go to nearer
hubs; it keeps the need served equal to the MILP's optimum (checked).

Greedy
------
:func:`greedy` is the answer a planner could reach by hand: open, ``p``
times, the site whose reach holds the most unserved need it can take (its
``C_j`` neediest unserved schools in reach), and give it those schools. It
is a feasible plan, so it never beats the optimum; the gap is reported.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import GangmapError


@dataclass(frozen=True)
class Instance:
    """One capacitated covering problem (arrays over schools ``i`` and candidate site columns ``j``).

    Attributes
    ----------
    need : (n,) float
    reach : (n, m) bool
        School ``i`` is within reach of site ``j``.
    distance : (n, m) float
        Used only to prefer nearer hubs among equally good assignments.
    capacity : (m,) float
        Schools each site can still serve (``inf``: unlimited).
    fixed : tuple of int
        Columns open whatever (existing hubs).
    served : (n,) bool
        Schools already served (members of an existing hub): not placed again.
    """

    need: np.ndarray
    reach: np.ndarray
    distance: np.ndarray
    capacity: np.ndarray
    fixed: tuple
    served: np.ndarray

    @property
    def free(self) -> np.ndarray:
        """Schools the model may assign: not already served and with some need."""
        return ~self.served


@dataclass(frozen=True)
class Solution:
    """Open site columns, the site column serving each school (-1: none) and the need served (free schools)."""

    open: tuple
    hub_of: np.ndarray
    served_need: float


def _variable(prob, name: str, lo: float, hi: float, cat: str):
    """A PuLP variable, the PuLP 4 way where available (PuLP 3.3+), else the PuLP 3 way."""
    import pulp

    if hasattr(prob, "add_variable"):
        return prob.add_variable(name, lo, hi, cat=cat)
    return pulp.LpVariable(name, lowBound=lo, upBound=hi, cat=cat)  # pragma: no cover - PuLP < 3.3


def solve(inst: Instance, p: int, *, solver: Any = None) -> Solution:
    """Choose ``p`` new sites (besides the fixed ones) that serve the most need; exact (MILP, CBC)."""
    import pulp

    n, m = inst.reach.shape
    pairs = [(int(i), int(j)) for i, j in zip(*np.nonzero(inst.reach & inst.free[:, None]
                                                          & (inst.need[:, None] > 0)))]
    prob = pulp.LpProblem("gangmap_capacitated_hubs", pulp.LpMaximize)
    y = [_variable(prob, f"y_{j}", 0, 1, "Binary") for j in range(m)]
    x = {ij: _variable(prob, f"x_{ij[0]}_{ij[1]}", 0, 1, "Continuous") for ij in pairs}
    prob += pulp.lpSum(float(inst.need[i]) * v for (i, _), v in x.items())
    by_school: dict[int, list] = {}
    by_site: dict[int, list] = {}
    for (i, j), v in x.items():
        by_school.setdefault(i, []).append(v)
        by_site.setdefault(j, []).append(v)
        prob += v <= y[j]
    for vs in by_school.values():
        prob += pulp.lpSum(vs) <= 1
    for j, vs in by_site.items():
        if np.isfinite(inst.capacity[j]) and inst.capacity[j] < len(vs):
            prob += pulp.lpSum(vs) <= float(inst.capacity[j]) * y[j]
    prob += pulp.lpSum(y) == len(inst.fixed) + p
    for j in inst.fixed:
        y[j].lowBound = 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # PuLP 3 announcing PuLP 4 changes
        try:
            status = prob.solve(solver if solver is not None else pulp.PULP_CBC_CMD(msg=False))
        except pulp.PulpSolverError as exc:
            raise GangmapError(f"planning.plan_hubs: the solver failed ({exc}). With PuLP 3 the CBC solver is "
                               "bundled; reinstall pulp<4 or pass solver=<another pulp solver>.") from None
    if pulp.LpStatus[status] != "Optimal":
        raise GangmapError(f"planning.plan_hubs: the solver did not find an optimal plan "
                           f"(status {pulp.LpStatus[status]}).")
    opened = tuple(sorted(j for j in range(m) if (y[j].value() or 0) > 0.5))
    best = float(sum(inst.need[i] * (v.value() or 0) for (i, _), v in x.items()))
    return _with_assignment(inst, opened, best)


def _with_assignment(inst: Instance, opened: tuple, best: float) -> Solution:
    sol = assign(inst, opened)
    if sol.served_need < best - 1e-7 * max(1.0, abs(best)):  # pragma: no cover - guarded by total unimodularity
        raise GangmapError("planning.plan_hubs: the assignment fell short of the model's optimum; please report "
                           "this.")
    return sol


def assign(inst: Instance, opened: tuple) -> Solution:
    """The best assignment of schools to the ``opened`` site columns (an LP; whole by total unimodularity).

    Among assignments serving the same need, nearer hubs are preferred; spare
    capacity is then filled with schools of no need in reach, nearest first.
    """
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    n, m = inst.reach.shape
    hub_of = np.full(n, -1)
    cols = np.asarray(opened, dtype=int)
    mask = inst.reach[:, cols] & inst.free[:, None] & (inst.need[:, None] > 0) if len(cols) else np.zeros((n, 0), bool)
    ii, kk = np.nonzero(mask)
    if len(ii):
        d = inst.distance[ii, cols[kk]]
        scale = float(d.max()) if len(d) and d.max() > 0 else 1.0
        eps = 1e-6 * float(inst.need[inst.need > 0].min()) / max(1, len(ii))
        c = -(inst.need[ii] - eps * d / scale)
        v = np.arange(len(ii))
        rows = np.concatenate([ii, n + kk])
        a = coo_matrix((np.ones(2 * len(ii)), (rows, np.concatenate([v, v]))), shape=(n + len(cols), len(ii)))
        cap = np.where(np.isfinite(inst.capacity[cols]), inst.capacity[cols], n)
        res = linprog(c, A_ub=a.tocsr(), b_ub=np.concatenate([np.ones(n), cap]), bounds=(0, 1), method="highs-ds")
        if res.status != 0:  # pragma: no cover
            raise GangmapError(f"planning.plan_hubs: the assignment LP failed ({res.message}).")
        take = res.x > 0.5
        hub_of[ii[take]] = cols[kk[take]]
    _fill(inst, cols, hub_of)
    served = float(inst.need[hub_of >= 0].sum())
    return Solution(tuple(int(j) for j in opened), hub_of, served)


def _fill(inst: Instance, cols: np.ndarray, hub_of: np.ndarray) -> None:
    """Give spare capacity to unassigned free schools in reach, nearest first (in place)."""
    load = {int(j): int((hub_of == j).sum()) for j in cols}
    pairs = sorted((inst.distance[i, j], int(i), int(j)) for j in cols
                   for i in np.flatnonzero(inst.reach[:, j] & inst.free & (hub_of < 0)))
    for _, i, j in pairs:
        if hub_of[i] < 0 and load[j] < inst.capacity[j]:
            hub_of[i] = j
            load[j] += 1


def greedy(inst: Instance, p: int, allowed: np.ndarray) -> tuple[list[tuple[int, float]], Solution]:
    """Open ``p`` sites one at a time, each serving the most unserved need it can take (see the module docstring).

    Starts from what the fixed hubs serve (:func:`assign`). Returns the
    ``(column, gain)`` of each new site and the resulting plan.
    """
    start = assign(inst, inst.fixed)
    hub_of = start.hub_of.copy()
    avail = allowed.copy()
    avail[list(inst.fixed)] = False
    chosen: list[tuple[int, float]] = []
    for _ in range(p):
        if not avail.any():
            break
        open_need = np.where(inst.reach & (inst.free & (hub_of < 0))[:, None], inst.need[:, None], 0.0)
        ranked = -np.sort(-open_need, axis=0)
        cap = np.minimum(np.where(np.isfinite(inst.capacity), inst.capacity, len(hub_of)), len(hub_of)).astype(int)
        csum = np.vstack([np.zeros((1, ranked.shape[1])), np.cumsum(ranked, axis=0)])
        gains = np.where(avail, csum[cap, np.arange(len(cap))], -np.inf)
        j = int(np.argmax(gains))
        take = np.flatnonzero(inst.reach[:, j] & inst.free & (hub_of < 0))
        take = take[np.argsort(-inst.need[take], kind="stable")][: cap[j]]
        hub_of[take] = j
        chosen.append((j, float(gains[j])))
        avail[j] = False
    opened = tuple(sorted({*inst.fixed, *(j for j, _ in chosen)}))
    return chosen, Solution(opened, hub_of, float(inst.need[hub_of >= 0].sum()))


def order_by_gain(inst: Instance, new: tuple) -> list[tuple[int, float]]:
    """The ``new`` sites in greedy order of the need each adds to the best assignment, with the gains.

    The served need is a submodular function of the open sites (a weighted
    matroid rank), so the gains come out in decreasing order.
    """
    current = tuple(inst.fixed)
    value = assign(inst, current).served_need
    left = list(new)
    out = []
    while left:
        vals = [assign(inst, tuple(sorted((*current, j)))).served_need for j in left]
        k = int(np.argmax(vals))
        out.append((left[k], vals[k] - value))
        value = vals[k]
        current = tuple(sorted((*current, left.pop(k))))
    return out
