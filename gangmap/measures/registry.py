"""The registry of measures: every map layer name, what it needs, how to make and title it.

Why a registry? The first release parsed column suffixes inside the pack
builder, which made the pack the pipeline engine and left the notebooks and
the CLI to guess. Here each :class:`Measure` declares its name, its suffix,
what it needs (a population, spatial weights, a monthly series, another
measure), which columns it writes, whether it is categorical and how its
title reads for the table's geography; the pack, the CLI and the notebooks
ask the registry:

* :func:`ensure` / :func:`ensure_all` compute a layer (and whatever it
  builds on) unless it is already there; names that need an input the table
  lacks are skipped with ``missing="skip"`` and recorded in
  ``schema.skipped``;
* :func:`available` lists every valid layer name for a table; an unknown
  name is a :class:`~gangmap.errors.ConfigError` that lists them;
* :func:`title` gives the display title (``"Reports per 1,000 children aged
  10–17"`` when ``schema.labels["population"]`` says so);
* :func:`recompute` re-runs the recipe recorded in a column's note on the
  table's *current* values. The disclosure stage uses it to compute
  published figures from safe, rounded counts: areas given in ``exclude=``
  and areas whose inputs are NaN (suppressed) get NaN and are never pooled
  into any other area's estimate. :func:`recompute_all` re-runs every
  recorded recipe, inputs before what is built on them.

Layer names: a count (``reports``); a count with ``_rate``, ``_eb``,
``_seb``, ``_excess`` or ``_funnel``; a count or any of the first four with
``_lisa`` or ``_gi``; a count with ``_trend`` or ``_ehsa`` (these need a
series); and ``need_index``. Every computed column's note in the schema is
``{"measure": NAME, "base": COLUMN, ...parameters}``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import pandas as pd

from ..errors import ConfigError
from ..table import AreaTable
from .checks import some, subject
from .ehsa import EHSA_LABELS, emerging_hotspots
from .funnel import FUNNEL_LABELS, funnel
from .hotspots import DEFAULT_SEED, GI_LABELS, LISA_LABELS, getis_ord, local_moran
from .need import DEFAULT_INDEX_WEIGHTS, need_index
from .rates import rate
from .series import TREND_LABELS, area_trend
from .smoothing import eb_global, eb_spatial, excess_risk
from .weights import as_weights, weights

__all__ = ["Measure", "Options", "REGISTRY", "ensure", "ensure_all", "available", "title", "recompute",
           "recompute_all", "resolve", "is_categorical", "categories", "MissingInput", "KNOWN_COUNTS"]

#: Count columns gangmap's joins make; a layer on one of them that the table lacks is a missing input.
KNOWN_COUNTS = ("reports", "referrals")


class MissingInput(ConfigError):
    """A valid layer name whose input (population, weights, series, count) the table lacks."""


@dataclass(frozen=True)
class Options:
    """Inputs and settings a measure may need (built by :func:`ensure` and :func:`recompute`)."""

    population: str = "population"
    per: float = 1000
    seed: int | None = DEFAULT_SEED
    w: Any = None
    series: Any = None
    on_zero: str = "raise"
    exclude: Any = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)

    def series_of(self, base: str):
        """The series frame of ``base`` from ``series`` (a frame, ``{count: frame}`` or an AreaCube)."""
        s = self.series
        if s is None:
            return None
        if isinstance(s, pd.DataFrame):
            return s
        if isinstance(s, Mapping):
            return s.get(base)
        if hasattr(s, "series"):
            return s.series(base)
        raise ConfigError(f"series= must be a series frame, a {{count: frame}} mapping or an AreaCube, not "
                          f"{type(s).__name__}.")


@dataclass(frozen=True)
class Measure:
    """One kind of layer.

    Attributes
    ----------
    name : str
        Registry name, recorded as ``"measure"`` in every column note.
    suffix : str or None
        Added to the base column to make the layer name (None: ``name`` is the
        layer, as for ``need_index``).
    needs : tuple of str
        ``"population"``, ``"weights"``, ``"series"`` and/or other measures
        (``"rate"`` for the need index's components).
    base : {"count", "value", "none"}
        What the layer is computed from: a raw count; a count or a value
        layer on one (``_rate``, ``_eb``, ``_seb``, ``_excess``); nothing.
    outputs : tuple of str
        Suffixes of the columns written after the layer name (``""`` is the
        layer itself).
    title : str
        Display title template (see :func:`title`).
    categorical : bool
        Whether the layer holds labels (mapped as categories) or numbers.
    categories : tuple of str
        The labels of a categorical layer.
    compute : callable
        ``compute(table, base, Options) -> table``.
    """

    name: str
    suffix: str | None
    needs: tuple[str, ...]
    base: str
    outputs: tuple[str, ...]
    title: str
    compute: Callable[..., Any]
    categorical: bool = False
    categories: tuple[str, ...] = ()

    def layer(self, base: str | None) -> str:
        return self.name if self.suffix is None else f"{base}{self.suffix}"

    def columns(self, base: str | None) -> list[str]:
        return [self.layer(base) + out for out in self.outputs]


def _max_permutations(o: Options) -> dict:
    """``max_permutations`` when given (recorded in the recipe), else the measure's default."""
    return {"max_permutations": o.get("max_permutations")} if o.get("max_permutations") else {}


def _hotspot(fn):
    def compute(t, base, o: Options):
        return fn(t, base, w=o.w, permutations=o.get("permutations", 999), seed=o.seed, alpha=o.get("alpha", 0.05),
                  fdr=o.get("fdr", False), alternative=o.get("alternative", "two-sided"),
                  test_islands=o.get("test_islands", False), exclude=o.exclude, **_max_permutations(o))
    return compute


def _series_or_raise(o: Options, base: str, layer: str):
    frame = o.series_of(base)
    if frame is None:
        raise MissingInput(f"layer {layer!r} needs a monthly series of {base!r}: pass series=cube (from "
                           f"gangmap.joining.build_cube) or series={{{base!r}: frame}}.")
    return frame


_POP = "{noun} per {per} {population}"
MEASURES = (
    Measure("rate", "_rate", ("population",), "count", ("", "_lo95", "_hi95", "_lo998", "_hi998"), _POP,
            lambda t, b, o: rate(t, b, o.population, per=o.per, name=o.get("name"), on_zero=o.on_zero,
                                 exclude=o.exclude)),
    Measure("eb", "_eb", ("population",), "count", ("",), _POP + ", smoothed (empirical Bayes)",
            lambda t, b, o: eb_global(t, b, o.population, per=o.per, on_zero=o.on_zero, exclude=o.exclude)),
    Measure("seb", "_seb", ("population", "weights"), "count", ("",),
            _POP + ", smoothed with neighbouring {plural} (spatial empirical Bayes)",
            lambda t, b, o: eb_spatial(t, b, o.population, w=o.w, per=o.per, on_zero=o.on_zero, exclude=o.exclude)),
    Measure("excess", "_excess", ("population",), "count", ("",), "{noun}: observed / expected",
            lambda t, b, o: excess_risk(t, b, o.population, on_zero=o.on_zero, exclude=o.exclude)),
    Measure("funnel", "_funnel", ("population",), "count", ("",), "{noun}: funnel plot position (exact Poisson)",
            lambda t, b, o: funnel(t, b, o.population, per=o.per, on_zero=o.on_zero, overall=o.get("overall"),
                                   exclude=o.exclude), True, FUNNEL_LABELS),
    Measure("lisa", "_lisa", ("weights",), "value", ("", "_p"), "Hotspots: local Moran clusters of {inner}",
            _hotspot(local_moran), True, LISA_LABELS),
    Measure("gi", "_gi", ("weights",), "value", ("", "_z", "_p"), "Hotspots: Getis-Ord Gi* of {inner}",
            _hotspot(getis_ord), True, GI_LABELS),
    Measure("trend", "_trend", ("series",), "count", ("", "_rr", "_p"),
            "Trend in {lower} per {label}{period}",
            lambda t, b, o: area_trend(t, b, _series_or_raise(o, b, f"{b}_trend"), alpha=o.get("alpha", 0.05),
                                       exclude=o.exclude), True, TREND_LABELS),
    Measure("ehsa", "_ehsa", ("series", "weights"), "count", ("", "_trend_z", "_trend_p", "_hot", "_cold"),
            "Emerging hot spots of {lower} by {label}{period}",
            lambda t, b, o: emerging_hotspots(
                t, b, _series_or_raise(o, b, f"{b}_ehsa"), w=o.w, permutations=o.get("permutations", 999),
                seed=o.seed, alpha=o.get("alpha", 0.05), fdr=o.get("fdr", True),
                trend_alpha=o.get("trend_alpha", 0.05), test_islands=o.get("test_islands", False),
                exclude=o.exclude, **_max_permutations(o)), True, EHSA_LABELS),
    Measure("need_index", None, ("rate",), "none", ("",), "Need index (0–100)",
            lambda t, b, o: need_index(t, o.get("components") or DEFAULT_INDEX_WEIGHTS,
                                       method=o.get("method", "minmax"), name=o.get("name") or "need_index",
                                       exclude=o.exclude)),
)
#: Every measure by registry name.
REGISTRY: Mapping[str, Measure] = MappingProxyType({m.name: m for m in MEASURES})
_VALUE = ("rate", "eb", "seb", "excess")
_BY_SUFFIX = sorted((m for m in MEASURES if m.suffix), key=lambda m: -len(m.suffix or ""))


# ---------------------------------------------------------------------- names
def _columns(table: Any) -> list:
    return list(table.columns)


def _counts(table: Any) -> list[str]:
    """Count columns of the table: declared counts of an AreaTable; known count names of a plain frame."""
    if isinstance(table, AreaTable):
        return list(table.schema.counts)
    return [c for c in KNOWN_COUNTS if c in table.columns]


def _is_count(table: Any, name: str) -> bool:
    if name in _counts(table):
        return True
    # a plain frame has no roles: any numeric column may serve as a count
    return not isinstance(table, AreaTable) and name in table.columns and \
        pd.api.types.is_numeric_dtype(table[name])


def _parse(name: str) -> tuple[Measure | None, str | None]:
    """The measure and base a layer name spells, by suffix alone (None, name for a bare name)."""
    if name == "need_index":
        return REGISTRY["need_index"], None
    for m in _BY_SUFFIX:
        suffix = m.suffix or ""
        if name.endswith(suffix) and len(name) > len(suffix):
            return m, name[: -len(suffix)]
    return None, name


def _root(name: str) -> str:
    """The count at the bottom of a layer name (``reports_rate_lisa`` -> ``reports``)."""
    m, base = _parse(name)
    return name if m is None or base is None else _root(base)


def _value_layer(table: Any, name: str) -> bool:
    """A count, or a count with a value suffix (``_rate``, ``_eb``, ``_seb``, ``_excess``)."""
    if _is_count(table, name):
        return True
    m, base = _parse(name)
    return m is not None and m.name in _VALUE and base is not None and _is_count(table, base)


def _valid(m: Measure, base: str | None, table: Any) -> bool:
    if m.base == "none":
        return True
    if base is None:
        return False
    return _is_count(table, base) if m.base == "count" else _value_layer(table, base)


def _well_formed(name: str) -> bool:
    """Whether ``name`` spells a layer on one of gangmap's count names, whatever the table has."""
    known = pd.DataFrame({c: [0] for c in KNOWN_COUNTS})
    m, base = _parse(name)
    return _is_count(known, name) or (m is not None and _valid(m, base, known))


def resolve(name: str, table: Any) -> tuple[Measure | None, str | None]:
    """The :class:`Measure` and base column of layer ``name`` for ``table``; ``(None, name)`` for a count.

    Raises :class:`MissingInput` for a well-formed name on a count the table
    lacks (e.g. ``referrals_rate`` without referrals) and
    :class:`~gangmap.errors.ConfigError`, listing the valid names, for an
    unknown one.
    """
    name = str(name)
    m, base = _parse(name)
    if m is None and _is_count(table, name):
        return None, name
    if m is not None and _valid(m, base, table):
        return m, base
    if _well_formed(name):
        root = _root(name)
        raise MissingInput(f"layer {name!r} needs the count {root!r}, which this table does not have (counts: "
                           f"{', '.join(_counts(table)) or 'none'}); join it first (e.g. gangmap.join(..., "
                           f"{root}=FILE)).")
    raise ConfigError(f"unknown layer {name!r}. Valid layers for this table: {some(available(table), 40)}. A "
                      "layer is a count, a count with _rate, _eb, _seb, _excess or _funnel, any of the first "
                      "four (or the count) with _lisa or _gi, a count with _trend or _ehsa (with a series), or "
                      "need_index.")


def is_categorical(name: str) -> bool:
    """Whether layer ``name`` holds labels (categories) rather than numbers."""
    m, _ = _parse(str(name))
    return bool(m and m.categorical)


def categories(name: str) -> tuple[str, ...]:
    """The labels of a categorical layer (empty for a numeric one)."""
    m, _ = _parse(str(name))
    return m.categories if m and m.categorical else ()


# ---------------------------------------------------------------------- computing
def _spatial(table: Any, o: Options) -> bool:
    frame = table.frame if isinstance(table, AreaTable) else table
    return o.w is not None or (hasattr(frame, "geometry") and "geometry" in frame.columns)


def _check_needs(m: Measure, base: str | None, layer: str, table: Any, o: Options) -> None:
    if "population" in m.needs and o.population not in _columns(table):
        raise MissingInput(f"layer {layer!r} needs a population column {o.population!r}: give a population "
                           "(gangmap.join(..., population=FILE); on the command line --population FILE; in a pack, "
                           "population = \"FILE\" in [inputs]).")
    if "weights" in m.needs and not _spatial(table, o):
        raise MissingInput(f"layer {layer!r} needs spatial weights: the table has no geometry; join onto "
                           "boundaries or pass w=measures.weights(areas).")
    if "series" in m.needs and base is not None:
        _series_or_raise(o, base, layer)


def _ensure(table: Any, name: str, o: Options) -> tuple[Any, Options]:
    if name in _columns(table):
        return table, o
    m, base = resolve(name, table)
    if m is None:
        return table, o
    _check_needs(m, base, name, table, o)
    if m.base in ("count", "value") and base is not None:
        table, o = _ensure(table, base, o)
    if m.name == "need_index":
        for comp in (o.get("components") or DEFAULT_INDEX_WEIGHTS):
            table, o = _ensure(table, comp, o)
    if "weights" in m.needs and o.w is None:
        o = replace(o, w=weights(table))
    return m.compute(table, base, _no_data_left_out(table, base, o)), o


def _no_data_left_out(table: Any, base: str | None, o: Options) -> Options:
    """Areas whose base value is missing (no data, or suppressed) are left out, never read as 0."""
    if base is None or base not in _columns(table):
        return o
    missing = pd.to_numeric(table[base], errors="coerce").isna().to_numpy()
    if not missing.any():
        return o
    return replace(o, exclude=subject(table, "ensure").mask(o.exclude) | missing)


def _options(population, per, seed, w, series, on_zero, exclude, settings) -> Options:
    return Options(population=population, per=per, seed=seed, w=None if w is None else as_weights(w), series=series,
                   on_zero=on_zero,
                   exclude=exclude, params=dict(settings))


def ensure(table: Any, name: str, *, population: str = "population", per: float = 1000,
           seed: int | None = DEFAULT_SEED, w: Any = None, series: Any = None, on_zero: str = "exclude",
           exclude: Any = None, **settings: Any):
    """``table`` with layer ``name`` (and whatever it builds on) computed, unless already there.

    Parameters
    ----------
    table : AreaTable or (Geo)DataFrame
        The result is the same kind.
    name : str
        A layer name (see :func:`available`).
    population : str, default "population"
        Population column for rates, smoothing and funnels.
    per : float, default 1000
        Rate multiplier.
    seed : int or None
        Seed of the hotspot permutations.
    w : Weights or libpysal W, optional
        Spatial weights (default: queen contiguity of the table, built once).
    series : DataFrame, mapping or AreaCube, optional
        Monthly series for ``_trend`` and ``_ehsa`` layers.
    on_zero : {"exclude", "raise"}, default "exclude"
        Areas with no population get no rate (NaN, listed in the note), as a
        join with a partial population table promises; ``"raise"`` stops.
    exclude : mask or codes, optional
        Areas left out (see :func:`~gangmap.measures.rate`). Areas whose base
        value is missing (no data) are always left out: NaN, never 0.
    **settings
        Measure settings such as ``permutations``, ``alpha``, ``fdr``,
        ``components`` or ``method``.

    Raises
    ------
    MissingInput
        The layer needs an input the table lacks (a ConfigError).
    ConfigError
        Unknown layer name; the message lists the valid ones.
    """
    return _ensure(table, str(name), _options(population, per, seed, w, series, on_zero, exclude, settings))[0]


def ensure_all(table: Any, names: Iterable[str], *, missing: str = "raise", population: str = "population",
               per: float = 1000, seed: int | None = DEFAULT_SEED, w: Any = None, series: Any = None,
               on_zero: str = "exclude", exclude: Any = None, **settings: Any):
    """:func:`ensure` each of ``names`` in turn (spatial weights built once).

    With ``missing="skip"``, names that need an input the table lacks (a
    population, referrals, a series) are skipped and recorded in
    ``schema.skipped`` of the returned AreaTable (a plain frame cannot carry
    them: a warning lists them). Unknown names always raise.

    Examples
    --------
    >>> table = ensure_all(table, ["reports_rate", "need_index"], missing="skip")  # doctest: +SKIP
    """
    if missing not in ("raise", "skip"):
        raise ConfigError(f"missing must be 'raise' or 'skip', not {missing!r}.")
    o = _options(population, per, seed, w, series, on_zero, exclude, settings)
    skipped: list[str] = []
    for name in names:
        try:
            table, o = _ensure(table, str(name), o)
        except MissingInput:
            if missing == "raise":
                raise
            skipped.append(str(name))
    if isinstance(table, AreaTable):
        return table.with_schema(skipped=(*table.schema.skipped, *skipped))
    if skipped:
        warnings.warn(f"skipped layers for want of an input: {', '.join(skipped)} (a plain frame cannot record "
                      "them; use an AreaTable)", UserWarning, stacklevel=2)
    return table


def available(table: Any, *, population: str = "population", w: Any = None, series: Any = None) -> list[str]:
    """Every valid layer name for ``table``: its counts, the measures its inputs allow, need_index.

    Layers on a series (``_trend``, ``_ehsa``) are listed when ``series``
    is given (a frame, ``{count: frame}`` or an AreaCube).
    """
    o = Options(population=population, w=w, series=series)
    has_pop, spatial = population in _columns(table), _spatial(table, o)
    out: list[str] = []
    for c in _counts(table):
        values = [c] + ([f"{c}_rate", f"{c}_eb", f"{c}_excess"] if has_pop else []) + \
            ([f"{c}_seb"] if has_pop and spatial else [])
        out += values + ([f"{c}_funnel"] if has_pop else [])
        out += [f"{v}{h}" for v in values for h in ("_lisa", "_gi")] if spatial else []
        if series is not None and (not isinstance(series, Mapping) or c in series):
            out += [f"{c}_trend"] + ([f"{c}_ehsa"] if spatial else [])
    if has_pop and all(_root(comp) in _counts(table) for comp in DEFAULT_INDEX_WEIGHTS):
        out.append("need_index")
    return out


# ---------------------------------------------------------------------- words
def _noun(table: Any, base: str) -> str:
    labels = table.schema.labels if isinstance(table, AreaTable) else {}
    text = str(labels.get(base) or base.replace("_", " ")).replace(" (count)", "")
    return text[:1].upper() + text[1:]


def title(name: str, table: Any = None, *, population: str = "population", per: float | None = None) -> str:
    """The display title of layer ``name`` for ``table`` (its geography, labels, periods and notes).

    Examples
    --------
    >>> import pandas as pd
    >>> from gangmap.table import from_frame
    >>> t = from_frame(pd.DataFrame({"lsoa_code": ["E01000001"], "reports": [3], "population": [900]}),
    ...                counts=["reports"], context=["population"])
    >>> t = t.with_schema(labels={"population": "children aged 10–17"})
    >>> title("reports_rate", t)
    'Reports per 1,000 children aged 10–17'
    >>> title("reports_seb_gi", t)[:64]
    'Hotspots: Getis-Ord Gi* of reports per 1,000 children aged 10–17'
    >>> title("reports_seb", t)[-58:]
    'smoothed with neighbouring LSOAs (spatial empirical Bayes)'
    """
    table = table if table is not None else pd.DataFrame({"area_code": []})
    if callable(getattr(table, "to_table", None)):  # a SafeTable: its published values, roles and labels
        table = table.to_table()
    m, base = _parse(str(name))
    s = subject(table, "title")
    if m is None:
        return f"{_noun(table, name)} (count)"
    notes = table.schema.notes.get(m.layer(base), {}) if isinstance(table, AreaTable) else {}
    per_v = per if per is not None else notes.get("per", 1000)
    labels = table.schema.labels if isinstance(table, AreaTable) else {}
    periods = table.schema.period_label if isinstance(table, AreaTable) and table.schema.periods else ""
    inner = title(base, table, population=population, per=per) if base is not None else ""
    noun = _noun(table, _root(base)) if base is not None else ""
    return m.title.format(noun=noun, lower=noun[:1].lower() + noun[1:], per=f"{per_v:,.0f}",
                          population=labels.get(population, "people"), plural=s.geography.plural,
                          label=s.geography.label, inner=inner[:1].lower() + inner[1:],
                          period=f", {periods}" if periods else "")


# ---------------------------------------------------------------------- recomputing
def _inputs(m: Measure, note: Mapping[str, Any]) -> list[str]:
    cols = [note["base"]] if note.get("base") else []
    if "population" in m.needs and note.get("population"):
        cols.append(note["population"])
    if m.name == "need_index":
        cols += list(note.get("components") or DEFAULT_INDEX_WEIGHTS)
    return cols


def recompute(table: AreaTable, column: str, *, exclude: Any = None, w: Any = None, series: Any = None):
    """Re-run the recipe recorded in ``column``'s note on the table's current values.

    Every column written by the same recipe is replaced (e.g. a rate and its
    four interval bounds). Areas in ``exclude`` and areas whose inputs are NaN
    (suppressed, or no data) get NaN and take no part in any pooled figure
    (overall rates, neighbourhoods, scaling, permutations), so a recomputed
    value never draws on a hidden one.

    Parameters
    ----------
    table : AreaTable
        With ``column`` computed by a registered measure (its note says which).
    column : str
        Any column the recipe wrote.
    exclude : mask or codes, optional
        Further areas to leave out.
    w : Weights or libpysal W, optional
        Weights for spatial measures (default: rebuilt from the table for
        queen/rook weights; others must be passed).
    series : DataFrame, mapping or AreaCube, optional
        For ``_trend`` and ``_ehsa`` columns.
    """
    if not isinstance(table, AreaTable):
        raise ConfigError("recompute needs an AreaTable: a plain frame carries no recipes.")
    note = table.schema.notes.get(column)
    if not note or note.get("measure") not in REGISTRY:
        raise ConfigError(f"column {column!r} has no measure recipe in the table's notes; only columns made by "
                          f"gangmap.measures can be recomputed (registered: {', '.join(REGISTRY)}).")
    m = REGISTRY[note["measure"]]
    s = subject(table, "recompute")
    skip = s.mask(exclude)
    for col in _inputs(m, note):
        if col in table.columns:
            skip |= ~pd.to_numeric(table[col], errors="coerce").notna().to_numpy()
    kind = note.get("weights")
    if "weights" in m.needs and w is None:
        if kind not in ("queen", "rook"):
            raise ConfigError(f"recomputing {column!r} needs its spatial weights ({kind}): pass w=.")
        w = weights(table, kind)
    o = Options(population=note.get("population", "population"), per=note.get("per", 1000),
                seed=note.get("seed", DEFAULT_SEED), w=None if w is None else as_weights(w), series=series,
                on_zero="exclude",
                exclude=skip, params=dict(note))
    return m.compute(table, note.get("base"), o)


def _recipes(table: AreaTable) -> list[tuple[str, dict, set]]:
    """One (representative column, note, columns) per recipe recorded in the notes."""
    out: list[tuple[str, dict, set]] = []
    for col in table.columns:
        note = table.schema.notes.get(col)
        if not note or note.get("measure") not in REGISTRY:
            continue
        note = dict(note)
        for _, other, cols in out:
            if other == note:
                cols.add(col)
                break
        else:
            out.append((col, note, {col}))
    return out


def recompute_all(table: AreaTable, *, exclude: Any = None, w: Any = None, series: Any = None):
    """:func:`recompute` every measure recorded in the notes, inputs before what is built on them.

    For the disclosure stage: replace the counts by their safe values
    (suppressed cells NaN), then recompute every published figure from them.
    """
    if not isinstance(table, AreaTable):
        raise ConfigError("recompute_all needs an AreaTable: a plain frame carries no recipes.")
    pending = _recipes(table)
    cache: dict[str, Any] = {}
    while pending:
        made = set().union(*(cols for _, _, cols in pending))
        ready = [r for r in pending if not (set(_inputs(REGISTRY[r[1]["measure"]], r[1])) & (made - r[2]))]
        if not ready:
            raise ConfigError(f"the recipes of {', '.join(r[0] for r in pending)} depend on each other.")
        col, note, _ = ready[0]
        kind = note.get("weights")
        ww = w
        if ww is None and "weights" in REGISTRY[note["measure"]].needs and kind in ("queen", "rook"):
            ww = cache.setdefault(kind, weights(table, kind))
        table = recompute(table, col, exclude=exclude, w=ww, series=series)
        pending.remove(ready[0])
    return table
