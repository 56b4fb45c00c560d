"""Campaign targeting: which areas does the campaign cover, and which should it add next?

:func:`read_targets` resolves the current target areas (districts, area names,
area codes) from a TOML file; :func:`coverage` says what share of the county's
need they hold; :func:`rank_untargeted` and :func:`recommend` say which areas
to add next (optionally growing the current areas contiguously, or within a
population budget); :func:`weight_sensitivity` says
whether the ranking survives a change in the weights of the need index.

Every function takes an :class:`gangmap.table.AreaTable` (or a plain frame,
whose columns then have no roles) and reads the area words and columns from
its geography: on an LSOA table the recommendation is of "LSOAs".

Rank uncertainty
----------------
A ranking built from small counts moves when the counts move. Unless
``draws=0``, :func:`recommend` resamples the counts behind the measure
(:mod:`.uncertainty`: a parametric Poisson bootstrap), re-runs the same rule
on every draw and says which choices are robust (chosen in at least 90% of
the draws) and which are coin-flips.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError, GangmapError, InputError
from ..geography import WARD, Geography
from ..table import AreaTable
from .common import (
    area_table,
    article,
    as_codes,
    identifier_columns,
    month,
    need_values,
    number_or_nan,
    pct,
    publish,
    read_area_table,
    result_table,
    some,
    sources_of,
)
from .publishing import LIST_ORDER, area_inputs, measure_columns, require_published, whole, with_recipes
from .ranking import (
    RANKED_BY,
    RecommendSpec,
    SensitivitySpec,
    ranking_recipes,
    recommendation_table,
    sensitivity_table,
)
from .selection import Selection, neighbours, select
from .uncertainty import (
    DEFAULT_DRAWS,
    DEFAULT_SEED,
    ROBUST,
    RankUncertainty,
    describe_choices,
    resample_selection,
    robustness,
)

__all__ = ["CAMPAIGN_KEYS", "Targets", "read_targets", "coverage", "rank_untargeted", "Recommendation",
           "recommend", "Sensitivity", "weight_sensitivity"]

#: Keys understood in the ``[campaign]`` table of a campaign TOML file (for ward tables; on another
#: geography ``ward_names``/``ward_codes`` read ``lsoa_names``/``lsoa_codes`` and so on, and
#: ``area_names``/``area_codes`` work on any).
CAMPAIGN_KEYS = ("name", "launch", "districts", "ward_names", "ward_codes", "description")


# =========================================================================== the current targets
@dataclass(frozen=True)
class Targets:
    """The areas a campaign currently targets.

    Attributes
    ----------
    codes : frozenset of str
        Codes of the targeted areas.
    launch : str or None
        Launch month ``YYYY-MM``.
    name : str
        Campaign name.
    source : str
        Where the targets came from (file name or ``"<dict>"``).
    matched : DataFrame
        How each entry of the config matched: ``kind`` (district, ward name,
        ward code ...), ``value`` and ``codes``.
    geography : Geography
        The kind of area the codes are (wards unless read from another table).

    Examples
    --------
    >>> t = Targets(codes=frozenset({"E05000001"}), launch="2018-03", name="demo")
    >>> t.mask(pd.DataFrame({"ward_code": ["E05000001", "E05000002"]})).tolist()
    [True, False]
    """

    codes: frozenset
    launch: str | None = None
    name: str = "campaign"
    source: str = "<dict>"
    matched: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["kind", "value", "codes"]),
                                  compare=False)
    geography: Geography = WARD

    def mask(self, table: Any) -> pd.Series:
        """Boolean Series (aligned with ``table``'s rows): True for targeted areas."""
        t = area_table(table, "Targets.mask")
        return pd.Series(t.codes.astype(str).isin(self.codes).to_numpy(), index=t.index, name="targeted")

    def __len__(self) -> int:
        return len(self.codes)

    def __contains__(self, code) -> bool:
        return code in self.codes

    def _repr_html_(self) -> str:  # notebooks
        from ..reprs import card

        facts = [("campaign", self.name), ("launch", self.launch), ("source", self.source),
                 (f"targeted {self.geography.plural}", f"{len(self.codes):,}")]
        return card("Targets", facts, self.summary(), [("How the config matched", self.matched)])

    def summary(self) -> str:
        parts = [f"{self.name}: {len(self.codes)} target {self.geography.plural}"]
        if self.launch:
            parts.append(f"launched {self.launch}")
        return ", ".join(parts) + f" (from {self.source})"


def _load_config(config: Any) -> tuple[dict, str]:
    if isinstance(config, Mapping):
        return dict(config), "<dict>"
    if not isinstance(config, (str, Path)):
        raise ConfigError(f"campaign config must be a TOML file path or a dict, not {type(config).__name__}.")
    path = Path(config)
    source = str(path)
    if not path.exists():
        raise ConfigError(f"{source}: campaign file not found. Check the path (e.g. data/demo/campaign.toml).")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not a text file; save the campaign settings as UTF-8 TOML.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc}). Quote names, e.g. ward_names = [\"Castle\"].") from None
    return data, source


def _as_list(value: Any, key: str, source: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{source}: [campaign] {key} must be a list of strings, e.g. {key} = [\"...\"]; "
                          f"got {value!r}.")
    out = []
    for v in value:
        if not isinstance(v, (str, int)):
            raise ConfigError(f"{source}: [campaign] {key} holds {v!r}; every entry must be a string.")
        s = str(v).strip()
        if s:
            out.append(s)
    return out


def _campaign_keys(geo: Geography) -> tuple[str, ...]:
    return tuple(dict.fromkeys(("name", "launch", "districts", f"{geo.level}_names", f"{geo.level}_codes",
                                "area_names", "area_codes", "description")))


def _campaign_table(data: dict, source: str, geo: Geography) -> Mapping:
    keys = _campaign_keys(geo)
    camp = data["campaign"] if "campaign" in data else (data if set(data) & set(keys) else None)
    if camp is None or not isinstance(camp, Mapping):
        raise ConfigError(f"{source}: no [campaign] table. Add one with districts, {geo.level}_names and/or "
                          f"{geo.level}_codes, e.g.\n[campaign]\nlaunch = \"2018-03\"\n{geo.level}_names = "
                          "[\"Castle\"]")
    unknown = [k for k in camp if k not in keys]
    if unknown:
        hints = [f"{k!r}" + (f" (did you mean {difflib.get_close_matches(k, keys, 1)[0]!r}?)"
                             if difflib.get_close_matches(k, keys, 1) else "") for k in unknown]
        raise ConfigError(f"{source}: [campaign] has unknown key(s) {', '.join(hints)}; the keys are "
                          f"{', '.join(keys)}.")
    return camp


@dataclass
class _Areas:
    """The areas a campaign file is resolved against, normalised for matching."""

    geo: Geography
    codes: list
    names: list
    norm: list
    parent_names: list
    parent_norm: list
    parent_code_norm: list

    @classmethod
    def of(cls, table: AreaTable) -> _Areas:
        from ..joining import normalise_name

        geo = table.geography
        f = table.frame
        codes = table.codes.astype(str).tolist()
        pc = f[geo.parent_code].astype(str).tolist() if geo.parent_code in f else [""] * len(f)
        pn = f[geo.parent_name].astype(str).tolist() if geo.parent_name in f else [""] * len(f)
        names = table.names.astype(str).tolist()
        return cls(geo, codes, names, [normalise_name(x) for x in names], pn, [normalise_name(x) for x in pn],
                   [normalise_name(x) for x in pc])


def _by_district(values: list[str], a: _Areas, problems: list, matched: list) -> None:
    from ..joining import normalise_name

    for value in values:
        n = normalise_name(value)
        hit = [c for c, x, y in zip(a.codes, a.parent_norm, a.parent_code_norm) if n in (x, y)]
        if not hit:
            known = sorted({x for x in a.parent_names if x})
            close = difflib.get_close_matches(value, known, n=3, cutoff=0.5)
            problems.append(f"districts: {value!r} is not {article(a.geo.parent_label)} name or code of these "
                            f"{a.geo.plural} (closest: {', '.join(close) or 'none'}; {a.geo.parent_label}s are "
                            f"{some(known)})")
            continue
        matched.append((a.geo.parent_label, value, hit))


def _by_name(values: list[str], key: str, a: _Areas, problems: list, matched: list) -> None:
    from ..joining import normalise_name

    by_name: dict[str, list[int]] = {}
    for i, n in enumerate(a.norm):
        by_name.setdefault(n, []).append(i)
    for value in values:
        idx = by_name.get(normalise_name(value), [])
        m = re.match(r"^(.*)\(([^()]*)\)\s*$", value)
        if len(idx) != 1 and m:  # "Castle (Northampton)"
            base, dist = normalise_name(m.group(1)), normalise_name(m.group(2))
            idx = [i for i in by_name.get(base, []) if dist in (a.parent_norm[i], a.parent_code_norm[i])]
        if len(idx) == 1:
            matched.append((f"{a.geo.label} name", value, [a.codes[idx[0]]]))
        elif len(idx) > 1:
            opts = "; ".join(f"\"{a.names[i]} ({a.parent_names[i]})\" = {a.codes[i]}" for i in idx)
            problems.append(f"{key}: {value!r} is in more than one {a.geo.parent_label} ({opts}); write the "
                            f"{a.geo.parent_label} in brackets or use {a.geo.level}_codes")
        else:
            close = difflib.get_close_matches(normalise_name(value), list(by_name), n=3, cutoff=0.6)
            shown = ", ".join(a.names[by_name[c][0]] for c in close) or "none"
            problems.append(f"{key}: {value!r} is not {article(a.geo.label)} name (closest: {shown})")


def _by_code(values: list[str], key: str, a: _Areas, problems: list, matched: list) -> None:
    valid = set(a.codes)
    for value in values:
        code = value.strip().upper() if a.geo.gss else value.strip()
        if code in valid:
            matched.append((f"{a.geo.label} code", value, [code]))
        else:
            close = difflib.get_close_matches(code, a.codes, n=3, cutoff=0.7)
            problems.append(f"{key}: {value!r} is not {article(a.geo.label)} code of these {a.geo.plural} (closest: "
                            f"{', '.join(close) or 'none'}; are the boundaries the right vintage?)")


def read_targets(config: Any, areas: Any) -> Targets:
    """Read the current campaign target areas and resolve them to area codes.

    Parameters
    ----------
    config : str, Path or dict
        A TOML file (or the dict it parses to) with a ``[campaign]`` table::

            [campaign]
            name = "Campaign (launched 2018-03)"
            launch = "2018-03"                 # YYYY-MM
            districts = ["Wellmere"]           # district names or codes: all their areas
            ward_names = ["Eastfield", "Castle (Castleford)"]
            ward_codes = ["E05900007"]

        On an LSOA table the keys are ``lsoa_names``/``lsoa_codes`` (and so on
        for any geography); ``area_names``/``area_codes`` work on any. Names
        match like :func:`gangmap.join` does (ignoring case, spaces,
        punctuation and "&"/"and"). A name found in two districts must say
        which: ``"Castle (Northampton)"``. A dict without a ``campaign`` key
        is taken as the campaign table itself.
    areas : AreaTable, (Geo)DataFrame or path
        The area table (code, name, district code and name), e.g. the joined
        table, or a boundary file.

    Returns
    -------
    Targets

    Raises
    ------
    ConfigError
        Missing file or ``[campaign]`` table, unknown keys, unknown or
        ambiguous names/codes (all listed at once, with the closest
        candidates), a bad launch month, or no area selected.

    Examples
    --------
    >>> wards = pd.DataFrame({"ward_code": ["E05000001", "E05000002", "E05000003"],
    ...                       "ward_name": ["Castle", "St. Crispin", "Abbey"],
    ...                       "lad_code": ["E07000001", "E07000001", "E07000002"],
    ...                       "lad_name": ["Northwold", "Northwold", "Southmere"]})
    >>> t = read_targets({"campaign": {"ward_names": ["st crispin"], "districts": ["Southmere"],
    ...                                "launch": "2018-03"}}, wards)
    >>> sorted(t.codes), t.launch
    (['E05000002', 'E05000003'], '2018-03')
    >>> read_targets({"ward_names": ["Castel"]}, wards)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gangmap.errors.ConfigError: <dict>: [campaign] ward_names: 'Castel' is not a ward name (closest: Castle). Fix...
    """
    data, source = _load_config(config)
    table = read_area_table(areas, "read_targets")
    geo = table.geography
    camp = _campaign_table(data, source, geo)
    a = _Areas.of(table)
    problems: list[str] = []
    matched: list[tuple] = []
    _by_district(_as_list(camp.get("districts"), "districts", source), a, problems, matched)
    for key in dict.fromkeys((f"{geo.level}_names", "area_names")):
        _by_name(_as_list(camp.get(key), key, source), key, a, problems, matched)
    for key in dict.fromkeys((f"{geo.level}_codes", "area_codes")):
        _by_code(_as_list(camp.get(key), key, source), key, a, problems, matched)
    if problems:
        fix = f"Fix the spelling in the campaign file or give {geo.level}_codes instead."
        if len(problems) == 1:
            raise ConfigError(f"{source}: [campaign] {problems[0]}. {fix}")
        raise ConfigError(f"{source}: [campaign] has {len(problems)} problems:\n  - " + "\n  - ".join(problems)
                          + f"\n{fix}")
    chosen = dict.fromkeys(c for _, _, codes in matched for c in codes)
    if not chosen:
        raise ConfigError(f"{source}: [campaign] selects no {geo.label}; list districts, {geo.level}_names or "
                          f"{geo.level}_codes.")
    launch = camp.get("launch")
    launch = None if launch in (None, "") else month(launch, "[campaign] launch", source)
    name = str(camp.get("name") or (Path(source).stem if source != "<dict>" else "campaign"))
    return Targets(codes=frozenset(chosen), launch=launch, name=name, source=source,
                   matched=pd.DataFrame(matched, columns=["kind", "value", "codes"]), geography=geo)


def coverage(table: Any, targets: Any, measure: str = "need_index") -> float:
    """Share (0-1) of the county's total ``measure`` that falls in targeted areas.

    ``sum(measure over targeted areas) / sum(measure over all areas)``; areas
    with a missing value count as 0. With a count (``"reports"``) this is the
    share of reports; with a 0-100 index it is the share of summed need.

    Examples
    --------
    >>> t = pd.DataFrame({"ward_code": ["A", "B", "C"], "reports": [10, 30, 60]})
    >>> coverage(t, ["B", "C"], "reports")
    0.9
    """
    table = area_table(table, "coverage")
    v = np.nan_to_num(need_values(table, measure, "coverage"), nan=0.0)
    total = v.sum()
    if not total > 0:
        raise InputError(f"planning.coverage: {measure!r} adds up to 0 over all {table.geography.plural}, so no "
                         "share can be computed. Check the measure was computed on the joined table.")
    mask = table.codes.astype(str).isin(as_codes(targets)).to_numpy()
    return float(v[mask].sum() / total)


def rank_untargeted(table: Any, targets: Any, measure: str = "need_index") -> AreaTable:
    """Untargeted areas ranked by ``measure``, highest first.

    Returns
    -------
    AreaTable
        ``rank`` (1 = highest), the area identifiers, ``need`` (the
        measure), ``share`` (of the county total) and ``coverage_if_added``
        (coverage with this area and every area above it added), the raw
        count columns the measure came from and ``population`` if present.
        **Counts**: the source counts; ``need``, ``share``,
        ``coverage_if_added``, ``rank`` (and the measure) are derived from
        them. Areas with a missing measure are left out.

    Publishing
    ----------
    The rows are in the order of the raw values, and a published list must
    not keep that order (a hidden area between two shown ones is bounded by
    them), so publish it as a ranked table::

        make_safe(ranked).ranked("rank", ascending=True, rank_column="order")

    Its figures are worked out again from the published table
    (:mod:`gangmap.planning.ranking`): the measure recomputed on the listed
    areas' published counts (a need index scaled over the shown listed
    areas), ``rank`` among the shown rows (ties by code), ``share`` of the
    listed areas' published need; ``coverage_if_added`` needs the targeted
    areas and is withheld (publish :meth:`Recommendation.safe` for coverage).

    Examples
    --------
    >>> t = pd.DataFrame({"ward_code": ["A", "B", "C", "D"], "reports": [10, 30, 20, 40]})
    >>> r = rank_untargeted(t, ["D"], "reports")
    >>> r[["rank", "ward_code", "need", "coverage_if_added"]]
       rank ward_code  need  coverage_if_added
    0     1         B  30.0                0.7
    1     2         C  20.0                0.9
    2     3         A  10.0                1.0
    """
    table = area_table(table, "rank_untargeted")
    v = need_values(table, measure, "rank_untargeted")
    total = np.nansum(v)
    if not total > 0:
        raise InputError(f"planning.rank_untargeted: {measure!r} adds up to 0 over all {table.geography.plural}.")
    targeted = table.codes.astype(str).isin(as_codes(targets)).to_numpy()
    before = float(np.nansum(v[targeted]) / total)
    keep = ~targeted & np.isfinite(v)
    srcs = sources_of(table, measure)
    rows = np.flatnonzero(keep)[np.argsort(-v[keep], kind="stable")]
    raw = {"rank": np.arange(1, len(rows) + 1), "need": whole(v[rows]) if srcs == (measure,) else v[rows]}
    raw["share"] = v[rows] / total
    raw["coverage_if_added"] = before + np.cumsum(raw["share"])
    if not srcs:  # lineage unknown (or public only): the old frame, whose new columns stay undeclared
        cols = list(dict.fromkeys(identifier_columns(table) + [c for c in [measure, "population"] if c in table]))
        out = pd.DataFrame(table.frame.iloc[rows][cols]).reset_index(drop=True).assign(**raw)
        out = out[["rank", *[c for c in out.columns if c != "rank"]]]
        return result_table(out, table.geography, sources=srcs, derived=list(raw), context=["population"])
    base = area_inputs(table, measure_columns(table, measure))
    base = AreaTable(base.frame.iloc[rows].reset_index(drop=True), base.schema)
    out = with_recipes(base, raw, ranking_recipes(measure, [*base.counts, *base.context]), sources=srcs)
    return AreaTable(out.frame[["rank", *[c for c in out.columns if c != "rank"]]], out.schema)


@dataclass
class Recommendation:
    """Areas recommended for the campaign next (see :func:`recommend`).

    Attributes
    ----------
    areas : AreaTable
        The chosen areas in the order chosen: ``order``, identifiers,
        ``need``, ``share``, ``coverage_after`` (cumulative coverage),
        ``touches`` (the targeted or chosen area it borders, contiguous mode),
        ``reason``, the source counts and ``population`` if present; with
        rank uncertainty also ``rank``, ``rank_lo``, ``rank_hi`` (the 95%
        interval of its rank over the draws), ``chosen_share`` (share of the
        draws in which the same rule chose it) and ``robustness``
        (``robust``, ``likely``, ``coin-flip``). **Counts**: the source
        counts; every other number is derived from them.
    before, after : float
        Coverage (0-1) before and after adding the areas.
    message : str
        E.g. "adding these 8 wards lifts coverage of need_index from 38% to 61%",
        followed by which choices are robust and which are coin-flips.
    measure, rule : str
    counts : tuple of str
        Source count columns (what :meth:`safe` protects).
    uncertainty : RankUncertainty or None
        The draws behind the rank intervals (None with ``draws=0`` or when
        the measure cannot be resampled; see :attr:`notes`).
    notes : list of str
    spec : RecommendSpec or None
        The rule's public settings, so :meth:`safe` can run it again on the
        published values.
    """

    areas: AreaTable
    before: float
    after: float
    message: str
    measure: str
    rule: str
    counts: tuple = ()
    uncertainty: RankUncertainty | None = None
    notes: list = field(default_factory=list)
    spec: RecommendSpec | None = field(default=None, repr=False)

    def _repr_html_(self) -> str:  # notebooks
        from ..reprs import card

        facts = [("measure", self.measure), ("rule", self.rule),
                 ("coverage", f"{self.before:.0%} → {self.after:.0%}"), ("areas", f"{len(self.areas):,}")]
        return card("Recommendation", facts, " ".join([self.message, *self.notes]), [("Chosen areas", self.areas)])

    @property
    def codes(self) -> list[str]:
        """Codes of the recommended areas, in order (the analyst's choice, on the raw counts)."""
        return self.areas.codes.astype(str).tolist()

    def table(self) -> AreaTable:
        """Every area with the recommendation's columns and the recipes that publish them (see :meth:`safe`)."""
        if self.spec is None or not self.counts:
            return self.areas
        return recommendation_table(self, self.spec)

    def safe(self, policy: Any = "nhs", **options):
        """The recommendation as published: the same rule worked out again from the published values.

        Every figure comes from the published table only
        (:mod:`gangmap.planning.ranking`): ``need`` is the measure recomputed on
        the published counts (a need index scaled over the shown areas), the
        greedy rule is re-run on it (an area whose count is hidden has no
        published need, so it is never listed), ``share`` and
        ``coverage_after`` are of the published need, ``rank`` is among the
        shown candidates, and ``rank_lo``/``rank_hi``/``chosen_share``/
        ``robustness`` come from resampling the *published* counts (shares
        rounded down to 10%, so a label never contradicts its share). The
        list is cut with :meth:`SafeTable.ranked`: ``order`` is the position
        in it, and it carries no totals. It can differ from
        :attr:`codes` (the choice on the raw counts) at the margins; say so
        with :meth:`published_message`. Pass ``pattern=`` (the full area
        SafeTable) so this table hides the same cells as the others.
        """
        if self.spec is None or not self.counts:  # no declared lineage: publish() says how to declare it
            return publish(self.areas, policy=policy, what="recommendation", **options)
        safe = publish(self.table(), policy=policy, what="recommendation", **options)
        by = RANKED_BY["contiguous" if self.spec.contiguous else "recommendation"]
        for col in (self.measure, by):  # a measure with no recipe is withheld, and nothing can be ranked by it
            require_published(safe, col, "recommendation")
        return safe.ranked(by, ascending=True, rank_column=LIST_ORDER)

    def published_message(self, safe: Any) -> str:
        """The message in the figures of the published recommendation ``safe`` (from :meth:`safe`)."""
        geo = safe.geography
        f = safe.frame
        if not len(f):
            return (f"From the published figures, no {geo.label} can be recommended: the counts of the candidates "
                    "are too small to publish.")
        names = f[geo.name if geo.name in f else geo.code].astype(str).tolist()
        n = len(f)
        after = float(f["coverage_after"].iloc[-1])
        before = float(f["coverage_after"].iloc[0] - f["share"].iloc[0])
        what = f"these {geo.count_of(n)}" if n != 1 else f"this {geo.label}"
        text = (f"From the published figures, adding {what} ({', '.join(names)}) lifts coverage of {self.measure} "
                f"from about {pct(before)} to about {pct(after)}")
        if "robustness" in f:
            text += _labelled(names, f["robustness"].tolist(), f["chosen_share"].tolist(), "chosen")
        return text + "."

    def __str__(self) -> str:
        return self.message


def _labelled(names: list, labels: list, shares: list, what: str) -> str:
    """``"robust: A (100%); coin-flips: B (60%)"`` from published labels and shares, resampling published counts."""
    parts = []
    for label, head in (("robust", "robust"), ("likely", "likely"), ("coin-flip", "coin-flips")):
        hit = [f"{n} ({100 * s:.0f}%)" for n, lab, s in zip(names, labels, shares) if lab == label]
        if hit:
            parts.append(f"{head}: {', '.join(hit)}")
    return f"; {what} in resamples of the published counts (rounded down to 10%): " + "; ".join(parts) if parts else ""


def _check_recommend(table: AreaTable, k, population_budget, jump) -> int | None:
    geo = table.geography
    if k is not None and (not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1):
        raise GangmapError(f"planning.recommend: k={k!r} must be a whole number of {geo.plural}, 1 or more.")
    if population_budget is not None and not (number_or_nan(population_budget) > 0):
        raise InputError(f"planning.recommend: population_budget={population_budget!r} must be a number of people "
                         "above 0, e.g. population_budget=50000.")
    if not number_or_nan(jump) >= 1:
        raise GangmapError(f"planning.recommend: jump={jump!r} must be 1 or more (math.inf: never jump).")
    return 5 if k is None and population_budget is None else k


def _population(table: AreaTable, population: str, cand: np.ndarray, notes: list) -> np.ndarray:
    if population not in table:
        raise InputError(f"planning.recommend: a population budget needs the population column {population!r}, "
                         f"which is not in the table (columns: {some(table.columns, 25)}). Join a population "
                         "table or pass population='COLUMN'.")
    pop = pd.to_numeric(table[population], errors="coerce").to_numpy(dtype=float)
    nopop = cand & ~(np.isfinite(pop) & (pop > 0))
    if nopop.any():
        notes.append(f"left out (no population): {some(table.codes.to_numpy()[nopop])}")
    return pop


def _rule(measure: str, table: AreaTable, budget, contiguous: bool, jump: float) -> str:
    rule = (f"greedy by {measure} per person within a population budget of {budget:,.0f}" if budget is not None
            else f"greedy by {measure}")
    if contiguous:
        rule += (", growing the current areas (queen contiguity; strictly contiguous)" if math.isinf(jump) else
                 f", growing the current areas (queen contiguity; {article(table.geography.label)} elsewhere is taken "
                 f"only if it scores at least {jump:g}x the best bordering {table.geography.label})")
    return rule


def _recommend_frame(table: AreaTable, sel: Selection, picks, v, pop, measure, population, srcs, contiguous):
    cols = list(dict.fromkeys(identifier_columns(table) + [c for c in [measure, *(srcs or ()), population]
                                                           if c in table]))
    rows = [p.row for p in picks]
    out = pd.DataFrame(table.frame.iloc[rows][cols]).reset_index(drop=True)
    out.insert(0, "order", np.arange(1, len(out) + 1))
    out["need"] = v[rows] if rows else np.array([], dtype=float)
    if pop is not None:
        out["need_per_1000"] = out["need"] / pop[rows] * 1000 if rows else np.array([], dtype=float)
    total = np.nansum(v)
    out["share"] = out["need"] / total
    out["coverage_after"] = sel.before + out["share"].cumsum()
    if contiguous:
        out["touches"] = [p.touches for p in picks]
    out["reason"] = [p.reason for p in picks]
    return out


def recommend(table: Any, targets: Any, measure: str = "need_index", *, k: int | None = None,
              population_budget: float | None = None, population: str = "population",
              contiguous: bool = False, w: Any = None, jump: float = 1.5, draws: int = DEFAULT_DRAWS,
              seed: int = DEFAULT_SEED, components: dict | None = None) -> Recommendation:
    """Recommend the next areas for the campaign, greedily by need, with rank uncertainty.

    Rules
    -----
    * **By need** (default): add untargeted areas in order of ``measure``,
      highest first, until ``k`` areas are chosen (default 5).
    * **Population budget**: with ``population_budget`` (e.g. the number of
      children the campaign can reach), rank by need per person
      (``measure / population``) and add each area whose population still
      fits in the budget, skipping those that do not; stop at ``k`` areas if
      ``k`` is also given. Areas with no population are skipped (see ``notes``).
    * **Contiguous** (``contiguous=True``): grow the current areas. At each
      step the *frontier* is the untargeted areas touching (queen contiguity,
      :func:`gangmap.measures.weights`, or ``w``) a targeted or already
      chosen area. Pick the best frontier area, unless the best area
      anywhere scores at least ``jump`` times (default 1.5x) the best frontier
      area: then pick it (a hotspot too strong to ignore starts a new area).
      With no frontier pick the best area anywhere, and grow from it. Use
      ``jump=math.inf`` for strictly contiguous additions.

    Rank uncertainty
    ----------------
    With ``draws`` > 0 (default 200) the counts behind ``measure`` are
    resampled (Poisson, mean = the observed count; see
    :mod:`gangmap.planning.uncertainty`), the measure is recomputed and the
    same rule re-run on every draw. Each chosen area gets a 95% rank interval
    and the share of draws in which it was chosen; the message names the
    robust choices (at least 90%) and the coin-flips (below 70%).

    Parameters
    ----------
    table : AreaTable or (Geo)DataFrame
        One row per area with the measure (and geometry for ``contiguous``).
    targets : Targets or iterable of area codes
    measure : str, default "need_index"
        Any non-negative column: an index, a rate or a count.
    k, population_budget, population, contiguous, w, jump
        As above; ``w`` is a ``libpysal`` W, a :class:`gangmap.measures.Weights`
        or a dict ``{code: [neighbour codes]}``.
    draws, seed : int
        Number of resamples (0: none) and the seed, so runs repeat.
    components : dict, optional
        ``{column: weight}`` of a need index whose weights the table's schema
        does not record (default :data:`gangmap.measures.DEFAULT_INDEX_WEIGHTS`).

    Examples
    --------
    >>> t = pd.DataFrame({"ward_code": list("ABCDE"), "reports": [5, 40, 10, 25, 20]})
    >>> rec = recommend(t, ["E"], "reports", k=2, draws=0)
    >>> rec.codes, rec.message
    (['B', 'D'], 'adding these 2 wards lifts coverage of reports from 20% to 85%')
    """
    table = area_table(table, "recommend")
    k = _check_recommend(table, k, population_budget, jump)
    v = need_values(table, measure, "recommend")
    if not np.nansum(v) > 0:
        raise InputError(f"planning.recommend: {measure!r} adds up to 0 over all {table.geography.plural}; "
                         "nothing to cover.")
    codes = table.codes.astype(str).to_numpy()
    targeted = np.isin(codes, list(as_codes(targets)))
    notes: list[str] = []
    cand = ~targeted & np.isfinite(v)
    if (~targeted & ~np.isfinite(v)).any():
        notes.append(f"left out (no {measure}): {some(codes[~targeted & ~np.isfinite(v)])}")
    pop = _population(table, population, cand, notes) if population_budget is not None else None
    nb = neighbours(table, w, "recommend") if contiguous else None
    before = float(np.nansum(v[targeted]) / np.nansum(v))
    sel = Selection(codes=codes, names=table.names.astype(str).to_numpy(), targeted=targeted, candidates=cand,
                    population=pop, budget=population_budget, k=k, neighbours=nb, jump=float(jump), before=before,
                    label=table.geography.label)
    picks = select(sel, v)
    rows = [p.row for p in picks]
    srcs = sources_of(table, measure)
    out = _recommend_frame(table, sel, picks, v, pop, measure, population, srcs, contiguous)
    unc = resample_selection(table, measure, sel, draws=draws, seed=seed, components=components,
                             notes=notes) if draws else None
    if unc is not None:
        out = pd.concat([out, unc.for_rows(rows, k=len(rows))], axis=1)
    derived = ["need", "need_per_1000", "share", "coverage_after", "rank", "rank_lo", "rank_hi",
               "chosen_share"] + ([measure] if srcs != (measure,) else [])
    areas = result_table(out, table.geography, sources=srcs, derived=derived, context=["order", population])
    message = _recommend_message(table, sel, out, measure, cand, notes, unc, rows)
    spec = RecommendSpec(source=table, measure=measure, selection=sel, draws=int(draws) if unc is not None else 0,
                         seed=int(seed), components=components, contiguous=bool(contiguous),
                         budget=population_budget is not None)
    return Recommendation(areas=areas, before=sel.before, after=float(out["coverage_after"].iloc[-1]) if len(out)
                          else sel.before, message=message, measure=measure,
                          rule=_rule(measure, table, population_budget, contiguous, jump),
                          counts=tuple(srcs or ()), uncertainty=unc, notes=notes, spec=spec)


def _recommend_message(table, sel, out, measure, cand, notes, unc, rows) -> str:
    geo = table.geography
    n = len(out)
    if not n:
        if not cand.any():
            notes.append(f"every {geo.label} with a value is already targeted")
        return f"no {geo.label} to add: coverage of {measure} stays at {pct(sel.before)}"
    after = float(out["coverage_after"].iloc[-1])
    what = f"these {geo.count_of(n)}" if n != 1 else f"this {geo.label}"
    message = f"adding {what} lifts coverage of {measure} from {pct(sel.before)} to {pct(after)}"
    if unc is not None:
        others = [(str(sel.names[i]), s) for i, s in unc.contenders(rows, k=n)[:3]]
        message += "; " + describe_choices([str(sel.names[r]) for r in rows], out["chosen_share"].to_numpy(),
                                           unc.draws, others)
    return message


# =========================================================================== weight sensitivity
@dataclass
class Sensitivity:
    """How a need-index ranking moves with its weights and with its counts (see :func:`weight_sensitivity`).

    Attributes
    ----------
    areas : AreaTable
        One row per ranked area, by base rank: ``need``, ``base_rank``,
        ``best_rank``, ``worst_rank``, ``rank_spread`` (over the weight
        scenarios), ``in_top_k`` (base), ``top_k_runs`` (scenarios with it in
        the top k), ``stable`` (in the top k in every scenario); from
        resampling the counts ``rank_lo``, ``rank_hi`` (95% interval),
        ``top_k_share`` (share of draws in the top k) and ``robust`` (stable
        and in the top k in at least 90% of draws); plus the source counts.
        **Counts**: the source counts; every other number is derived.
    scenarios : DataFrame
        One row per weight scenario: ``scenario``, ``component``, ``change``,
        ``weights`` (after renormalising), ``top_k_kept`` (of the base top k),
        ``entered`` and ``left`` (area names).
    k, delta : int, float
    uncertainty : RankUncertainty or None
    message : str
    counts : tuple of str
    spec : SensitivitySpec or None
        The public settings, so :meth:`safe` can rank again on published values.
    """

    areas: AreaTable
    scenarios: pd.DataFrame
    k: int
    delta: float
    message: str
    counts: tuple = ()
    uncertainty: RankUncertainty | None = None
    notes: list = field(default_factory=list)
    spec: SensitivitySpec | None = field(default=None, repr=False)

    def _repr_html_(self) -> str:  # notebooks
        from ..reprs import card

        facts = [("top k", self.k), ("weight change", f"±{self.delta:g}"), ("areas", f"{len(self.areas):,}")]
        return card("Sensitivity", facts, " ".join([self.message, *self.notes]),
                    [("Weight scenarios", self.scenarios), ("Areas by base rank", self.areas)])

    def table(self) -> AreaTable:
        """Every area with the sensitivity columns and the recipes that publish them (see :meth:`safe`)."""
        if self.spec is None or not self.counts:
            return self.areas
        return sensitivity_table(self, self.spec)

    def safe(self, policy: Any = "nhs", **options):
        """The sensitivity table as published: ranked again from the published values only.

        ``need`` is the need index on the published components (rates from the
        rounded counts, scaled over the shown areas); ranks, the weight
        scenarios, ``in_top_k`` and ``stable`` are worked out again on it;
        ``rank_lo``/``rank_hi``/``top_k_share``/``robust`` come from resampling
        the *published* counts (shares rounded down to 10%). Areas whose counts are hidden
        have no published need and are left out; the rows are cut with
        :meth:`SafeTable.ranked` (``order``: position in the list, no totals).
        The booleans are derived, so hidden with their counts.
        """
        if self.spec is None or not self.counts:  # no declared lineage: publish() says how to declare it
            return publish(self.areas, policy=policy, what="sensitivity table", **options)
        safe = publish(self.table(), policy=policy, what="sensitivity table", **options)
        for col in (*self.spec.components, RANKED_BY["sensitivity"]):
            require_published(safe, col, "sensitivity table")
        return safe.ranked(RANKED_BY["sensitivity"], ascending=True, rank_column=LIST_ORDER)

    def published_message(self, safe: Any) -> str:
        """The message in the figures of the published sensitivity table ``safe`` (from :meth:`safe`)."""
        geo = safe.geography
        f = safe.frame
        top = f[f["in_top_k"].eq(True)] if "in_top_k" in f else f.iloc[0:0]
        if not len(top):
            return (f"From the published figures, no {geo.label} can be ranked: the counts are too small to "
                    "publish.")
        names = top[geo.name if geo.name in top else geo.code].astype(str).tolist()
        stable = int(top["stable"].eq(True).sum()) if "stable" in top else 0
        text = (f"From the published figures, {stable} of the top {len(top)} {geo.plural} stay in the top {self.k} "
                f"under every ±{self.delta:.0%} weight change")
        if "top_k_share" in top:
            shares = top["top_k_share"].tolist()
            labels = [robustness(x) for x in shares]
            text += _labelled(names, labels, shares, f"in the top {self.k}")
        return text + "."


def _check_sensitivity(components, delta, k) -> dict:
    from ..measures import DEFAULT_INDEX_WEIGHTS

    comps = dict(DEFAULT_INDEX_WEIGHTS if components is None else components)
    if not comps:
        raise GangmapError("planning.weight_sensitivity: components is empty; give {column: weight}.")
    if not (0 < float(delta) < 1):
        raise GangmapError(f"planning.weight_sensitivity: delta={delta!r} must be between 0 and 1 (0.25 = ±25%).")
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise GangmapError(f"planning.weight_sensitivity: k={k!r} must be a whole number, 1 or more.")
    return comps


def _index_ranks(table: AreaTable, weights: Mapping, method: str, eligible: np.ndarray):
    from ..measures import need_index
    from .uncertainty import rank_rows

    idx = np.asarray(need_index(table.to_frame(), weights, method=method, name="_gm_sens")["_gm_sens"], dtype=float)
    return rank_rows(np.where(eligible & np.isfinite(idx), idx, -np.inf))[0], idx


def _scenarios(table, comps, delta, k, method, eligible, base_top, names):
    codes = table.codes.astype(str).to_numpy()
    rows, all_ranks = [], []
    for comp in comps:
        for sign in (+1, -1):
            wts = dict(comps)
            wts[comp] = comps[comp] * (1 + sign * delta)
            r, _ = _index_ranks(table, wts, method, eligible)
            all_ranks.append(r)
            top = set(codes[np.isfinite(r) & (r <= k)])
            total = sum(wts.values())
            rows.append({"scenario": f"{comp} {'+' if sign > 0 else '-'}{delta:.0%}", "component": comp,
                         "change": sign * delta, "weights": ", ".join(f"{c} {x / total:.2f}" for c, x in wts.items()),
                         "top_k_kept": len(base_top & top),
                         "entered": ", ".join(names[np.isin(codes, sorted(top - base_top))]),
                         "left": ", ".join(names[np.isin(codes, sorted(base_top - top))])})
    return pd.DataFrame(rows), np.vstack(all_ranks)


def _sensitivity_message(table, out, scen, k, delta, unc) -> str:
    geo = table.geography
    n_top = int(out["in_top_k"].sum())
    worst = scen.loc[scen["top_k_kept"].idxmin()] if len(scen) else None
    message = (f"{int(out['stable'].sum())} of the top {n_top} {geo.plural} stay in the top {k} under every "
               f"±{delta:.0%} weight change; at worst {int(worst['top_k_kept']) if worst is not None else n_top} of "
               f"{n_top} stay (scenario: {worst['scenario'] if worst is not None else '-'}).")
    if unc is not None:
        top = out[out["in_top_k"]]
        names = top[geo.name if geo.name in top else geo.code].astype(str).tolist()
        rows = [int(i) for i in np.flatnonzero(np.isin(np.asarray(unc.codes), top[geo.code].astype(str)))]
        others = [(str(table.names.iloc[i]), s) for i, s in unc.contenders(rows, k=k)[:3]]
        message += (f" Counting chance in the counts too, {int(top['robust'].sum())} of the {n_top} are robust: "
                    + describe_choices(names, top["top_k_share"].to_numpy(), unc.draws, others,
                                       what=f"in the top {k}") + ".")
    return message


def weight_sensitivity(table: Any, components: Mapping[str, float] | None = None, *, delta: float = 0.25,
                       k: int = 10, targets: Any = None, method: str = "minmax", draws: int = DEFAULT_DRAWS,
                       seed: int = DEFAULT_SEED) -> Sensitivity:
    """Check a need-index ranking against ±``delta`` changes in each weight, and against chance in the counts.

    For each component of :func:`gangmap.measures.need_index`, multiply its
    weight by ``1 + delta`` and by ``1 - delta`` (the weights are then
    renormalised to sum to 1) and recompute the index and the ranks. Then,
    with ``draws`` > 0, resample the counts behind the components (Poisson,
    see :mod:`gangmap.planning.uncertainty`) and rank again at the base
    weights: a ranking planners can rely on keeps its top ``k`` under both.

    Parameters
    ----------
    table : AreaTable or DataFrame
        One row per area with the component columns.
    components : dict {column: weight}, optional
        Default :data:`gangmap.measures.DEFAULT_INDEX_WEIGHTS`.
    delta : float, default 0.25
    k : int, default 10
    targets : Targets or iterable of area codes, optional
        If given, only untargeted areas are ranked (the candidates for the
        next areas).
    method : str, default "minmax"
        Passed to :func:`gangmap.measures.need_index`.
    draws, seed : int
        Resamples of the counts (0: none) and their seed.

    Examples
    --------
    >>> t = pd.DataFrame({"ward_code": list("ABCD"), "a": [1.0, 2.0, 3.0, 4.0],
    ...                   "b": [3.5, 1.0, 2.0, 2.5]})
    >>> s = weight_sensitivity(t, {"a": 1, "b": 1}, k=2, draws=0)
    >>> s.areas[["ward_code", "base_rank", "best_rank", "worst_rank", "stable"]]
      ward_code  base_rank  best_rank  worst_rank  stable
    0         D          1          1           1    True
    1         C          2          2           3   False
    2         A          3          2           3   False
    3         B          4          4           4   False
    >>> s.scenarios[["scenario", "top_k_kept"]]
      scenario  top_k_kept
    0   a +25%           2
    1   a -25%           1
    2   b +25%           1
    3   b -25%           2
    >>> s.scenarios.loc[1, ["entered", "left"]].tolist()
    ['A', 'C']
    """
    table = area_table(table, "weight_sensitivity")
    comps = _check_sensitivity(components, delta, k)
    codes = table.codes.astype(str).to_numpy()
    eligible = ~np.isin(codes, list(as_codes(targets)))
    names = table.names.astype(str).to_numpy()
    base, base_idx = _index_ranks(table, comps, method, eligible)
    ok = np.isfinite(base)
    scen, R = _scenarios(table, comps, delta, k, method, eligible, set(codes[ok & (base <= k)]), names)
    notes: list[str] = []
    unc = _sensitivity_draws(table, comps, method, eligible & np.isfinite(base_idx), draws, seed, notes)
    out = _sensitivity_frame(table, comps, base, base_idx, R, k, unc)
    srcs = _component_sources(table, comps)
    # Flags and ranks come from the counts: a flag shown for an area whose count is hidden would place it.
    derived = ["need", "base_rank", "best_rank", "worst_rank", "rank_spread", "top_k_runs", "rank_lo", "rank_hi",
               "top_k_share", "in_top_k", "stable"]
    areas = result_table(out, table.geography, sources=srcs, derived=[c for c in derived if c in out])
    spec = SensitivitySpec(source=table, components=comps, delta=float(delta), k=int(k), method=method,
                           eligible=eligible, draws=int(draws) if unc is not None else 0, seed=int(seed))
    return Sensitivity(areas=areas, scenarios=scen, k=int(k), delta=float(delta),
                       message=_sensitivity_message(table, out, scen, k, delta, unc), counts=tuple(srcs or ()),
                       uncertainty=unc, notes=notes, spec=spec)


def _component_sources(table: AreaTable, comps: Mapping) -> tuple[str, ...] | None:
    out: list[str] = []
    for c in comps:
        s = sources_of(table, c)
        if s is None:
            return None
        out.extend(s)
    return tuple(dict.fromkeys(out))


def _sensitivity_draws(table, comps, method, eligible, draws, seed, notes) -> RankUncertainty | None:
    from ..errors import SchemaError
    from .uncertainty import CannotResample, index_draws, rank_rows

    if not draws:
        return None
    try:
        values = index_draws(table, comps, method=method, draws=draws, seed=seed)
    except (CannotResample, SchemaError) as exc:
        notes.append(f"no rank intervals: {exc}")
        return None
    base, _ = _index_ranks(table, comps, method, eligible)
    return RankUncertainty(codes=tuple(table.codes.astype(str)), base_rank=base,
                           ranks=rank_rows(np.where(eligible[None, :] & np.isfinite(values), values, -np.inf)),
                           chosen=None, draws=int(draws), seed=int(seed))


def _sensitivity_frame(table, comps, base, base_idx, R, k, unc) -> pd.DataFrame:
    ok = np.isfinite(base)
    srcs = _component_sources(table, comps) or ()
    cols = list(dict.fromkeys(identifier_columns(table) + [c for c in srcs if c in table]))
    out = pd.DataFrame(table.frame.loc[ok, cols]).copy()
    out["need"] = base_idx[ok]
    out["base_rank"] = base[ok].astype(int)
    allr = np.vstack([base[None, :], R])[:, ok]
    out["best_rank"] = allr.min(axis=0).astype(int)
    out["worst_rank"] = allr.max(axis=0).astype(int)
    out["rank_spread"] = out["worst_rank"] - out["best_rank"]
    out["in_top_k"] = out["base_rank"] <= k
    out["top_k_runs"] = (R[:, ok] <= k).sum(axis=0).astype(int)
    out["stable"] = out["in_top_k"] & (out["top_k_runs"] == len(R))
    if unc is not None:
        lo, hi = unc.interval()
        out["rank_lo"], out["rank_hi"] = lo[ok].astype(int), hi[ok].astype(int)
        out["top_k_share"] = unc.top_share(k)[ok]
        out["robust"] = out["stable"] & (out["top_k_share"] >= ROBUST)
    return out.sort_values(["base_rank", table.geography.code], kind="stable").reset_index(drop=True)
