"""Hub rollout: where should the next hubs go so that the most need is actually served?

:func:`plan_hubs` sites ``p`` new hubs at schools, next to the existing
one(s), with hub capacity inside the model (:mod:`.covering`: a capacitated
maximal covering location problem solved exactly with CBC). Its headline is
the need the hubs can serve, not the need merely within reach. It also gives
the transparent greedy answer and the gap, the order of the new sites by the
need each adds, the assignment of schools to hubs, and map layers.

Demand is per school: referrals per school (a count), a Series of need by
URN, or a measure of the area table mapped onto its schools
(:func:`school_need`). Existing hubs come from :func:`read_hubs`.

Disclosure
----------
The frames of a :class:`HubPlan` (and :attr:`HubPlan.message`) hold raw
values for analysis. To export, use :meth:`HubPlan.safe` (one row per hub),
:meth:`HubPlan.areas_safe` (one row per area) or, when the demand is a
per-school count, :meth:`HubPlan.schools_safe` (one row per school); each
passes a table whose roles are declared through
:func:`gangmap.disclosure.make_safe`. The hub table adds up only published
demand (:mod:`gangmap.planning.hub_tables`), and
:meth:`HubPlan.published_message` is the headline in its figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import GangmapError, InputError
from ..geography import WARD, WORK_CRS, Geography, custom
from ..table import AreaTable, from_frame
from .common import area_table, need_values, number_or_nan, publish, some, sources_of
from .covering import Instance, assign, greedy, order_by_gain, solve
from .hub_tables import hub_message, hub_table, published_areas, school_demand
from .publishing import RECIPE

__all__ = ["SchoolNeed", "school_need", "Gap", "GreedyResult", "HubPlan", "plan_hubs", "read_hubs"]

#: The rows of a per-hub table and a per-school table, as geographies (for their words and code columns).
HUB = custom("hub", code="hub_urn", name="hub_name", plural="hubs")
SCHOOL = custom("school", code="urn", name="school_name", plural="schools")


# =========================================================================== demand
@dataclass(frozen=True)
class SchoolNeed:
    """An area measure mapped onto schools, as demand for :func:`plan_hubs` (see :func:`school_need`).

    Attributes
    ----------
    frame : DataFrame
        ``urn``, the area code column, ``need`` and the area's source counts.
    sources : tuple of str
        The counts ``need`` was computed from (repeated for each school of an
        area, so never published per school).
    measure : str
    geography : Geography
        The areas the schools were placed on.
    table : AreaTable or None
        The area table the measure came from, so that a published hub table can
        use the measure worked out again from its published counts.
    """

    frame: pd.DataFrame
    sources: tuple
    measure: str
    geography: Geography = WARD
    table: AreaTable | None = field(default=None, repr=False, compare=False)

    def __getitem__(self, key):
        return self.frame[key]

    def __len__(self) -> int:
        return len(self.frame)


def _schools_from_gdf(g) -> pd.DataFrame:
    g = g.to_crs(WORK_CRS) if g.crs is not None else g
    if g.crs is None:
        raise InputError("planning.plan_hubs: the schools GeoDataFrame has no CRS; set it (e.g. "
                         "schools.set_crs(27700)).")
    ucol = next((c for c in g.columns if str(c).lower() == "urn"), None)
    if ucol is None:
        raise InputError(f"planning.plan_hubs: the schools GeoDataFrame has no URN column; columns are "
                         f"{some(g.columns)}.")
    pts = g.geometry.representative_point()
    df = pd.DataFrame({"urn": g[ucol].astype(str).to_numpy(), "x": pts.x.to_numpy(), "y": pts.y.to_numpy()})
    for c, role in (("school_name", "school_name"), ("EstablishmentName", "school_name"), ("ward_code", "ward_code")):
        if c in g.columns:
            df[role] = g[c].astype("string").to_numpy()
    if "school_name" not in df:
        df["school_name"] = df["urn"]
    return df


def schools_frame(schools: Any) -> tuple[pd.DataFrame, list[str], str]:
    """``urn``, ``school_name``, ``ward_code``, ``x``, ``y`` (EPSG:27700), the notes and the source name."""
    import geopandas as gpd

    from ..io import Intake, as_intake

    notes: list[str] = []
    if isinstance(schools, gpd.GeoDataFrame) and not isinstance(schools, Intake):
        df, source = _schools_from_gdf(schools), "<GeoDataFrame>"
    else:
        it = as_intake(schools, "schools")
        if it.kind != "schools":
            raise InputError(f"{it.source}: this is a {it.kind} input, not a schools file; pass the GIAS "
                             "schools file (URN, EstablishmentName, Easting, Northing).")
        df, source = it.data.copy(), it.source
        if len(it.rejected):
            notes.append(f"{source}: {len(it.rejected)} school row(s) rejected (see read_schools(...).rejected)")
    df["urn"] = df["urn"].astype(str)
    if "ward_code" not in df:
        df["ward_code"] = pd.NA
    noxy = ~(np.isfinite(df["x"].astype(float)) & np.isfinite(df["y"].astype(float)))
    if noxy.any():
        notes.append(f"{source}: {int(noxy.sum())} school(s) without coordinates left out of the hub plan: "
                     f"{some(df.loc[noxy, 'urn'])}")
        df = df[~noxy]
    if df.empty:
        raise InputError(f"{source}: no school has coordinates (Easting/Northing); the hub plan needs them.")
    return df.reset_index(drop=True)[["urn", "school_name", "ward_code", "x", "y"]], notes, source


def school_need(schools: Any, table: Any, measure: str = "need_index") -> SchoolNeed:
    """Map an area measure onto schools, as demand for :func:`plan_hubs`.

    Each school takes the value of its area: for a ward table its
    ``AdministrativeWard (code)``, otherwise (or when that code is not in the
    table) the area its Easting/Northing falls in, when the table has
    geometry. An area with three schools therefore weighs three times: demand
    is the schools, weighted by their area's need. Schools outside every
    area get NaN (treated as 0 by :func:`plan_hubs`, with a note).

    Examples
    --------
    >>> s = pd.DataFrame({"URN": ["1", "2"], "Easting": [1, 2], "Northing": [1, 2],
    ...                   "AdministrativeWard (code)": ["E05000001", "E05000002"]})
    >>> t = pd.DataFrame({"ward_code": ["E05000001", "E05000002"], "reports": [10, 30]})
    >>> school_need(s, t, "reports").frame[["urn", "ward_code", "need"]]
      urn  ward_code  need
    0   1  E05000001  10.0
    1   2  E05000002  30.0
    """
    from ..joining import locate_points

    table = area_table(table, "school_need")
    geo = table.geography
    v = need_values(table, measure, "school_need")
    sch, _, _ = schools_frame(schools)
    codes = sch["ward_code"].astype("string") if geo.level == "ward" else pd.Series(pd.NA, index=sch.index,
                                                                                    dtype="string")
    missing = codes.isna() | ~codes.isin(set(table.codes.astype(str)))
    if missing.any() and table.has_geometry:
        codes = codes.copy()
        codes[missing] = locate_points(sch.loc[missing, "x"], sch.loc[missing, "y"], table).to_numpy()
    srcs = sources_of(table, measure) or ()
    by_code = pd.DataFrame({"need": v, **{s: table[s].to_numpy() for s in srcs}},
                           index=table.codes.astype(str).to_numpy())
    out = pd.DataFrame({"urn": sch["urn"].to_numpy(), geo.code: codes.to_numpy()})
    for c in ["need", *srcs]:
        out[c] = out[geo.code].map(by_code[c]).to_numpy()
    return SchoolNeed(frame=out, sources=tuple(s for s in srcs if s != "need"), measure=measure, geography=geo,
                      table=table)


@dataclass
class _Demand:
    need: np.ndarray
    is_count: bool
    label: str
    area_codes: np.ndarray | None = None
    sources: tuple = ()
    geography: Geography = WARD
    area_counts: pd.DataFrame | None = None
    table: AreaTable | None = None
    measure: str = ""


def _demand_series(demand: pd.Series, urns: pd.Series) -> _Demand:
    s = pd.to_numeric(demand, errors="coerce")
    s.index = s.index.astype(str)
    if s.index.has_duplicates:  # never summed here: two rows may be one school counted twice, or two sources
        dup = sorted(set(s.index[s.index.duplicated()]))
        raise InputError(f"planning.plan_hubs: the demand Series gives school URN(s) {some(dup)} more than once. "
                         "Give one need per school: sum the rows of a school if they are parts of its need "
                         "(demand.groupby(level=0).sum()) or remove the duplicates if they repeat it "
                         "(demand[~demand.index.duplicated()]).")
    vals = s.to_numpy(dtype=float)
    is_count = bool(np.all(np.isfinite(vals)) and np.all(vals % 1 == 0))
    return _Demand(urns.map(s).to_numpy(dtype=float), is_count, str(demand.name or "need"))


def _demand_areas(demand: SchoolNeed, urns: pd.Series) -> _Demand:
    d = demand.frame.assign(urn=demand.frame["urn"].astype(str)).drop_duplicates("urn").set_index("urn")
    code = demand.geography.code
    codes = urns.map(d[code]).astype("string").fillna("(none)").to_numpy() if code in d else None
    counts = None
    if demand.sources and code in d:
        counts = d.assign(**{code: d[code].astype("string").fillna("(none)")}).drop_duplicates(code) \
            .set_index(code)[list(demand.sources)]
    return _Demand(urns.map(pd.to_numeric(d["need"], errors="coerce")).to_numpy(dtype=float), False, "need",
                   codes, demand.sources, demand.geography, counts, demand.table, demand.measure)


def _demand_referrals(demand: Any, urns: pd.Series, notes: list) -> _Demand:
    from ..io import Intake, as_intake

    if isinstance(demand, pd.DataFrame) and "need" in demand.columns:
        raise InputError("planning.plan_hubs: a table with a 'need' column is taken as per-school demand only "
                         "when made by planning.school_need(schools, table, measure).")
    it = demand if isinstance(demand, Intake) else as_intake(demand, "referrals")
    if it.key != "urn":
        raise InputError(f"{it.source}: these {it.kind} are placed by {it.key}, not by school URN, so they cannot "
                         "weight schools directly. Join them onto areas and use planning.school_need(schools, "
                         "table, measure) as the demand.")
    sums = it.data.groupby(it.data["urn"].astype(str))["count"].sum()
    unknown = sorted(set(sums.index) - set(urns))
    if unknown:
        notes.append(f"{it.source}: {len(unknown)} URN(s) are not among the schools with coordinates (their "
                     f"{int(sums[unknown].sum())} {it.kind} are left out): {some(unknown)}")
    return _Demand(urns.map(sums).fillna(0).to_numpy(dtype=float), True, it.kind)


def demand_of(demand: Any, urns: pd.Series, notes: list) -> _Demand:
    """Need per school (aligned with ``urns``) and what it is."""
    if isinstance(demand, pd.Series):
        d = _demand_series(demand, urns)
    elif isinstance(demand, SchoolNeed):
        d = _demand_areas(demand, urns)
    else:
        d = _demand_referrals(demand, urns, notes)
    miss = ~np.isfinite(d.need)
    if miss.any():
        notes.append(f"{int(miss.sum())} school(s) have no need value (treated as 0): {some(urns[miss])}")
    d.need = np.where(miss, 0.0, d.need)
    if (d.need < 0).any():
        raise InputError(f"planning.plan_hubs: demand is negative for school(s) {some(urns[d.need < 0])}; need "
                         "must be 0 or more.")
    return d


# =========================================================================== results
@dataclass(frozen=True)
class Gap:
    """Optimal objective minus greedy objective: ``absolute`` and ``percent`` of the optimum."""

    absolute: float
    percent: float

    def __str__(self) -> str:
        return f"{self.absolute:,.4g} ({self.percent:.1f}% of the optimum)"


@dataclass
class GreedyResult:
    """The transparent greedy answer: ``p`` times, add the site that serves the most unserved need."""

    sites: list
    need: float
    marginal: pd.DataFrame


@dataclass
class HubPlan:
    """Where the next hubs should go (see :func:`plan_hubs`).

    Attributes
    ----------
    sites : DataFrame
        Every hub: ``hub_urn``, ``hub_name``, ``school_name``, ``status``
        (``existing``/``new``), ``order`` (0 for existing hubs, then by
        marginal gain), ``gain``, ``x``, ``y``, ``members`` (schools an
        existing hub already serves).
    assignment : DataFrame
        One row per school: ``urn``, ``school_name``, the area code, ``need``,
        ``hub_urn``, ``hub_name`` (the hub serving it, NA if none),
        ``distance_m``, ``hubs_in_reach`` and ``status`` (``served``,
        ``over capacity``: in reach of a hub but not served, ``not covered``).
    need_total : float
        Need of all schools.
    need_served : float
        **The headline**: need the hubs can serve (the capacitated optimum;
        = ``objective``).
    served_before : float
        Need the existing hub(s) alone can serve.
    need_before, need_after : float
        Need *within reach* of the existing hub(s), and of every hub of the
        plan (more than is served when hubs are full).
    objective : float
        The optimum of the capacitated model (= ``need_served``).
    marginal : DataFrame
        The new sites in order of marginal gain: ``order``, ``hub_urn``,
        ``school_name``, ``gain`` (need served it adds), ``need_served``
        (cumulative), ``share_served``.
    greedy : GreedyResult
    gap : Gap
        Optimum minus greedy (never negative).
    over_capacity, uncovered_high_need : DataFrame
        Schools in reach but not served; schools out of reach of every hub
        with need above ``high_need_threshold`` (the 75th percentile).
    hubs, catchments, uncovered : GeoDataFrame
        Map layers (EPSG:27700): hub points; catchments (the ``radius_m``
        circle round each hub, clipped to ``area``, joined for an existing
        hub with the hull of its member schools; see ``catchment_note``);
        uncovered high-need schools.
    reach : dict
        ``{hub URN: set of school URNs within its reach}``.
    geography : Geography
        The areas of the area code column (wards unless the demand says).
    message : str
        The headline on the raw demand, for the analyst; files quote
        :meth:`published_message` instead.
    notes : list of str
    need_table, need_measure : AreaTable or None, str
        With an area measure as demand: the area table and the measure, so the
        published tables use the measure worked out from published counts.
    """

    sites: pd.DataFrame
    assignment: pd.DataFrame
    need_total: float
    need_served: float
    served_before: float
    need_before: float
    need_after: float
    objective: float
    marginal: pd.DataFrame
    greedy: GreedyResult
    gap: Gap
    over_capacity: pd.DataFrame
    uncovered_high_need: pd.DataFrame
    high_need_threshold: float
    hubs: Any
    catchments: Any
    uncovered: Any
    radius_m: float
    capacity: int | None
    p: int
    need_label: str
    need_is_count: bool
    need_sources: tuple = ()
    area_counts: Any = None
    reach: dict = field(default_factory=dict)
    geography: Geography = WARD
    catchment_note: str = ""
    message: str = ""
    notes: list = field(default_factory=list)
    need_table: Any = field(default=None, repr=False)
    need_measure: str = ""

    def _repr_html_(self) -> str:  # notebooks
        from ..reprs import card

        facts = [("new hubs", self.p), ("reach", f"{self.radius_m:,.0f} m"), ("capacity", self.capacity),
                 ("need served", f"{self.need_served:,.1f} of {self.need_total:,.1f}"),
                 ("served by existing hubs", f"{self.served_before:,.1f}")]
        return card("Hub plan", facts, " ".join([self.message, *self.notes]),
                    [("New sites by marginal gain", self.marginal), ("Every hub", self.sites)])

    @property
    def new_sites(self) -> list[str]:
        """URNs of the new hubs, in order of marginal gain."""
        return self.marginal["hub_urn"].tolist()

    def table(self) -> AreaTable:
        """One row per hub with declared roles, ready for :func:`gangmap.disclosure.make_safe`.

        Columns: ``hub_urn``, ``hub_name``, ``status``, ``order``,
        ``schools_in_reach``, ``schools_served``, ``schools_over_capacity``,
        ``need_in_reach``, ``need_served``. **Counts**: with count demand
        (referrals per school) ``need_in_reach`` and ``need_served``;
        otherwise (an area measure mapped onto schools) ``schools_in_reach``
        and ``schools_served``, with the need derived from them, so a hub with
        few schools has its need hidden (conservative).

        These are the analyst's values (sums of the raw demand). Publish with
        :meth:`safe`, which adds up the *published* demand instead.
        """
        a = self.assignment
        rows = []
        for _, s in self.sites.iterrows():
            u = s["hub_urn"]
            served = (a["hub_urn"] == u).fillna(False).to_numpy(dtype=bool)
            inreach = a["urn"].isin(self.reach.get(u, set())).to_numpy()
            rows.append({"hub_urn": u, "hub_name": s["hub_name"], "status": s["status"], "order": int(s["order"]),
                         "schools_in_reach": int(inreach.sum()), "schools_served": int(served.sum()),
                         "schools_over_capacity": int((inreach & (a["status"] == "over capacity")).sum()),
                         "need_in_reach": float(a.loc[inreach, "need"].sum()),
                         "need_served": float(a.loc[served, "need"].sum())})
        t = pd.DataFrame(rows)
        if self.need_is_count:
            for c in ("need_in_reach", "need_served"):
                t[c] = t[c].round().astype("int64")
            return from_frame(t, counts=["need_in_reach", "need_served"], geography=HUB,
                              context=["order", "schools_in_reach", "schools_served", "schools_over_capacity"])
        return from_frame(t, counts=["schools_in_reach", "schools_served"], geography=HUB,
                          context=["order", "schools_over_capacity"],
                          derived={"need_in_reach": ["schools_in_reach"], "need_served": ["schools_served"]})

    def safe(self, policy: Any = "nhs", **options):
        """The per-hub table as published: need served added up from published demand only.

        Hub URNs and names are public (GIAS); ``need_in_reach`` and
        ``need_served`` add up the schools' *published* need (their counts as
        :meth:`schools_safe` publishes them, or their area's need index worked
        out from the published counts), never a hidden count;
        ``schools_hidden`` says how many served schools count for nothing;
        ``share_served`` and ``order`` (new hubs by published need served) are
        worked out from the published need (:mod:`gangmap.planning.hub_tables`).
        """
        need = school_demand(self, policy, options)
        return publish(hub_table(self, need), policy=policy, keep=["status", "school_name"], what="hub table",
                       **options)

    def published_message(self, safe: Any) -> str:
        """The headline in the figures of the published hub table ``safe`` (from :meth:`safe`)."""
        return hub_message(self, safe)

    def schools_table(self) -> AreaTable:
        """One row per school (the assignment), with ``need`` as the count (count demand only).

        When the demand is an area measure mapped onto schools, every school
        of an area repeats its area's value, and repeated counts would let a
        suppressed count be worked out from a total: per-school need cannot
        be made safe, so use :meth:`areas_table` / :meth:`areas_safe` instead.
        """
        if not self.need_is_count:
            raise GangmapError(
                "HubPlan.schools_safe: the demand is an area measure mapped onto schools, so each school repeats "
                f"its {self.geography.label}'s counts and per-school values cannot be made safe. Export "
                "plan.areas_safe() (one row per area), or plan with per-school referrals as the demand.")
        a = self.assignment.drop(columns=[self.geography.code], errors="ignore")
        # hub_urn is the URN of the hub's school: a public GIAS identifier, declared public context
        return from_frame(a, counts=["need"], geography=SCHOOL,  # school and hub names are public: context
                          context=["distance_m", "hubs_in_reach", "hub_urn", "hub_name"])

    def schools_safe(self, policy: Any = "nhs", **options):
        """The per-school assignment made safe (count demand only; see :meth:`schools_table`)."""
        return publish(self.schools_table(), policy=policy, keep=["hub_name", "status"], what="school assignment",
                       **options)

    def areas_table(self) -> AreaTable:
        """One row per area with schools: ``schools``, ``schools_served``, ``schools_over_capacity``,
        ``schools_not_covered`` and ``need``: the sum over the area's schools when the demand is a count
        (then ``need`` is the **count**), else the area's measure (derived from the area's source
        **counts**, included once per area)."""
        code = self.geography.code
        a = self.assignment
        g = a.assign(**{code: a[code].astype("string").fillna("(none)")}).groupby(code, sort=True)
        t = pd.DataFrame({"schools": g.size()})
        for label, col in (("served", "schools_served"), ("over capacity", "schools_over_capacity"),
                           ("not covered", "schools_not_covered")):
            t[col] = g["status"].apply(lambda s, lab=label: int((s == lab).sum()))
        context = list(t.columns)
        if self.need_is_count:
            t["need"] = g["need"].sum().round().astype("int64")
            return from_frame(t.reset_index(), counts=["need"], context=context, geography=self.geography,
                              gss=False)
        t["need"] = g["need"].first()
        counts = self.area_counts if self.area_counts is not None else pd.DataFrame()
        srcs = [c for c in self.need_sources if c in counts.columns]
        for c in srcs:
            t[c] = t.index.map(counts[c])
        return from_frame(t.reset_index(), counts=srcs, derived={"need": srcs} if srcs else None, context=context,
                          geography=self.geography, gss=False)

    def areas_safe(self, policy: Any = "nhs", **options):
        """The per-area summary made safe.

        With an area measure as demand, ``need`` is the measure worked out
        again from the published counts of the whole area table (a need index
        scaled over its shown areas), and the cells it hides are hidden here
        too (``pattern=``), so this table and the area map cannot be played
        against each other.
        """
        table = self.areas_table()
        what = f"{self.geography.label} summary of the hub plan"
        if self.need_is_count or self.need_table is None or "need" not in table.derived:
            return publish(table, policy=policy, what=what, **options)
        base = published_areas(self, policy, options)
        published = base.frame[self.need_measure] if self.need_measure in base.suppressed else \
            pd.Series(np.nan, index=base.frame.index)
        by_area = pd.Series(pd.to_numeric(published, errors="coerce").to_numpy(dtype=float),
                            index=base.codes.astype(str).to_numpy())
        notes = {**table.schema.notes, "need": {RECIPE: area_need_recipe(by_area)}}
        return publish(table.with_schema(notes=notes), policy=policy, what=what, **{**options, "pattern": base})

    def __str__(self) -> str:
        return self.message


def area_need_recipe(by_area: pd.Series):
    """The recipe of ``need`` in :meth:`HubPlan.areas_safe`: each area's published measure."""
    def published_need(published: AreaTable) -> pd.Series:
        """The area's measure as the area table publishes it: worked out again from the published counts (a need
        index scaled over the shown areas), so it carries nothing the published counts do not."""
        return pd.Series(published.codes.astype(str).map(by_area).to_numpy(dtype=float), index=published.frame.index)

    return published_need


# =========================================================================== the plan
def read_hubs(path_or_df, *, hub: str = "hub", urn: str = "URN") -> dict[str, list[str]]:
    """Existing hubs from a table of their schools: ``{hub name: [URN, ...]}``.

    The table has a ``URN`` column and, optionally, a ``hub`` column naming
    the hub each school belongs to (one hub called "existing hub" without
    it), like ``data/demo/pilot_hub.csv``. Pass the result to
    :func:`plan_hubs` as ``existing_urns``.

    Examples
    --------
    >>> read_hubs(pd.DataFrame({"hub": ["A", "A"], "URN": ["1", "2"]}))
    {'A': ['1', '2']}
    """
    from ..io import read_table

    df, source = read_table(path_or_df, what="hub schools file")
    if urn not in df.columns:
        raise InputError(f"{source}: no {urn!r} column; the hub schools file needs the URN of each school "
                         f"(columns are {', '.join(map(str, df.columns))}).")
    urns = df[urn].astype("string").str.strip()
    names = df[hub].astype("string").fillna("existing hub") if hub in df.columns else \
        pd.Series("existing hub", index=df.index)
    ok = urns.notna() & (urns != "")
    return {str(k): v.tolist() for k, v in urns[ok].groupby(names[ok], sort=False)}


def _check_plan_args(p, radius_m, capacity, high_need_quantile) -> float:
    if not isinstance(p, (int, np.integer)) or isinstance(p, bool) or p < 0:
        raise GangmapError(f"planning.plan_hubs: p={p!r} must be the number of NEW hubs (0 or more).")
    try:
        radius = float(radius_m)
    except (TypeError, ValueError):
        radius = float("nan")
    if not (np.isfinite(radius) and radius > 0):
        raise GangmapError(f"planning.plan_hubs: radius_m={radius_m!r} must be a distance in metres above 0, "
                           "e.g. 6000.")
    if capacity is not None and (not isinstance(capacity, (int, np.integer)) or capacity < 1):
        raise GangmapError(f"planning.plan_hubs: capacity={capacity!r} must be a whole number of schools "
                           "(1 or more) or None.")
    if not 0 <= number_or_nan(high_need_quantile) <= 1:
        raise InputError(f"planning.plan_hubs: high_need_quantile={high_need_quantile!r} must be between 0 and 1 "
                         "(0.75: the schools above the 75th percentile of need are 'high need').")
    return radius


@dataclass
class _Setup:
    """The schools, the candidate columns and the existing hubs, ready for the model."""

    sch: pd.DataFrame
    source: str
    D: np.ndarray
    groups: list          # (hub name or "", member rows, site row)
    cols: np.ndarray      # school row of each candidate column
    fixed_cols: list
    member_of: dict


def _groups(existing_urns: Any, pos: dict, D: np.ndarray, source: str) -> list[tuple[str, list[int], int]]:
    if isinstance(existing_urns, str):
        existing_urns = [existing_urns]
    grouped = isinstance(existing_urns, Mapping)
    items = [(str(k), [str(u) for u in v]) for k, v in existing_urns.items()] if grouped else \
        [(str(u), [str(u)]) for u in (existing_urns or [])]
    unknown = sorted({u for _, us in items for u in us if u not in pos})
    if unknown:
        raise InputError(f"planning.plan_hubs: existing hub URN(s) {some(unknown)} are not in the schools file "
                         f"{source} (or have no coordinates). Check the URNs against the schools file.")
    out = []
    for name, us in items:
        rows = [pos[u] for u in dict.fromkeys(us)]
        if not rows:
            raise InputError(f"planning.plan_hubs: existing hub {name!r} lists no schools.")
        site = rows[int(np.argmin(D[np.ix_(rows, rows)].sum(axis=1)))] if grouped else rows[0]
        out.append((name if grouped else "", rows, site))
    return out


def _setup(schools, existing_urns, candidates, p, notes) -> _Setup:
    from scipy.spatial.distance import cdist

    sch, n1, source = schools_frame(schools)
    notes += n1
    pos = {u: i for i, u in enumerate(sch["urn"])}
    xy = sch[["x", "y"]].to_numpy(dtype=float)
    D = cdist(xy, xy)
    groups = _groups(existing_urns, pos, D, source)
    allowed = np.ones(len(sch), dtype=bool)
    if candidates is not None:
        cands = [str(c) for c in candidates]
        bad = [c for c in cands if c not in pos]
        if bad:
            raise InputError(f"planning.plan_hubs: candidate URN(s) {some(bad)} are not in the schools file "
                             f"{source} (or have no coordinates).")
        allowed[:] = False
        allowed[[pos[c] for c in cands]] = True
    fixed = sorted({site for _, _, site in groups})
    allowed[fixed] = True
    cols = np.flatnonzero(allowed)
    if len(fixed) + p > len(cols):
        raise GangmapError(f"planning.plan_hubs: {p} new hub(s) + {len(fixed)} existing need more candidate "
                           f"sites than the {len(cols)} available; lower p or add candidates.")
    col_of = {int(r): j for j, r in enumerate(cols)}
    member_of: dict[int, int] = {}
    for name, rows, site in groups:
        for r in rows if name else ():  # a hub given by its schools keeps them; one given by its site has none
            member_of.setdefault(r, site)
    return _Setup(sch, source, D, groups, cols, [col_of[s] for s in fixed], member_of)


def _instance(st: _Setup, need: np.ndarray, radius: float, capacity: int | None) -> Instance:
    """Reach (members always reach their hub) and the capacity left once members are served, nearest first."""
    cost = st.D[:, st.cols].copy()
    col_of = {int(r): j for j, r in enumerate(st.cols)}
    for _, rows, site in st.groups:
        cost[rows, col_of[site]] = 0.0
    reach = cost <= radius
    cap = np.full(len(st.cols), np.inf if capacity is None else float(capacity))
    served = np.zeros(len(need), dtype=bool)
    for _, rows, site in st.groups:
        j = col_of[site]
        for r in sorted((r for r in rows if not served[r] and st.member_of.get(r) == site),
                        key=lambda r: st.D[r, site]):
            if cap[j] >= 1:
                served[r] = True
                cap[j] -= 1
    return Instance(need=need, reach=reach, distance=st.D[:, st.cols], capacity=cap,
                    fixed=tuple(st.fixed_cols), served=served)


def plan_hubs(schools: Any, demand: Any, *, existing_urns: Any = (), p: int, radius_m: float,
              capacity: int | None = 47, solver: Any = None, candidates: Sequence[str] | None = None,
              area: Any = None, high_need_quantile: float = 0.75) -> HubPlan:
    """Site ``p`` new hubs at schools so that the most need is *served* (capacitated maximal covering).

    Model
    -----
    *Demand points* are the schools, weighted by ``demand``. *Candidate
    sites* are the schools (or ``candidates``). A hub can serve a school
    within ``radius_m`` metres (straight line, British National Grid), each
    school is served by at most one hub, and a hub serves at most
    ``capacity`` schools. The existing hubs are fixed; ``p`` hubs are added
    so that the need served is as large as possible, solved exactly
    (:mod:`gangmap.planning.covering`: a MILP with CBC, bundled with PuLP < 4;
    ``solver`` may be any PuLP solver). ``capacity=None`` means unlimited,
    which is the classic maximal covering location problem. Several site
    sets can be optimal: compare objectives.

    Existing hubs
    -------------
    ``existing_urns`` is a list of school URNs, each the site of one existing
    hub, or a dict ``{hub name: [URNs of the schools it serves]}`` (like the
    47 schools of a pilot hub). A hub given by its schools is sited at its
    *medoid* (the member school with the least total distance to the others);
    its members are within its reach whatever the distance, and it keeps
    serving them (nearest first, up to its capacity); the model assigns
    every other school.

    Greedy and gap
    --------------
    ``greedy`` adds, ``p`` times, the candidate that serves the most unserved
    need (its ``capacity`` neediest unserved schools in reach); ``gap`` is the
    optimum minus the greedy answer (never negative). ``marginal`` orders the
    new sites by the need each adds to the best assignment, in turn.

    Parameters
    ----------
    schools : path, DataFrame, Intake or GeoDataFrame
        GIAS-style schools (``URN``, ``EstablishmentName``, ``Easting``,
        ``Northing``) or a GeoDataFrame of school points with a ``URN`` column.
    demand : referrals, Series or SchoolNeed
        Per-school referrals (a file, DataFrame or Intake): a **count**; a
        Series of need indexed by URN; or :func:`school_need`.
    existing_urns : list of URN, or dict {name: [URN, ...]}
    p : int
        Number of NEW hubs.
    radius_m : float
    capacity : int or None, default 47
        Schools one hub can serve (the pilot hub served 47).
    solver : pulp solver, optional
    candidates : list of URN, optional
    area : AreaTable, GeoDataFrame, GeoSeries or geometry, optional
        The county, to clip the catchment circles to.
    high_need_quantile : float, default 0.75
        Between 0 and 1: schools not covered whose need is above this
        quantile of the schools' need are listed as ``uncovered_high_need``.

    Examples
    --------
    >>> s = pd.DataFrame({"URN": ["1", "2", "3", "4"], "Easting": [0, 1000, 5000, 6000],
    ...                   "Northing": [0, 0, 0, 0]})
    >>> plan = plan_hubs(s, pd.Series([1, 1, 5, 4], index=["1", "2", "3", "4"]),
    ...                  existing_urns=["1"], p=1, radius_m=1500, capacity=None)
    >>> plan.served_before, plan.need_served, plan.gap.absolute
    (2.0, 11.0, 0.0)
    >>> plan_hubs(s, pd.Series([1, 1, 5, 4], index=["1", "2", "3", "4"]), existing_urns=["1"], p=1,
    ...           radius_m=1500, capacity=1).need_served    # one school per hub: 1 + 5
    6.0
    """
    radius = _check_plan_args(p, radius_m, capacity, high_need_quantile)
    notes: list[str] = []
    st = _setup(schools, existing_urns, candidates, p, notes)
    dem = demand_of(demand, st.sch["urn"], notes)
    inst = _instance(st, dem.need, radius, capacity)
    sol = solve(inst, int(p), solver=solver)
    new_cols = tuple(j for j in sol.open if j not in st.fixed_cols)
    g_sites, g_sol = greedy(inst, int(p), np.ones(len(st.cols), dtype=bool))
    return _assemble(st, inst, dem, sol, new_cols, g_sites, g_sol, radius, capacity, int(p), area,
                     high_need_quantile, notes)


def _marginal(st: _Setup, seq, start: float, total: float) -> pd.DataFrame:
    rows, cum = [], start
    for k, (j, gain) in enumerate(seq, start=1):
        cum += gain
        r = int(st.cols[j])
        rows.append({"order": k, "hub_urn": st.sch["urn"].iloc[r], "school_name": st.sch["school_name"].iloc[r],
                     "gain": gain, "need_served": cum, "share_served": cum / total if total > 0 else np.nan})
    return pd.DataFrame(rows, columns=["order", "hub_urn", "school_name", "gain", "need_served", "share_served"])


def _sites(st: _Setup, marginal: pd.DataFrame) -> pd.DataFrame:
    sch, rows = st.sch, []
    name_of = {site: nm for nm, _, site in st.groups}
    members_of = {site: len(r) for _, r, site in st.groups}
    for j in st.fixed_cols:
        r = int(st.cols[j])
        rows.append({"hub_urn": sch["urn"].iloc[r], "hub_name": name_of.get(r) or f"hub at {sch['urn'].iloc[r]}",
                     "school_name": sch["school_name"].iloc[r], "status": "existing", "order": 0, "gain": np.nan,
                     "x": sch["x"].iloc[r], "y": sch["y"].iloc[r], "members": members_of.get(r, 0)})
    pos = {u: i for i, u in enumerate(sch["urn"])}
    for _, m in marginal.iterrows():
        r = pos[m["hub_urn"]]
        rows.append({"hub_urn": m["hub_urn"], "hub_name": f"new hub {int(m['order'])}",
                     "school_name": m["school_name"], "status": "new", "order": int(m["order"]), "gain": m["gain"],
                     "x": sch["x"].iloc[r], "y": sch["y"].iloc[r], "members": 0})
    return pd.DataFrame(rows, columns=["hub_urn", "hub_name", "school_name", "status", "order", "gain", "x", "y",
                                       "members"])


def _assignment(st: _Setup, inst: Instance, dem: _Demand, hub_col: np.ndarray, sites: pd.DataFrame,
                opened: tuple) -> pd.DataFrame:
    sch, n = st.sch, len(st.sch)
    hub_row = np.where(hub_col >= 0, st.cols[np.maximum(hub_col, 0)], -1)
    name_by_urn = dict(zip(sites["hub_urn"], sites["hub_name"]))
    urns = sch["urn"].to_numpy()
    in_reach = inst.reach[:, list(opened)].sum(axis=1) if opened else np.zeros(n, dtype=int)
    status = np.where(hub_row >= 0, "served", np.where(in_reach > 0, "over capacity", "not covered"))
    area = dem.area_codes if dem.area_codes is not None else sch["ward_code"].to_numpy()
    return pd.DataFrame({
        "urn": urns, "school_name": sch["school_name"].to_numpy(), dem.geography.code: area,
        "need": dem.need if not dem.is_count else dem.need.astype("int64"),
        "hub_urn": pd.array([urns[h] if h >= 0 else pd.NA for h in hub_row], dtype="string"),
        "hub_name": pd.array([name_by_urn[urns[h]] if h >= 0 else pd.NA for h in hub_row], dtype="string"),
        "distance_m": [float(st.D[i, h]) if h >= 0 else np.nan for i, h in enumerate(hub_row)],
        "hubs_in_reach": in_reach.astype(int), "status": status})


def _with_members(st: _Setup, inst: Instance, hub_of: np.ndarray) -> np.ndarray:
    """The assignment with the members an existing hub keeps serving."""
    out = hub_of.copy()
    col_of = {int(r): j for j, r in enumerate(st.cols)}
    for i in np.flatnonzero(inst.served):
        out[i] = col_of[st.member_of[int(i)]]
    return out


def _covered(inst: Instance, cols) -> float:
    """Need of the schools within reach of any of ``cols``."""
    return float(inst.need[inst.reach[:, list(cols)].any(axis=1)].sum()) if len(cols) else 0.0


def _assemble(st, inst, dem, sol, new_cols, g_sites, g_sol, radius, capacity, p, area, quantile, notes) -> HubPlan:
    members_need = float(dem.need[inst.served].sum())
    need_total = float(dem.need.sum())
    served_before = assign(inst, inst.fixed).served_need + members_need
    need_served = sol.served_need + members_need
    marginal = _marginal(st, order_by_gain(inst, new_cols), served_before, need_total)
    g_need = g_sol.served_need + members_need
    greedy_res = GreedyResult(sites=[st.sch["urn"].iloc[int(st.cols[j])] for j, _ in g_sites], need=g_need,
                              marginal=_marginal(st, g_sites, served_before, need_total))
    gap_abs = max(0.0, need_served - g_need)
    sites = _sites(st, marginal)
    assignment = _assignment(st, inst, dem, _with_members(st, inst, sol.hub_of), sites, sol.open)
    urns = st.sch["urn"]
    reach = {urns.iloc[int(st.cols[j])]: set(urns[inst.reach[:, j]]) for j in sol.open}
    q = float(np.quantile(dem.need, quantile)) if len(dem.need) else 0.0
    over = assignment[assignment["status"] == "over capacity"].reset_index(drop=True)
    unc = assignment[(assignment["status"] == "not covered") & (assignment["need"] > q)]
    unc = unc.sort_values("need", ascending=False, kind="stable").reset_index(drop=True)
    hubs, catch, unc_g, note = _hub_layers(sites, st, radius, area, unc)
    plan = HubPlan(sites=sites, assignment=assignment, need_total=need_total, need_served=need_served,
                   served_before=served_before, need_before=_covered(inst, inst.fixed),
                   need_after=_covered(inst, sol.open),
                   objective=need_served, marginal=marginal, greedy=greedy_res,
                   gap=Gap(gap_abs, 100 * gap_abs / need_served if need_served > 0 else 0.0), over_capacity=over,
                   uncovered_high_need=unc, high_need_threshold=q, hubs=hubs, catchments=catch, uncovered=unc_g,
                   radius_m=radius, capacity=capacity, p=p, need_label=dem.label, need_is_count=dem.is_count,
                   need_sources=tuple(dem.sources), area_counts=dem.area_counts, reach=reach,
                   geography=dem.geography, catchment_note=note, notes=notes, need_table=dem.table,
                   need_measure=dem.measure)
    plan.message = _message(plan)
    return plan


def _message(plan: HubPlan) -> str:
    total = plan.need_total
    share = (lambda x: f"{100 * x / total:.0f}%") if total > 0 else (lambda x: "-")
    names = ", ".join(f"{r['school_name']} ({r['hub_urn']})" for _, r in plan.marginal.iterrows()) or "none"
    limit = f"at most {plan.capacity} schools per hub" if plan.capacity is not None else "no capacity limit"
    msg = (f"{plan.p} new hub(s) at {names} serve {share(plan.need_served)} of the {plan.need_label} "
           f"(up from {share(plan.served_before)}; {limit}, within {plan.radius_m / 1000:g} km); "
           f"{share(plan.need_after)} is within reach of a hub. The greedy answer serves "
           f"{share(plan.greedy.need)} (gap {plan.gap}).")
    if len(plan.over_capacity):
        msg += f" {len(plan.over_capacity)} school(s) in reach are not served: their hubs are full."
    return msg


def _clip_shape(area):
    import geopandas as gpd
    import shapely

    if area is None:
        return None
    if isinstance(area, AreaTable):
        area = area.frame
    if isinstance(area, (gpd.GeoDataFrame, gpd.GeoSeries)):
        a = area.to_crs(WORK_CRS) if area.crs is not None else area
        return shapely.union_all(np.asarray(a.geometry if isinstance(a, gpd.GeoDataFrame) else a))
    return area


def _hub_layers(sites: pd.DataFrame, st: _Setup, radius: float, area: Any, unc: pd.DataFrame):
    import geopandas as gpd
    import shapely

    pts = gpd.points_from_xy(sites["x"], sites["y"])
    hubs = gpd.GeoDataFrame(sites.drop(columns=["x", "y"]).copy(), geometry=pts, crs=WORK_CRS)
    clip = _clip_shape(area)
    pos = {u: i for i, u in enumerate(st.sch["urn"])}
    members = {site: rows for _, rows, site in st.groups}
    xy = st.sch[["x", "y"]].to_numpy(dtype=float)
    geoms = []
    for u, pt in zip(sites["hub_urn"], pts):
        g = pt.buffer(radius, 32)
        rows = members.get(pos[u], [])
        if len(rows) > 1:
            g = g.union(shapely.MultiPoint(xy[rows]).convex_hull.buffer(250))
        geoms.append(g.intersection(clip) if clip is not None else g)
    catch = gpd.GeoDataFrame(sites[["hub_urn", "hub_name", "status", "order"]].copy(), geometry=geoms, crs=WORK_CRS)
    note = (f"circle of {radius:g} m round each hub" + (" clipped to the area" if clip is not None else "")
            + "; an existing hub's circle is joined with the hull of its member schools")
    rows = [pos[u] for u in unc["urn"]]
    unc_g = gpd.GeoDataFrame(unc.copy(), geometry=gpd.points_from_xy(xy[rows, 0] if rows else [],
                                                                     xy[rows, 1] if rows else []), crs=WORK_CRS)
    return hubs, catch, unc_g, note
