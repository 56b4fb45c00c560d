"""The tables of a pack: every input read and joined once, every filter cut from one cube.

A pack shows the same counts several ways: all categories, one concern, one
period. The first release re-read and re-joined the whole input for every
filtered map and rebuilt the weights and boundary encoding each time. Here
the inputs are read once (:func:`read_inputs`), placed once into an
:class:`~gangmap.joining.AreaCube`, and each *view* (a distinct category and
period filter) is cut from the cube and measured with spatial weights built
once (:func:`measured_views`). :func:`links_of` says how the views' counts
relate, so the disclosure policy can treat the pack as one system.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .config import PackConfig

__all__ = ["ALL", "View", "PackInputs", "read_inputs", "views_of", "view_of", "time_views", "buckets",
           "measured_views", "links_of"]

#: The name of the unfiltered view (all categories, all periods).
ALL = "all"


@dataclass(frozen=True)
class View:
    """One filter of the pack's counts: categories and periods (None: all)."""

    name: str
    category: tuple[str, ...] | None = None
    period: tuple[str, ...] | None = None

    @property
    def label(self) -> str:
        """Words for subtitles: ``"Weapons concern · 2018-03"`` (empty for all)."""
        return " · ".join(", ".join(x) for x in (self.category, self.period) if x)

    def contains(self, other: View) -> bool:
        """Whether every row ``other`` counts is also counted here."""
        return all(mine is None or (theirs is not None and set(theirs) <= set(mine))
                   for mine, theirs in ((self.category, other.category), (self.period, other.period)))


@dataclass
class PackInputs:
    """The inputs of a pack, each read once."""

    areas: Any
    reports: Any
    referrals: Any = None
    schools: Any = None
    population: Any = None
    lsoa: Any = None

    @property
    def files(self) -> list[Path]:
        return [p for p in (self.referrals, self.population) if isinstance(p, Path)]


def read_inputs(cfg: PackConfig) -> PackInputs:
    """Read the areas, reports and schools of ``cfg`` once (the others are read by the join)."""
    from ..io import as_intake, read_areas, reports_input

    areas = read_areas(cfg.input("areas"), level=cfg.geography, gss=cfg.gss)
    schools = cfg.input("schools")
    return PackInputs(areas=areas, reports=reports_input(cfg.input("reports")), referrals=cfg.input("referrals"),
                      schools=as_intake(schools, "schools") if schools is not None else None,
                      population=cfg.input("population"), lsoa=cfg.input("lsoa"))


def _filter_view(spec) -> View:
    name = " · ".join(", ".join(x) if x else f"all {w}" for x, w in
                      ((spec.category, "categories"), (spec.period, "periods")))
    return View(name, spec.category, spec.period)


def buckets(periods: Sequence[str], freq: str) -> dict[str, tuple[str, ...]]:
    """Months grouped for a time map (see :func:`gangmap.joining.period_buckets`: whole quarters only)."""
    from ..joining import period_buckets

    return period_buckets(periods, freq)


def time_views(spec, periods: Sequence[str]) -> dict[str, View]:
    """The views of a time map: one per month or quarter (label -> view)."""
    cat = " · " + ", ".join(spec.category) if spec.category else ""
    return {label: View(f"{label}{cat}", spec.category, months)
            for label, months in buckets(periods, spec.freq).items()}


def views_of(cfg: PackConfig, periods: Sequence[str] = ()) -> dict[str, View]:
    """The distinct filters the maps use, the unfiltered view first (time maps: one per period)."""
    from .time import time_layers

    out = {ALL: View(ALL)}
    for spec in cfg.maps:
        found = list(time_views(spec, periods).values()) if spec.timed else [_filter_view(spec)] if spec.filtered \
            else []
        if not spec.timed and time_layers(spec.layers):  # trends need the periods, made safe with the rest
            found += list(time_views(spec, periods).values())
        for view in found:
            out.setdefault(view.name, view)
    return out


def view_of(cfg: PackConfig, spec) -> str:
    """The name of the view a (not timed) map entry draws."""
    return _filter_view(spec).name if spec.filtered else ALL


def layers_of(cfg: PackConfig, view: str, extra: Iterable[str] = (), periods: Sequence[str] = ()) -> list[str]:
    """Every layer a view needs: those of its maps, plus ``extra`` (planning) for the unfiltered view."""
    out: list[str] = []
    for spec in cfg.maps:
        names = [v.name for v in time_views(spec, periods).values()] if spec.timed else [view_of(cfg, spec)]
        if view in names:
            out += [layer for layer in spec.layers if layer not in out]
    if view == ALL:
        out += [x for x in extra if x not in out]
    return out


def measured_views(cfg: PackConfig, cube, extra: Iterable[str] = ()) -> dict[str, Any]:
    """Each view cut from the cube and measured; spatial weights are built once and shared."""
    from .. import measures
    from .time import time_layers

    views = views_of(cfg, cube.periods())
    base = cube.table()
    w = measures.weights(base) if base.has_geometry and len(base) > 1 else None
    out = {}
    for name, view in views.items():
        table = base if name == ALL else cube.table(category=list(view.category) if view.category else None,
                                                    period=list(view.period) if view.period else None)
        layers = [x for x in layers_of(cfg, name, extra, cube.periods()) if x not in time_layers([x])]
        try:  # layers over time are added later, from the published periods (gangmap.pack.time)
            out[name] = measures.ensure_all(table, layers, w=w)
        except ConfigError as exc:
            raise ConfigError(f"{cfg.path}: {_entries_of(cfg, name, cube.periods())}: {exc}") from None
    return out


def _entries_of(cfg: PackConfig, view: str, periods: Sequence[str]) -> str:
    """The ``[[maps]]`` entries that draw a view, as the config names them ("[[maps]] file = 'overview'")."""
    files = [spec.file for spec in cfg.maps
             if view in ([v.name for v in time_views(spec, periods).values()] if spec.timed else [view_of(cfg, spec)])]
    if not files:
        return "the planning section's layers" if view == ALL else f"the maps of {view!r}"
    return "[[maps]] " + ", ".join(f"file = {f!r}" for f in files)


def filtered_counts(cube: Any) -> dict[str, tuple[str, ...]]:
    """The count columns each filter applies to: ``{"category": (...), "period": (...)}``.

    Referrals usually have no category: a "Weapons concern" view holds every
    referral, so its referrals are not a part of the all-categories view's.
    """
    return {f: tuple(kind for kind, k in cube.kinds.items() if f in k.has) for f in ("category", "period")}


def links_of(views: Mapping[str, View], categories: Iterable[str], periods: Iterable[str],
             counts: Mapping[str, Iterable[str]] | None = None) -> list:
    """How the views' counts relate, as disclosure links (see :mod:`gangmap.disclosure.linked`).

    Views whose filters are disjoint parts of a larger view are linked together
    (their sum is at most the whole, equal when they cover it); a part that
    overlaps its siblings is linked to the whole on its own. ``counts``
    (:func:`filtered_counts`) limits each link to the counts its filters
    apply to; a count the filter does not cut is the same in every view.
    """
    from ..disclosure import Link

    every = {"category": set(categories), "period": set(periods)}
    links = []
    for whole in views.values():
        parts = [v for v in views.values() if v is not whole and whole.contains(v) and v != whole]
        parts = [p for p in parts if not any(q is not p and whole.contains(q) and q.contains(p) and q != p
                                             for q in parts)]  # direct parts only
        for group in _disjoint_groups(parts):
            by = [f for f in ("category", "period") if any(getattr(p, f) != getattr(whole, f) for p in group)]
            columns = None if counts is None else _cut_by(counts, by)
            if columns == ():
                continue  # no count is cut by these filters: nothing adds up
            links.append(Link(whole.name, tuple(p.name for p in group), _covers(whole, group, every),
                              "categories" if any(p.category for p in group) else "periods", columns,
                              groups=any(p.category for p in group)))
    return links


def _cut_by(counts: Mapping[str, Iterable[str]], filters: list[str]) -> tuple[str, ...]:
    """The counts every one of ``filters`` applies to."""
    sets = [tuple(counts.get(f, ())) for f in filters]
    return tuple(c for c in dict.fromkeys(c for s in sets for c in s) if all(c in s for s in sets))


def _disjoint_groups(parts: list[View]) -> list[list[View]]:
    groups: list[list[View]] = []
    for p in parts:
        for g in groups:
            if all(_disjoint(p, q) for q in g):
                g.append(p)
                break
        else:
            groups.append([p])
    return groups


def _disjoint(a: View, b: View) -> bool:
    cats = a.category is not None and b.category is not None and not set(a.category) & set(b.category)
    pers = a.period is not None and b.period is not None and not set(a.period) & set(b.period)
    return bool(cats or pers)


def _covers(whole: View, group: list[View], every: Mapping[str, set]) -> bool:
    """Whether the (disjoint) parts together count every row the whole counts.

    True only when the parts split one dimension (categories or periods) of the
    whole into pieces that add up to all of it, and agree with it on the other.
    """
    splits = 0
    for attr in ("category", "period"):
        values = [getattr(p, attr) for p in group]
        if all(v == getattr(whole, attr) for v in values):
            continue
        if any(v is None for v in values):
            return False
        if set().union(*values) != set(getattr(whole, attr) or every[attr]):
            return False
        splits += 1
    return splits == 1
