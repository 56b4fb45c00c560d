"""The capacitated hub model (gangmap.planning.covering via plan_hubs) against independent solutions.

Two oracles written here, apart from the code under test (PuLP/CBC for the sites, a HiGHS LP for the
assignment):

* brute force: every set of p new sites, each scored by an optimal assignment found with the
  Hungarian algorithm (scipy.optimize.linear_sum_assignment) on hub capacity slots;
* a second MILP formulation with binary assignments solved by scipy.optimize.milp.

Both must give the same optimal need served as plan_hubs on random instances. Several site sets
can be optimal, so the tests compare objectives, never site lists.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from gangmap import planning
from gangmap.errors import InputError


def _schools(xy, prefix=300000):
    xy = np.asarray(xy, dtype=float)
    return pd.DataFrame({"URN": [str(prefix + i) for i in range(len(xy))],
                         "EstablishmentName": [f"School {i}" for i in range(len(xy))],
                         "Easting": xy[:, 0] + 450_000, "Northing": xy[:, 1] + 250_000})


def _best_assignment(need, reach, sites, capacity):
    """Hungarian algorithm on capacity slots: the most need the open ``sites`` can serve."""
    from scipy.optimize import linear_sum_assignment

    n = len(need)
    slots = [j for j in sites for _ in range(n if capacity is None else capacity)]
    if not slots:
        return 0.0
    w = np.array([[need[i] if reach[i, j] else 0.0 for j in slots] for i in range(n)])
    r, c = linear_sum_assignment(w, maximize=True)
    return float(w[r, c].sum())


def _brute(need, reach, fixed, p, candidates, capacity):
    free = [c for c in candidates if c not in fixed]
    return max(_best_assignment(need, reach, list(fixed) + list(combo), capacity)
               for combo in itertools.combinations(free, p))


def _milp(need, reach, fixed, p, candidates, capacity):
    """Binary y_j (open) and x_ij (served), written from the problem statement with scipy.optimize.milp."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    n, m = reach.shape
    nx = n * m
    c = np.concatenate([-np.repeat(need, m), np.zeros(m)])          # maximise need served
    rows, lo, hi = [], [], []

    def add(coef, a, b):
        rows.append(coef)
        lo.append(a)
        hi.append(b)

    for i in range(n):                                              # one hub per school at most
        coef = np.zeros(nx + m)
        coef[i * m:(i + 1) * m] = 1
        add(coef, 0, 1)
    for j in range(m):                                              # capacity of an open hub
        coef = np.zeros(nx + m)
        coef[j:nx:m] = 1
        coef[nx + j] = -(n if capacity is None else capacity)
        add(coef, -np.inf, 0)
    coef = np.zeros(nx + m)
    coef[nx:] = 1
    add(coef, len(fixed) + p, len(fixed) + p)                       # p new hubs
    upper = np.concatenate([reach.reshape(-1).astype(float), np.zeros(m)])
    upper[nx + np.asarray(candidates)] = 1
    lower = np.zeros(nx + m)
    lower[nx + np.asarray(fixed, dtype=int)] = 1
    for i in range(n):                                              # only by an open hub
        for j in range(m):
            coef = np.zeros(nx + m)
            coef[i * m + j] = 1
            coef[nx + j] = -1
            add(coef, -np.inf, 0)
    res = milp(c, constraints=LinearConstraint(np.array(rows), lo, hi), integrality=np.ones(nx + m),
               bounds=Bounds(lower, upper))
    assert res.status == 0, res.message
    return -res.fun


def test_capacitated_model_matches_brute_force_and_an_independent_milp():
    rng = np.random.default_rng(538)
    for trial in range(12):
        n = int(rng.integers(7, 10))
        xy = rng.uniform(0, 8_000, size=(n, 2)).round()
        need = rng.integers(0, 12, size=n).astype(float)
        if trial % 3 == 2:
            need = need + rng.uniform(0, 1, size=n).round(3)       # an index, not a count
        radius = float(rng.uniform(2_000, 4_500))
        capacity = [1, 2, 3, None][trial % 4]
        fixed = [0] if trial % 2 else []
        p = 1 + trial % 2
        candidates = sorted(set(rng.choice(n, size=n - 2, replace=False).tolist()) | set(fixed))
        s = _schools(xy)
        plan = planning.plan_hubs(s, pd.Series(need, index=s["URN"]), existing_urns=[s["URN"][i] for i in fixed],
                                  p=p, radius_m=radius, capacity=capacity,
                                  candidates=s["URN"][candidates].tolist())
        D = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
        reach = D <= radius
        brute = _brute(need, reach, fixed, p, candidates, capacity)
        assert plan.objective == pytest.approx(brute, abs=1e-9), trial
        assert plan.objective == pytest.approx(_milp(need, reach, fixed, p, candidates, capacity), abs=1e-6)
        assert plan.need_served == plan.objective
        assert plan.served_before == pytest.approx(_best_assignment(need, reach, fixed, capacity), abs=1e-9)
        _check_plan(plan, need, reach, capacity, s)


def _check_plan(plan, need, reach, capacity, s):
    a = plan.assignment.set_index("urn").loc[s["URN"]]
    served = a["status"].eq("served").to_numpy()
    assert float(need[served].sum()) == pytest.approx(plan.need_served)       # the headline is what is assigned
    pos = {u: i for i, u in enumerate(s["URN"])}
    for i, hub in enumerate(a["hub_urn"]):
        if pd.notna(hub):
            assert reach[i, pos[hub]]                                          # only by a hub within reach
    if capacity is not None:
        assert a["hub_urn"].value_counts().max() <= capacity                  # capacity holds
    assert plan.greedy.need <= plan.objective + 1e-9
    assert plan.gap.absolute == pytest.approx(plan.objective - plan.greedy.need, abs=1e-9)
    gains = plan.marginal["gain"].to_numpy()
    assert plan.served_before + gains.sum() == pytest.approx(plan.objective)
    assert (np.diff(gains) <= 1e-9).all()                                      # submodular: gains fall
    assert plan.need_after >= plan.need_served - 1e-9                          # reach is an upper bound


def test_headline_is_need_served_not_need_in_reach():
    # Two clusters: eight needy schools round A, one school at B. One hub of capacity 3 reaches all of
    # A's schools but can serve three; reach-based MCLP would headline 8 x 5 = 40.
    pts = [(0, 0), (100, 0), (0, 100), (100, 100), (50, 50), (150, 50), (50, 150), (150, 150), (9000, 0)]
    s = _schools(pts)
    need = pd.Series([5, 5, 5, 5, 5, 5, 5, 5, 1], index=s["URN"])
    plan = planning.plan_hubs(s, need, p=1, radius_m=500, capacity=3)
    assert plan.need_after == 40 and plan.need_served == 15 and plan.objective == 15
    assert len(plan.over_capacity) == 5
    assert "serve 37% of the need" in plan.message and "98% is within reach" in plan.message
    two = planning.plan_hubs(s, need, p=2, radius_m=500, capacity=3)
    assert two.need_served == 30  # the second hub goes to A too (5 schools left), not to B
    t = two.table()
    assert t["need_served"].sum() == 30 and (t["schools_served"] <= 3).all()


def test_demo_capacity_binds_and_matches_an_independent_optimum(demo_paths):
    """Capacity 20 < the pilot's 47 members: the pilot keeps its 20 nearest members; one new hub takes the 20
    neediest schools left in its reach (independent: a loop over every site)."""
    schools = pd.read_csv(demo_paths["schools"], dtype={"URN": str})
    pilot = pd.read_csv(demo_paths["pilot_hub"], dtype=str)["URN"].tolist()
    plan = planning.plan_hubs(demo_paths["schools"], demo_paths["referrals"], existing_urns={"pilot": pilot}, p=1,
                              radius_m=6000, capacity=20)
    need = plan.assignment.set_index("urn").loc[schools["URN"], "need"].to_numpy(float)
    xy = schools[["Easting", "Northing"]].to_numpy(float)
    D = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    site = int(np.flatnonzero(schools["URN"] == plan.sites["hub_urn"].iloc[0])[0])
    members = np.flatnonzero(schools["URN"].isin(pilot))
    kept = members[np.argsort(D[members, site], kind="stable")][:20]
    left = np.ones(len(schools), bool)
    left[kept] = False
    best = max(np.sort(need[left & (D[:, j] <= 6000)])[::-1][:20].sum() for j in range(len(schools)) if j != site)
    assert plan.objective == need[kept].sum() + best
    assert plan.served_before == need[kept].sum()
    assert plan.need_after > plan.need_served  # capacity binds: more in reach than served
    assert plan.assignment.groupby("hub_urn").size().max() <= 20
    assert plan.gap.absolute == 0  # p=1 with the pilot full: greedy is optimal


def test_bad_demand_and_quantile_are_named_never_summed():
    s = _schools([(0, 0), (100, 0), (5000, 0)])
    urns = s["URN"].tolist()
    twice = pd.Series([3, 4, 5, 1], index=[urns[0], urns[1], urns[2], urns[1]])
    with pytest.raises(InputError, match=rf"URN\(s\) {urns[1]} more than once.*sum the rows.*remove the duplicates"):
        planning.plan_hubs(s, twice, p=1, radius_m=500)
    need = pd.Series([3, 4, 5], index=urns)
    for q in (75, -0.1, "high", None):
        with pytest.raises(InputError, match=r"high_need_quantile=.* must be between 0 and 1"):
            planning.plan_hubs(s, need, p=1, radius_m=500, high_need_quantile=q)
    plan = planning.plan_hubs(s, need, p=0, radius_m=500, high_need_quantile=1)  # the edges are quantiles too
    assert plan.high_need_threshold == 5 and plan.uncovered_high_need.empty
