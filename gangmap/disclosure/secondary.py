"""Secondary suppression of one count column over its tree of sums.

After the small counts are hidden (primary suppression) a hidden cell can
still be worked out, or narrowed to a handful of values, by taking shown
figures away from a total. This module hides more cells until no hidden cell
narrows to fewer than ``policy.min_range`` possible values (3 by default).

Three readers are checked:

* ``public`` sees what is shown (rounded counts stand for their band: 10 is
  8–12) and knows a hidden cell is at least 1 (0 when zeros are hidden):
  every hidden cell must keep ``policy.min_range`` possible values (3);
* ``exact`` also knows the unrounded count behind every shown area (in the
  first release a rate next to a public population gave it away): no hidden
  cell may be worked out exactly;
* ``insider`` also knows which hidden cells are the small ones (1–7, or
  1..k-1): no small cell may be worked out exactly, unless even hiding every
  non-zero cell could not prevent it (``unavoidable``, e.g. k=3 and a
  district of areas 1, 1, 0).

The cells chosen, in order: the smallest single cell nearby (a sibling, an
own child or the parent total) that frees the target; else a nearby total
together with one of its children (a total whose parts are all shown is no
use hidden alone); the same for cells further away; then the county total;
else the cell that widens the target's range most. Zeros are never hidden
this way (a reader is told that a hidden cell is at least 1).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .policy import Policy
from .tree import INF, Tree, intervals, width

__all__ = ["Protector"]


#: The readers every hidden cell is checked against (see the module docstring).
READERS = ("public", "exact", "insider")


class Protector:
    """Primary and secondary suppression of one count column over a tree."""

    def __init__(self, tree: Tree, raw: np.ndarray, policy: Policy, forced=None):
        self.tree = tree
        self.policy = policy
        self.forced = [False] * tree.n if forced is None else [bool(f) for f in forced]
        self.present = ~np.isnan(raw)
        self.rawi = [int(x) if p else 0 for x, p in zip(raw, self.present)]
        self.primary = [bool(p) and policy.is_primary(x) for x, p in zip(self.rawi, self.present)]
        self.floor = policy.floor
        self.need = {"public": policy.min_range, "exact": min(2, policy.min_range), "insider": 2}
        # Domains of shown cells. The public reader sees rounding bands; the better-informed readers
        # know the areas' unrounded counts (totals stay banded). Absent (no data) nodes are exactly 0.
        self.shown: dict[str, tuple[list[float], list[float]]] = {r: ([], []) for r in READERS}
        for v in range(tree.n):
            x = self.rawi[v]
            band = policy.band(policy.round(x)) if self.present[v] else (x, x)
            exact = (x, x) if v >= tree.first_ward or not self.present[v] else band
            for r in READERS:
                a, b = band if r == "public" else exact
                self.shown[r][0].append(float(a))
                self.shown[r][1].append(float(b))

    # -- domains ------------------------------------------------------------
    def _set(self, lo, hi, v, reader):
        if reader == "insider" and self.primary[v]:
            p_lo, p_hi = self.policy.primary_range
            lo[v], hi[v] = float(p_lo), float(p_hi)
        else:
            lo[v], hi[v] = float(self.floor), INF

    def _domains(self, supp: Sequence[bool], reader: str):
        lo, hi = list(self.shown[reader][0]), list(self.shown[reader][1])
        for v in range(self.tree.n):
            if supp[v]:
                self._set(lo, hi, v, reader)
        return lo, hi

    @staticmethod
    def _narrow(res, v, need: int) -> bool:
        return res[1][v] - res[0][v] + 1 < need

    # -- the loop -------------------------------------------------------------
    def run(self) -> list[bool]:
        """The cells to hide (node order): primary, forced and secondary."""
        tree = self.tree
        supp = [p or f for p, f in zip(self.primary, self.forced)]
        if not self.policy.secondary or not any(supp):
            return supp
        n = tree.n
        everything = [bool(self.present[v]) and (self.primary[v] or self.rawi[v] > 0) for v in range(n)]
        full = intervals(tree, *self._domains(everything, "insider"))
        self.unavoidable = [everything[v] and self._narrow(full, v, self.need["insider"]) for v in range(n)]
        doms = {r: self._domains(supp, r) for r in READERS}
        for _ in range(n + 1):
            res = {r: intervals(tree, *doms[r]) for r in READERS}
            target, reader = self._target(supp, res)
            if target is None:
                return supp
            for u in self._choose(supp, target, doms[reader], res[reader], reader):
                supp[u] = True
                for r in READERS:
                    self._set(doms[r][0], doms[r][1], u, r)
        raise RuntimeError("secondary suppression did not settle; please report this.")  # pragma: no cover

    def _target(self, supp, res) -> tuple[int | None, str]:
        for v in range(self.tree.n):
            if not supp[v]:
                continue
            for r in ("public", "exact"):
                if self._narrow(res[r], v, self.need[r]):
                    return v, r
            if self.primary[v] and not self.unavoidable[v] and self._narrow(res["insider"], v, self.need["insider"]):
                return v, "insider"
        return None, ""

    def _frees(self, dom, target, cells, reader) -> tuple[bool, float]:
        """Whether hiding ``cells`` gives ``target`` enough room, and how much room it leaves."""
        saved = [(dom[0][u], dom[1][u]) for u in cells]
        for u in cells:
            self._set(dom[0], dom[1], u, reader)
        res = intervals(self.tree, *dom)
        for u, (a, b) in zip(cells, saved):
            dom[0][u], dom[1][u] = a, b
        return not self._narrow(res, target, self.need[reader]), self._progress(res, dom, target)

    def _choose(self, supp, target, dom, current, reader) -> list[int]:
        """The cell(s) to hide next so that ``target`` keeps enough possible values."""
        cands = self._candidates(supp, target)
        if not cands:  # pragma: no cover - hiding every non-zero cell frees everything
            raise RuntimeError("secondary suppression found no cell to hide; please report this.")
        best_prog, best = self._progress(current, dom, target), None
        near = [u for u in cands if u != 0 and self._distance(target, u) <= 1]
        far = [u for u in cands if u != 0 and self._distance(target, u) > 1]
        for group in (near, far):
            for u in group:
                freed, prog = self._frees(dom, target, [u], reader)
                if freed:
                    return [u]
                if prog > best_prog:
                    best_prog, best = prog, u
            pair = self._pair(supp, group, dom, target, reader)
            if pair:
                return pair
        if 0 in cands:
            freed, prog = self._frees(dom, target, [0], reader)
            if freed:
                return [0]
            if best is None and prog > best_prog:
                best = 0
        return [best if best is not None else cands[0]]

    def _pair(self, supp, group, dom, target, reader) -> list[int] | None:
        """A total of ``group`` together with one of its shown children that frees ``target``."""
        for u in group:
            if not self.tree.children[u]:
                continue
            kids = sorted((self.rawi[w], w) for w in self.tree.children[u]
                          if not supp[w] and self.present[w] and self.rawi[w] > 0)
            for _, w in kids:
                if self._frees(dom, target, [u, w], reader)[0]:
                    return [u, w]
        return None

    @staticmethod
    def _progress(res, dom, v) -> float:
        f_lo, f_hi, b_lo, b_hi, o_lo, o_hi = res
        lo, hi = dom[0][v], dom[1][v]
        return (width(max(lo, b_lo[v]), min(hi, b_hi[v]))
                + width(max(lo, o_lo[v]), min(hi, o_hi[v])))

    def _distance(self, v: int, u: int) -> int:
        """0: sibling or child of v; 1: its parent; 2: anything else; 3: the county total."""
        tree = self.tree
        p = tree.parent[v]
        if u == 0:
            return 3
        if tree.parent[u] == v or (p >= 0 and tree.parent[u] == p):
            return 0
        return 1 if u == p else 2

    def _candidates(self, supp, v) -> list[int]:
        """Cells that may still be hidden (non-zero, shown), nearest and smallest first."""
        out = [(self._distance(v, u), self.rawi[u], u) for u in range(self.tree.n)
               if not supp[u] and self.present[u] and self.rawi[u] > 0]
        out.sort()
        return [u for _, _, u in out]
