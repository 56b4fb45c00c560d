"""Maps with time: one offline page whose slider and play button step through the periods.

"Is it working, and where is it getting worse?" is a question about change,
and a separate map per month, each with its own class breaks, cannot answer
it: the same colour would mean 10 in March and 40 in April. Here every
period is drawn with **one set of classes**, computed from the safe values of
all periods together (:func:`time_layer`), so one legend serves them all and
a colour means the same thing in every period.

* :func:`time_map` makes the page: the areas, a :class:`TimeLayer` (values
  and class codes per period, serialised compactly: one list per period) and
  the district outlines. The slider (arrow keys, Home, End), the play button
  (Space, Enter) and the period label are keyboard accessible; the tooltip
  shows the shown period's value; the header, and the printed page, say which
  period is shown.
* :func:`small_multiples` draws every period side by side as one PNG for
  slides, with the same classes and colours, the protective marking and the
  provenance footer.

The tables must come already made safe **together** (the pack makes them with
:func:`gangmap.disclosure.protect_linked` and :func:`~gangmap.disclosure.periods`
links), so that no difference between periods, or between a period and the
whole, gives a hidden count away. This module only ever sees SafeTables; it
checks that they are of the same areas, policy and marking.

Examples
--------
>>> linked = disclosure.protect_linked(raw_by_month, [disclosure.periods("all", months)])  # doctest: +SKIP
>>> doc = maps.time_map({m: linked[m] for m in months}, "reports", title="Reports by month")  # doctest: +SKIP
>>> doc.save("out/reports_by_month.html")  # doctest: +SKIP
>>> maps.small_multiples({m: linked[m] for m in months}, "reports", "out/reports_by_month.png")  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from ..disclosure import SafeTable, require_safe
from ..errors import GangmapError
from .classify import NO_DATA, SUPPRESSED, Classes
from .layers import (
    AreaLayer,
    Layer,
    check_published,
    check_value_column,
    class_legend,
    classes_of,
    display_values,
    district_outlines,
    suppressed_of,
)
from .naming import area_columns, geography_of, layer_title
from .topology import Encoded

__all__ = ["TimeLayer", "time_layer", "time_map", "small_multiples", "period_provenance", "align_periods",
           "PLAY_INTERVAL_MS"]

#: Time per period when playing (ms).
PLAY_INTERVAL_MS = 1200


@dataclass(frozen=True, kw_only=True, eq=False)
class TimeLayer(Layer):
    """A choropleth of one safe column over several periods, with one set of classes for all of them.

    ``values[p][i]`` is the text shown for area ``i`` in period ``p``;
    ``classes.assignment`` holds the class of every (period, area), period by
    period (``len(periods) * len(codes)`` codes from
    :mod:`gangmap.maps.classify`). Make it with :func:`time_layer`.
    """

    kind: ClassVar[str] = "time"
    column: str
    codes: tuple[str, ...]
    periods: tuple[str, ...]
    values: tuple[tuple[str, ...], ...]
    classes: Classes
    extra: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = ()
    start: int = -1
    interval_ms: int = PLAY_INTERVAL_MS
    period_title: str = "Period"
    visible: bool = True
    #: The SafeTable of each period: a map takes the layer only if every figure is published by them.
    sources: tuple[SafeTable, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "codes", tuple(map(str, self.codes)))
        object.__setattr__(self, "periods", tuple(map(str, self.periods)))
        object.__setattr__(self, "values", tuple(tuple(map(str, v)) for v in self.values))
        n, p, what = len(self.codes), len(self.periods), f"layer {self.name!r}"
        if not p or len(set(self.periods)) != p:
            raise GangmapError(f"{what}: periods must be distinct labels, at least one; got {list(self.periods)}.")
        if len(self.values) != p or any(len(v) != n for v in self.values):
            raise GangmapError(f"{what}: {p} periods of {n} areas need {p} lists of {n} values each.")
        a = np.asarray(self.classes.assignment)
        ok = ((a >= 0) & (a < self.classes.k)) | (a == SUPPRESSED) | (a == NO_DATA)
        if a.shape != (p * n,) or not ok.all():
            raise GangmapError(f"{what}: the classes must give one class code per period and area "
                               f"({p} x {n}), each one of the {self.classes.k} classes or suppressed or no data.")
        start = self.start + p if self.start < 0 else self.start
        if not 0 <= start < p:
            raise GangmapError(f"{what}: start={self.start} is not one of the {p} periods.")
        object.__setattr__(self, "start", start)
        if not (isinstance(self.interval_ms, int) and self.interval_ms > 0):
            raise GangmapError(f"{what}: interval_ms must be a positive whole number of milliseconds.")

    def check_against(self, safe: SafeTable) -> None:
        """Each period's values, tooltips and hidden classes must be its own SafeTable's (``sources``)."""
        if len(self.sources) != len(self.periods):
            raise GangmapError(f"layer {self.name!r}: a time layer needs the SafeTable of each of its "
                               f"{len(self.periods)} periods; make it with maps.time_layer(safes_by_period, column).")
        for p, table in enumerate(self.sources):
            if list(area_columns(table)) and list(table.frame[area_columns(table)[0]].astype(str)) != list(self.codes):
                raise GangmapError(f"layer {self.name!r}: period {self.periods[p]!r} is of other areas.")
            check_published(f"{self.name}, {self.periods[p]}", table, self.column, self.values[p],
                            [v[p] for _, v in self.extra], self.assignment()[p])

    def assignment(self) -> np.ndarray:
        """Class codes as a (periods, areas) array."""
        return np.asarray(self.classes.assignment).reshape(len(self.periods), len(self.codes))

    def at(self, period: str | int | None = None) -> AreaLayer:
        """The layer of one period (default: the one shown first): same classes, colours and legend."""
        p = self.start if period is None else period if isinstance(period, int) else self.periods.index(str(period))
        extra = tuple((nm, v[p]) for nm, v in self.extra)
        return AreaLayer(id=f"{self.id}-{p}", name=f"{self.name}, {self.periods[p]}", visible=True, column=self.column,
                         codes=self.codes, values=self.values[p], classes=replace(self.classes,
                                                                                  assignment=self.assignment()[p]),
                         extra=extra, legend=self.legend)

    def _payload(self, topology: Encoded | None) -> dict:
        out = {"column": self.column, "periods": list(self.periods), "values": [list(v) for v in self.values],
               "cls": self.assignment().tolist(), "colors": list(self.classes.colors), "scheme": self.classes.scheme,
               "bins": list(self.classes.bins), "start": self.start, "interval_ms": self.interval_ms,
               "period_title": self.period_title}
        if self.extra:
            out["extra"] = [{"name": nm, "values": [list(x) for x in v]} for nm, v in self.extra]
        return out


def align_periods(safes_by_period: Mapping[str, SafeTable], column: str) -> dict[str, SafeTable]:
    """The period tables, checked: safe, of the same areas, kinds, policy and marking, with ``column``.

    Returns them in the given order (the periods' order on the slider).
    """
    if not isinstance(safes_by_period, Mapping) or not safes_by_period:
        raise GangmapError("a map with time needs {period label: SafeTable}, at least one period, in order.")
    tables = {str(k): v for k, v in safes_by_period.items()}
    first_key, first = next(iter(tables.items()))
    code = area_columns(first)[0]
    codes = first.frame[code].astype(str).tolist()
    for key, safe in tables.items():
        require_safe(safe, f"a map with time (period {key!r})")
        check_value_column(safe, column)
        if geography_of(safe) != geography_of(first):
            raise GangmapError(f"period {key!r} is of {geography_of(safe).plural}, period {first_key!r} of "
                               f"{geography_of(first).plural}: map one kind of area.")
        mine = safe.frame[code].astype(str).tolist()
        if mine != codes:
            missing, extra = sorted(set(codes) - set(mine))[:3], sorted(set(mine) - set(codes))[:3]
            raise GangmapError(f"period {key!r} does not have the same {geography_of(safe).plural} in the same order "
                               f"as period {first_key!r} (missing {missing}, extra {extra}); make every period's "
                               "table from the same areas.")
        if (safe.policy.name, safe.provenance.marking) != (first.policy.name, first.provenance.marking):
            raise GangmapError(f"period {key!r} was made safe under policy {safe.policy.name!r} "
                               f"({safe.provenance.marking}), period {first_key!r} under {first.policy.name!r} "
                               f"({first.provenance.marking}); make the periods safe together "
                               "(gangmap.disclosure.protect_linked with a periods link).")
    return tables


def period_provenance(tables: Mapping[str, SafeTable]):
    """The provenance of the whole map: the first period's, with the span of periods shown."""
    keys = list(tables)
    span = ", ".join(keys) if len(keys) <= 3 else f"{keys[0]} to {keys[-1]} ({len(keys)} periods)"
    return replace(next(iter(tables.values())).provenance, period=span)


def time_layer(safes_by_period: Mapping[str, SafeTable], column: str, *, name: str | None = None,
               scheme: str = "quantiles", k: int = 5, bins=None, palette: str | None = None, also=(),
               names: dict | None = None, start: int | str = -1, interval_ms: int = PLAY_INTERVAL_MS,
               period_title: str = "Period", note: str | None = None, layer_id: str | None = None) -> TimeLayer:
    """A :class:`TimeLayer` of ``column``: one set of classes from every period's safe values.

    Parameters
    ----------
    safes_by_period : mapping of {period label: SafeTable}
        In slider order (e.g. ``{"2018-01": ..., "2018-02": ...}`` or
        ``{"Before launch": ..., "After launch": ...}``), of the same areas.
    column : str
        A safe value column present in every table.
    scheme, k, bins, palette
        As for :func:`gangmap.maps.area_layer`; the breaks are computed once,
        over all periods' shown values (suppressed and missing values never
        reach the classifier).
    start : int or str
        The period shown first (index or label; default the last).
    """
    tables = align_periods(safes_by_period, column)
    first = next(iter(tables.values()))
    code = area_columns(first)[0]
    values = pd.concat([t.frame[column] for t in tables.values()], ignore_index=True)
    sup = np.concatenate([suppressed_of(t, column) for t in tables.values()])
    cls = classes_of(first, column, values, sup, scheme=scheme, k=k, bins=bins, palette=palette)
    title = name or layer_title(column, first, names)
    extra = tuple((layer_title(a, first, names), tuple(tuple(display_values(t, a)) for t in tables.values()))
                  for a in also if a != column and all(a in t.frame.columns for t in tables.values()))
    periods = list(tables)
    return TimeLayer(id=layer_id or f"time-{column}", name=title, column=column,
                     codes=tuple(first.frame[code].astype(str)), periods=tuple(periods),
                     values=tuple(tuple(display_values(t, column)) for t in tables.values()), classes=cls,
                     extra=extra, start=periods.index(start) if isinstance(start, str) else int(start),
                     interval_ms=int(interval_ms), period_title=period_title,
                     legend=class_legend(first, column, cls, title, note), sources=tuple(tables.values()))


def time_map(safes_by_period: Mapping[str, SafeTable], column: str, *, title: str | None = None, subtitle: str = "",
             scheme: str = "quantiles", k: int = 5, bins=None, palette: str | None = None, names: dict | None = None,
             also=(), start: int | str = -1, interval_ms: int = PLAY_INTERVAL_MS, period_title: str = "Period",
             districts: bool = True, overlays=(), tiles: str | None = None, attribution: str | None = None,
             labels: bool = False, renderer: str = "auto"):
    """One offline HTML map of ``column`` over the periods: a slider, a play button and one legend.

    See :func:`time_layer` for the classes and :func:`gangmap.maps.make_map`
    for ``tiles``, ``attribution``, ``labels`` and ``renderer``;
    ``overlays``: further layers (campaign areas, hubs). The footer gives
    the span of periods; the header and the print say which one is shown.

    Returns
    -------
    MapDocument
    """
    from .document import make_map

    layer = time_layer(safes_by_period, column, scheme=scheme, k=k, bins=bins, palette=palette, also=also,
                       names=names, start=start, interval_ms=interval_ms, period_title=period_title)
    tables = align_periods(safes_by_period, column)
    base = next(iter(tables.values()))
    items: list[Layer] = [layer, *overlays]
    if districts and area_columns(base)[2] is not None:
        items.append(district_outlines(base))
    geo = geography_of(base)
    return make_map(base, items, title=title or f"{layer.name} by {geo.label}", subtitle=subtitle, tiles=tiles,
                    attribution=attribution, labels=labels, renderer=renderer, provenance=period_provenance(tables))


def small_multiples(safes_by_period: Mapping[str, SafeTable], column: str, path: str | Path, *,
                    title: str | None = None, ncols: int | None = None, scheme: str = "quantiles", k: int = 5,
                    bins=None, palette: str | None = None, names: dict | None = None, districts: bool = True,
                    dpi: int = 150, figsize: tuple[float, float] | None = None) -> Path:
    """Every period side by side, one PNG for slides: the classes, colours and legend of :func:`time_map`.

    Stamped with the protective marking and the provenance footer (the span
    of periods). ``ncols`` defaults to a near-square grid.
    """
    from ..export import to_png
    from .static import multiples_figure

    tables = align_periods(safes_by_period, column)
    layer = time_layer(tables, column, scheme=scheme, k=k, bins=bins, palette=palette, names=names)
    base = next(iter(tables.values()))
    overlays = [district_outlines(base)] if districts and area_columns(base)[2] is not None else []
    ncols = ncols or max(1, math.ceil(math.sqrt(len(layer.periods))))
    geo = geography_of(base)
    fig = multiples_figure(base, layer, overlays, title=title or f"{layer.name} by {geo.label}", ncols=ncols,
                           figsize=figsize)
    return to_png(fig, base, path, dpi=dpi, provenance=period_provenance(tables))
