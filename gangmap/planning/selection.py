"""The greedy rule behind :func:`gangmap.planning.recommend`, as a pure function of the need values.

Why apart: rank uncertainty re-runs exactly the same rule on every resample
of the counts (:mod:`.uncertainty`), so the rule takes the need values as an
argument and everything else (candidates, budget, neighbours) as a fixed
:class:`Selection`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from ..table import AreaTable
from .common import some


@dataclass(frozen=True)
class Selection:
    """Everything :func:`select` needs except the need values.

    ``codes``/``names`` are in table order; ``targeted`` and ``candidates``
    are boolean masks; ``population`` is None without a budget;
    ``neighbours`` is None unless contiguous.
    """

    codes: np.ndarray
    names: np.ndarray
    targeted: np.ndarray
    candidates: np.ndarray
    population: np.ndarray | None
    budget: float | None
    k: int | None
    neighbours: dict | None
    jump: float = 1.5
    before: float = 0.0
    label: str = "area"

    def scores(self, values: np.ndarray) -> np.ndarray:
        """Need (or need per person under a budget) of the candidates; -inf elsewhere."""
        cand = self.candidates
        if self.population is not None:
            ok = cand & np.isfinite(self.population) & (self.population > 0)
            return np.where(ok, values / np.where(ok, self.population, 1.0), -np.inf)
        return np.where(cand, values, -np.inf)


@dataclass(frozen=True)
class Pick:
    """One chosen area: its row, the chosen or targeted areas it touches, and why."""

    row: int
    touches: str
    reason: str


def _frontier_choice(sel: Selection, order: np.ndarray, score: np.ndarray, selected: set, best_any: int):
    nb = sel.neighbours
    front = [i for i in order if nb[sel.codes[i]] & selected]
    if not front:
        return best_any, f"new area: no untargeted {sel.label} borders the current areas"
    best_front = front[int(np.argmax(score[front]))]
    if best_front != best_any and score[best_any] >= sel.jump * score[best_front] and score[best_front] >= 0:
        if score[best_front] > 0:
            return best_any, (f"new area: scores {score[best_any] / score[best_front]:.1f}x the best bordering "
                              f"{sel.label}")
        return best_any, f"new area: bordering {sel.label}s have no need"
    return best_front, "borders the current areas"


def select(sel: Selection, values: np.ndarray, *, explain: bool = True) -> list[Pick]:
    """Choose areas greedily (see :func:`gangmap.planning.recommend` for the rules).

    Ties go to the first area in table order. With ``explain=False`` the
    touches and reasons are left empty (faster, for resampling).
    """
    score = sel.scores(values)
    avail = sel.candidates & np.isfinite(score)
    selected = set(sel.codes[sel.targeted])
    remaining = float(sel.budget) if sel.budget is not None else math.inf
    pop = sel.population if sel.population is not None else np.zeros(len(values))
    pos = {c: i for i, c in enumerate(sel.codes)} if explain else {}
    picks: list[Pick] = []
    while avail.any() and (sel.k is None or len(picks) < sel.k):
        order = np.flatnonzero(avail & (pop <= remaining))
        if not len(order):
            break
        best_any = int(order[np.argmax(score[order])])
        choice, reason = best_any, ("highest need" if sel.population is None else "highest need per person")
        touches = ""
        if sel.neighbours is not None:
            choice, reason = _frontier_choice(sel, order, score, selected, best_any)
            if explain:
                near = sorted(sel.neighbours[sel.codes[choice]] & selected, key=lambda c: pos.get(c, 0))
                touches = ", ".join(str(sel.names[pos[c]]) if c in pos else c for c in near)
        picks.append(Pick(int(choice), touches, reason if explain else ""))
        selected.add(sel.codes[choice])
        avail[choice] = False
        remaining -= pop[choice]
    return picks


def neighbours(table: AreaTable, w: Any, func: str) -> dict[str, set]:
    """``{code: {neighbour codes}}`` from ``w`` (W, Weights or dict) or queen contiguity of the table."""
    geo = table.geography
    if w is None:
        if not table.has_geometry:
            raise InputError(f"planning.{func}: contiguous=True needs {geo.label} boundaries: pass the joined table "
                             "(with geometry) or spatial weights w=measures.weights(table).")
        from ..measures import weights

        w = weights(table, "queen")
    w = getattr(w, "w", w)  # measures.Weights wraps the libpysal W
    raw = w if isinstance(w, dict) else w.neighbors
    nb = {str(k): {str(x) for x in v} for k, v in raw.items()}
    missing = [c for c in table.codes.astype(str) if c not in nb]
    if missing:
        raise InputError(f"planning.{func}: the spatial weights have no entry for {geo.label}(s) {some(missing)}; "
                         "build them from this table: measures.weights(table).")
    return nb

