"""Classification and colour: one scheme shared by HTML maps, PNG images and previews.

Class breaks come from mapclassify and are computed from the **safe** values
only (suppressed and missing values are never seen by the classifier). Two
extra classes always exist: suppressed (grey, hatched on the map) and no data
(white). Their class codes (:data:`SUPPRESSED`, :data:`NO_DATA`) are defined
here and nowhere else: the HTML viewer reads them from the map's data
(:data:`CLASS_CODES`), so no number is repeated in JavaScript.

Legends say what is on the map, honestly:

* a class is labelled with the lowest and highest value that falls in it, so
  two classes never share an edge ("4.2–9.8", then "10.1–15.0": never 9.8 in
  both), and a class of rounded counts reads "10–25", not "1–25";
* with ``zero_class=True`` (counts under a policy that shows 0 but hides
  1–7) zero is a class of its own, so a shown class never spans the hidden
  range ("0 | 10–25 | ...", never "0–10" beside "1–7 (suppressed)");
* when fewer classes come out than were asked for, :attr:`Classes.note`
  says why (too few distinct values, tied quantiles, empty classes).

Palettes are ColorBrewer schemes marked colour-blind safe.

Examples
--------
>>> c = classify([0, 5, 10, 15, 20, 25, 30, float("nan")], scheme="equal_interval", k=3)
>>> c.labels  # the values each class holds: no shared edges
['0–10', '15–20', '25–30']
>>> c.assignment.tolist()
[0, 0, 0, 1, 1, 2, 2, -2]
>>> classify([0, 0, 10, 15, 40, 60], k=3, zero_class=True).labels
['0', '10–15', '40–60']
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from ..errors import GangmapError

SUPPRESSED = -1  #: class code of a suppressed value
NO_DATA = -2  #: class code of a missing value
#: The extra class codes, as the viewer reads them from the map's data.
CLASS_CODES = MappingProxyType({"suppressed": SUPPRESSED, "nodata": NO_DATA})
SUPPRESSED_COLOR = "#bdbdbd"
NO_DATA_COLOR = "#ffffff"
NO_DATA_LABEL = "No data"

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
    # emerging hotspots (ArcGIS Pro's categories): reds for hot, blues for cold, grey for none
    "new hot spot": "#fee5d9", "consecutive hot spot": "#fcbba1", "intensifying hot spot": "#a50f15",
    "persistent hot spot": "#de2d26", "diminishing hot spot": "#fc9272", "sporadic hot spot": "#fb6a4a",
    "oscillating hot spot": "#ef3b2c", "historical hot spot": "#fff5f0",
    "new cold spot": "#deebf7", "consecutive cold spot": "#c6dbef", "intensifying cold spot": "#08519c",
    "persistent cold spot": "#3182bd", "diminishing cold spot": "#9ecae1", "sporadic cold spot": "#6baed6",
    "oscillating cold spot": "#4292c6", "historical cold spot": "#f7fbff",
    "no pattern detected": "#f0f0f0",
    # trends
    "rising": "#d7301f", "falling": "#2171b5", "no clear trend": "#f0f0f0", "too few periods": "#ffffff",
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

_BOX_NAMES = ["low outlier", "to 25th pct", "25th pct–median", "median–75th pct", "75th pct–upper fence",
              "high outlier"]


@dataclass(frozen=True)
class Classes:
    """The result of :func:`classify`: shared by the HTML legend, PNG images and previews.

    Attributes
    ----------
    scheme : str
    bins : tuple of float
        Upper edge of each shown class (as mapclassify gives it).
    labels : list of str
        Legend text of each shown class: the lowest to highest value in it.
    colors : list of str
        One colour per shown class.
    assignment : ndarray of int
        Class of each value: ``0..len(colors)-1``, :data:`SUPPRESSED` or :data:`NO_DATA`.
    note : str or None
        Why fewer classes were drawn than asked for (None when as asked).
    """

    scheme: str
    bins: tuple[float, ...]
    labels: list[str]
    colors: list[str]
    assignment: np.ndarray
    note: str | None = None

    def color_of(self, i: int) -> str:
        if i == SUPPRESSED:
            return SUPPRESSED_COLOR
        if i == NO_DATA:
            return NO_DATA_COLOR
        return self.colors[i]

    @property
    def k(self) -> int:
        """Number of shown classes."""
        return len(self.colors)


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


def _down(v: float, d: int) -> float:
    """``v`` rounded down to ``d`` decimals (values already on that grid stay put)."""
    return math.floor(v * 10 ** d + 1e-9) / 10 ** d if np.isfinite(v) else v


def _up(v: float, d: int) -> float:
    return math.ceil(v * 10 ** d - 1e-9) / 10 ** d if np.isfinite(v) else v


def range_labels(lows, highs) -> list[str]:
    """``"lo–hi"`` labels (``"lo"`` when equal) that hold every value of their class.

    The low end is rounded down and the high end up, with just enough
    decimals that no two neighbouring classes print the same (or an
    overlapping) edge.

    Examples
    --------
    >>> range_labels([1.0, 9.84], [9.81, 15.0])
    ['1.00–9.81', '9.84–15.00']
    >>> range_labels([1.34], [1.775])
    ['1.3–1.8']
    """
    lows, highs = np.asarray(lows, float), np.asarray(highs, float)
    nd = _decimals(np.r_[lows, highs])
    for d in range(nd, 7):
        nd = d
        if all(_up(highs[i], d) < _down(lows[i + 1], d) for i in range(len(lows) - 1)):
            break
    out = []
    for lo, hi in zip(lows, highs):
        a, b = _fmt(_down(lo, nd), nd), _fmt(_up(hi, nd), nd)
        out.append(a if a == b else f"{a}–{b}")
    return out


def _mapclassify(shown: np.ndarray, scheme: str, k: int, bins):
    """Upper edges and class of each value, from mapclassify."""
    import mapclassify

    if scheme == "user_defined":
        if not bins:
            raise GangmapError("scheme 'user_defined' needs bins=[upper bounds], e.g. bins=[5, 10, 20].")
        edges = sorted(float(b) for b in bins)
        if edges[-1] < shown.max():
            edges.append(float(shown.max()))
        cls = mapclassify.UserDefined(shown, bins=edges)
    elif scheme == "box_plot":
        cls = mapclassify.BoxPlot(shown)
    else:
        kk = int(min(k, len(np.unique(shown))))
        with warnings.catch_warnings():  # "not enough unique values": empty classes are dropped later
            warnings.simplefilter("ignore", UserWarning)
            cls = getattr(mapclassify, SCHEMES[scheme])(shown, k=kk) if kk > 1 else \
                mapclassify.UserDefined(shown, bins=[shown.max()])
    return np.asarray(cls.bins, dtype=float), np.asarray(cls.yb, dtype=int)


def _shortfall(scheme: str, k: int, got: int, shown: np.ndarray, zero: bool) -> str | None:
    """Why ``got`` classes were drawn although ``k`` were asked for (None if not fewer)."""
    if scheme in ("box_plot", "user_defined") or got >= k:
        return None
    distinct = len(np.unique(shown))
    if distinct < k:
        why = f"the shown values take only {distinct} different value{'s' if distinct != 1 else ''}"
        if got < distinct:
            why += (", and many areas share a value, so quantile edges coincide" if scheme == "quantiles"
                    else ", and the scheme left some classes empty")
    elif scheme == "quantiles":
        why = "many areas share the same value, so some quantile edges coincide"
    else:
        why = "the scheme left some classes empty"
    extra = " (0 is a class of its own)" if zero else ""
    return f"{got} classes, not the {k} asked for: {why}{extra}."


def _check(scheme: str, palette: str, k: int) -> None:
    if scheme not in SCHEMES:
        raise GangmapError(f"unknown classification scheme {scheme!r}; use one of {list(SCHEMES)}.")
    if palette not in PALETTES:
        raise GangmapError(f"unknown palette {palette!r}; use one of {list(PALETTES)}.")
    if not 1 <= int(k) <= max(PALETTES[palette]):
        raise GangmapError(f"k={k} classes: use 1 to {max(PALETTES[palette])} with palette {palette!r}.")


def _palette(palette: str, n: int) -> list[str]:
    pal = PALETTES[palette]
    if n > max(pal):
        raise GangmapError(f"{n} classes is more than palette {palette!r} has ({max(pal)}); use fewer classes.")
    return list(pal[n] if n >= 3 else [pal[3][1]] if n == 1 else [pal[3][0], pal[3][2]])


def classify(values, *, scheme: str = "quantiles", k: int = 5, bins=None, palette: str = "YlOrRd",
             suppressed=None, zero_class: bool = False) -> Classes:
    """Classify safe values into ``k`` classes with a mapclassify scheme.

    Parameters
    ----------
    values : array-like of float
        Safe values; NaN where suppressed or missing.
    scheme : {"quantiles", "natural_breaks", "equal_interval", "box_plot", "user_defined"}
    k : int
        Number of classes (ignored by ``box_plot``; ``user_defined`` uses ``bins``).
        Fewer come out when the values do not allow ``k``; :attr:`Classes.note` says why.
    bins : list of float, optional
        Upper bounds of classes for ``user_defined``.
    palette : str
        A key of :data:`PALETTES`.
    suppressed : array-like of bool, optional
        True where a value was suppressed (drawn in the suppressed class);
        other NaN values go to the no-data class.
    zero_class : bool
        Give 0 a class of its own (counts whose small values are hidden), so
        that no shown class spans the hidden range; it counts towards ``k``.

    Raises
    ------
    GangmapError
        Unknown scheme or palette, ``k`` out of range, or ``user_defined`` without ``bins``.
    """
    _check(scheme, palette, k)
    v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    sup = np.zeros(len(v), bool) if suppressed is None else np.asarray(suppressed, bool)
    ok = np.isfinite(v) & ~sup
    assignment = np.where(sup, SUPPRESSED, NO_DATA).astype(int)
    shown = v[ok]
    if shown.size == 0:
        return Classes(scheme, (), [], [], assignment)
    zero = bool(zero_class and (shown == 0).any() and (shown > 0).any() and scheme != "user_defined")
    rest = shown[shown != 0] if zero else shown
    edges, yb = _mapclassify(rest, scheme, max(int(k) - zero, 1), bins)
    keep = np.unique(yb)  # drop classes no value falls in (e.g. no low outliers)
    remap = np.full(len(edges), -1)
    remap[keep] = np.arange(keep.size)
    yb = remap[yb]
    lows = np.array([rest[yb == i].min() for i in range(keep.size)])
    highs = np.array([rest[yb == i].max() for i in range(keep.size)])
    labels = range_labels(lows, highs)
    if scheme == "box_plot":  # bins: lower fence, Q1, median, Q3, upper fence[, max]
        labels = [f"{_BOX_NAMES[i]}: {lab}" for i, lab in zip(keep, labels)]
    edges = edges[keep]
    if zero:
        labels, edges = ["0"] + labels, np.r_[0.0, edges]
        full = np.zeros(len(shown), int)
        full[shown != 0] = yb + 1
        yb = full
    colors = _palette(palette, len(labels))
    assignment[ok] = yb
    note = _shortfall(scheme, int(k), len(labels), shown, zero)
    return Classes(scheme, tuple(float(e) for e in edges), labels, colors, assignment, note)


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
