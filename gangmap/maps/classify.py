"""Classification and colour: one scheme shared by HTML maps and PNG images.

Class breaks come from mapclassify and are computed from the **safe** values
only (suppressed and missing values are never seen by the classifier). Two
extra classes always exist: suppressed (grey, hatched on the map) and no data
(white).

Palettes are ColorBrewer schemes marked colour-blind safe.

Examples
--------
>>> c = classify([0, 5, 10, 15, 20, 25, 30, float("nan")], scheme="equal_interval", k=3)
>>> c.labels  # whole numbers: classes that do not overlap
['0–10', '11–20', '21–30']
>>> c.assignment.tolist()
[0, 0, 0, 1, 1, 2, 2, -2]
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import mapclassify
import numpy as np
import pandas as pd

from ..errors import GangmapError

SUPPRESSED = -1  # class index of a suppressed value
NO_DATA = -2  # class index of a missing value
SUPPRESSED_COLOR = "#bdbdbd"
NO_DATA_COLOR = "#ffffff"

#: ColorBrewer palettes (colour-blind safe), by number of classes.
PALETTES = {
    "YlOrRd": {
        3: ["#ffeda0", "#feb24c", "#f03b20"],
        4: ["#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"],
        5: ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"],
        6: ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"],
        7: ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"],
        8: ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"],
        9: ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026"],
    },
    "Blues": {
        3: ["#deebf7", "#9ecae1", "#3182bd"],
        4: ["#eff3ff", "#bdd7e7", "#6baed6", "#2171b5"],
        5: ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"],
        6: ["#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c"],
        7: ["#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#084594"],
    },
    "PuRd": {
        3: ["#e7e1ef", "#c994c7", "#dd1c77"],
        4: ["#f1eef6", "#d7b5d8", "#df65b0", "#ce1256"],
        5: ["#f1eef6", "#d7b5d8", "#df65b0", "#dd1c77", "#980043"],
        6: ["#f1eef6", "#d4b9da", "#c994c7", "#df65b0", "#dd1c77", "#980043"],
        7: ["#f1eef6", "#d4b9da", "#c994c7", "#df65b0", "#e7298a", "#ce1256", "#91003f"],
    },
    # Diverging, for ratios around 1 (excess risk).
    "RdBu_r": {
        3: ["#67a9cf", "#f7f7f7", "#ef8a62"],
        4: ["#0571b0", "#92c5de", "#f4a582", "#ca0020"],
        5: ["#0571b0", "#92c5de", "#f7f7f7", "#f4a582", "#ca0020"],
        6: ["#2166ac", "#67a9cf", "#d1e5f0", "#fddbc7", "#ef8a62", "#b2182b"],
        7: ["#2166ac", "#67a9cf", "#d1e5f0", "#f7f7f7", "#fddbc7", "#ef8a62", "#b2182b"],
    },
}

#: Categorical colours for hotspot labels (colour-blind safe pairs).
CATEGORY_COLORS = {
    "HH": "#d7191c", "LL": "#2c7bb6", "HL": "#fdae61", "LH": "#abd9e9",
    "hot": "#d7191c", "cold": "#2c7bb6", "ns": "#f0f0f0", "island": "#ffffff",
}

#: Legend wording for category codes.
CATEGORY_LABELS = {
    "HH": "HH: high, among high neighbours (hotspot)",
    "LL": "LL: low, among low neighbours (coldspot)",
    "HL": "HL: high, among low neighbours",
    "LH": "LH: low, among high neighbours",
    "hot": "Hot spot (Gi*)",
    "cold": "Cold spot (Gi*)",
    "ns": "Not significant",
    "island": "No neighbours (not tested)",
}

SCHEMES = {
    "quantiles": "Quantiles",
    "natural_breaks": "FisherJenks",
    "equal_interval": "EqualInterval",
    "box_plot": "BoxPlot",
    "user_defined": "UserDefined",
}


@dataclass(frozen=True)
class Classes:
    """The result of :func:`classify`: shared by the HTML legend and PNG images."""

    scheme: str
    bins: tuple[float, ...]
    labels: list[str]
    colors: list[str]
    assignment: np.ndarray  # class index per value; SUPPRESSED / NO_DATA for the extra classes

    def color_of(self, i: int) -> str:
        if i == SUPPRESSED:
            return SUPPRESSED_COLOR
        if i == NO_DATA:
            return NO_DATA_COLOR
        return self.colors[i]


def _fmt(v: float, decimals: int = 0) -> str:
    if not np.isfinite(v):
        return "∞" if v > 0 else "−∞"
    return f"{v:,.{decimals}f}"


def _decimals(values) -> int:
    """Decimals for legend labels: whole numbers print as such, others by their size (0 to 3)."""
    v = np.unique(np.asarray(values, dtype=float))
    v = v[np.isfinite(v)]
    if v.size == 0 or np.all(v == np.round(v)):
        return 0
    span = np.max(np.abs(v))
    if span >= 100:
        return 0
    if span >= 10:
        return 1
    gap = np.min(np.diff(v)) if v.size > 1 else span
    return int(min(3, max(1, np.ceil(-np.log10(gap))))) if gap > 0 else 1


def classify(values, *, scheme: str = "quantiles", k: int = 5, bins=None, palette: str = "YlOrRd",
             suppressed=None) -> Classes:
    """Classify safe values into ``k`` classes with a mapclassify scheme.

    Parameters
    ----------
    values : array-like of float
        Safe values; NaN where suppressed or missing.
    scheme : {"quantiles", "natural_breaks", "equal_interval", "box_plot", "user_defined"}
    k : int
        Number of classes (ignored by ``box_plot``; ``user_defined`` uses ``bins``).
    bins : list of float, optional
        Upper bounds of classes for ``user_defined``.
    palette : str
        A key of :data:`PALETTES`.
    suppressed : array-like of bool, optional
        True where a value was suppressed (drawn in the suppressed class);
        other NaN values go to the no-data class.

    Raises
    ------
    GangmapError
        Unknown scheme or palette, or ``user_defined`` without ``bins``.
    """
    if scheme not in SCHEMES:
        raise GangmapError(f"unknown classification scheme {scheme!r}; use one of {list(SCHEMES)}.")
    if palette not in PALETTES:
        raise GangmapError(f"unknown palette {palette!r}; use one of {list(PALETTES)}.")
    v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    sup = np.zeros(len(v), bool) if suppressed is None else np.asarray(suppressed, bool)
    ok = np.isfinite(v) & ~sup
    assignment = np.where(sup, SUPPRESSED, NO_DATA).astype(int)
    shown = v[ok]
    if shown.size == 0:
        return Classes(scheme, (), [], [], assignment)
    if scheme == "user_defined":
        if not bins:
            raise GangmapError("scheme 'user_defined' needs bins=[upper bounds], e.g. bins=[5, 10, 20].")
        cls = mapclassify.UserDefined(shown, bins=list(bins))
    elif scheme == "box_plot":
        cls = mapclassify.BoxPlot(shown)
    else:
        kk = int(min(k, max(1, len(np.unique(shown)))))
        with warnings.catch_warnings():  # "not enough unique values": empty classes are dropped below
            warnings.simplefilter("ignore", UserWarning)
            cls = getattr(mapclassify, SCHEMES[scheme])(shown, k=kk) if kk > 1 else \
                mapclassify.UserDefined(shown, bins=[shown.max()])
    edges = np.asarray(cls.bins, dtype=float)
    yb = np.asarray(cls.yb, dtype=int)
    n = len(edges)
    pal = PALETTES[palette]
    if n > max(pal):
        raise GangmapError(f"{n} classes is more than palette {palette!r} has ({max(pal)}); use fewer classes.")
    colors = pal[n] if n >= 3 else [pal[3][1]] if n == 1 else [pal[3][0], pal[3][2]]
    lows = np.r_[shown.min(), edges[:-1]]
    nd = _decimals(np.r_[lows, edges])
    if np.all(shown == np.round(shown)) and scheme != "box_plot":
        # Counts: whole-number classes that do not overlap ("11–15", not "10.5–15.0").
        his = np.floor(edges)
        los = np.r_[shown.min(), his[:-1] + 1]
        labels = [_fmt(lo) if lo == hi else f"{_fmt(lo)}–{_fmt(hi)}" for lo, hi in zip(los, his)]
    else:
        labels = [f"{_fmt(lo, nd)}–{_fmt(hi, nd)}" for lo, hi in zip(lows, edges)]
    if scheme == "box_plot":  # bins: lower fence, Q1, median, Q3, upper fence[, max]
        names = ["low outlier", "to 25th pct", "25th pct–median", "median–75th pct", "75th pct–upper fence",
                 "high outlier"]
        labels = [f"{nm} (≤ {_fmt(hi, nd)})" for nm, hi in zip(names, edges)]
    keep = np.unique(yb)  # drop classes no value falls in (e.g. no low outliers)
    remap = -np.ones(n, int)
    remap[keep] = np.arange(keep.size)
    yb = remap[yb]
    edges, labels, colors = edges[keep], [labels[i] for i in keep], [colors[i] for i in keep]
    assignment[ok] = yb
    return Classes(scheme, tuple(float(e) for e in edges), labels, list(colors), assignment)


def categorical(values, suppressed=None) -> Classes:
    """Classes for categorical labels (e.g. hotspot clusters HH/LL/HL/LH/ns)."""
    s = pd.Series(values, dtype="object")
    sup = np.zeros(len(s), bool) if suppressed is None else np.asarray(suppressed, bool)
    present = [c for c in CATEGORY_COLORS if c in set(s.dropna())]
    others = sorted(set(s.dropna()) - set(present), key=str)
    cats = present + others
    extra = ["#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d"]
    colors = [CATEGORY_COLORS.get(c, extra[i % len(extra)]) for i, c in enumerate(cats)]
    idx = {c: i for i, c in enumerate(cats)}
    assignment = np.array([SUPPRESSED if sp else idx.get(v, NO_DATA) if pd.notna(v) else NO_DATA
                           for v, sp in zip(s, sup)], dtype=int)
    return Classes("categorical", (), [CATEGORY_LABELS.get(str(c), str(c)) for c in cats], colors, assignment)
