"""Planning: where should the campaign go next, where should the next hub go, and is it working?

Three questions planners ask of the joined, measured ward table:

1. **Campaign targeting.** :func:`read_targets` reads the current target areas
   (districts, ward names, ward codes) from a TOML file; :func:`coverage` says
   what share of the county's need they cover; :func:`rank_untargeted` and
   :func:`recommend` say which wards to add next (optionally growing the
   current areas contiguously, or within a population budget);
   :func:`weight_sensitivity` says whether that ranking survives a ±25%
   change in the weights of the need index.
2. **Hub rollout.** :func:`plan_hubs` solves the maximal covering location
   problem (``spopt.locate.MCLP`` with the CBC solver bundled with PuLP < 4):
   given the existing hub(s) (fixed) and ``p`` new hubs at candidate schools,
   maximise the need of schools within ``radius_m`` of a hub. It also gives a
   transparent greedy answer, the gap between the two, a capacity-limited
   assignment of schools to hubs, and map layers.
3. **Is the campaign working?** :func:`did` compares report counts before and
   after the launch in targeted and other wards (a difference-in-differences
   rate ratio with a 95% confidence interval) and :func:`did_chart` draws it.

Disclosure
----------
Every table returned here is a plain (Geo)DataFrame whose
``attrs["gangmap_derived"]`` records, for each computed column, the raw
count columns it was computed from (``{new_col: [source counts]}``), and the
source count columns travel with it. Each result has a ``safe(policy=...)``
method (and :func:`did_table_safe`) that passes its table through
:func:`gangmap.disclosure.make_safe`, the only way anything reaches a file::

    rec = planning.recommend(table, targets, k=8)
    gangmap.export.write_table(rec.safe(), "out/next_wards.csv")

Examples
--------
>>> import gangmap
>>> from gangmap import measures, planning
>>> p = gangmap.demo.paths()  # doctest: +SKIP
>>> table, _ = gangmap.join(p["wards"], reports=p["reports"], referrals=p["referrals"],
...                         schools=p["schools"], population=p["population"])  # doctest: +SKIP
>>> table = measures.need_index(measures.rate(measures.rate(table, "reports", "population"),
...                                           "referrals", "population"))  # doctest: +SKIP
>>> targets = planning.read_targets(p["campaign"], table)  # doctest: +SKIP
>>> print(planning.recommend(table, targets, k=4).message)  # doctest: +SKIP
adding these 4 wards lifts coverage of need_index from 61% to 75%
"""

from __future__ import annotations

import datetime as _dt
import difflib
import math
import re
import tomllib
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError, GangmapError, InputError
from ..joining.core import normalise_name

__all__ = [
    "Targets",
    "read_targets",
    "coverage",
    "rank_untargeted",
    "Recommendation",
    "recommend",
    "Sensitivity",
    "weight_sensitivity",
    "school_need",
    "HubPlan",
    "Gap",
    "GreedyResult",
    "plan_hubs",
    "DiD",
    "did",
    "did_chart",
    "did_table_safe",
    "CAMPAIGN_KEYS",
]

#: Keys understood in the ``[campaign]`` table of a campaign TOML file.
CAMPAIGN_KEYS = ("name", "launch", "districts", "ward_names", "ward_codes", "description")

_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_IDS = ["ward_code", "ward_name", "lad_code", "lad_name"]


# =========================================================================== helpers
def _some(items: Iterable, limit: int = 10) -> str:
    items = [str(i) for i in items]
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f" ... and {len(items) - limit} more"


def _sources(table: pd.DataFrame, column: str) -> list[str]:
    """Raw count columns ``column`` was computed from (itself if it is a raw count)."""
    derived = table.attrs.get("gangmap_derived", {}) or {}
    return list(derived.get(column, [column]))


def _finish(frame: pd.DataFrame, derived: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Set ``attrs["gangmap_derived"]`` (only for columns present) and return ``frame``."""
    frame.attrs = {"gangmap_derived": {c: list(dict.fromkeys(s)) for c, s in derived.items()
                                       if c in frame.columns and c not in s}}
    return frame


def _require_table(table: Any, func: str, columns: Sequence[str] = ("ward_code",)) -> None:
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"planning.{func}: expected the ward table (a DataFrame with one row per ward), got "
                         f"{type(table).__name__}. Pass the table from gangmap.join().")
    for c in columns:
        if c not in table.columns:
            raise InputError(f"planning.{func}: column {c!r} not found; the table has columns "
                             f"{_some(table.columns, 25)}. Pass the ward table from gangmap.join().")
    if "ward_code" in columns and table["ward_code"].duplicated().any():
        dup = table.loc[table["ward_code"].duplicated(keep=False), "ward_code"].unique()
        raise InputError(f"planning.{func}: ward_code is duplicated ({_some(dup)}); the table must have one "
                         "row per ward.")


def _need(table: pd.DataFrame, measure: str, func: str) -> np.ndarray:
    """The need measure as floats (NaN allowed, negative not)."""
    if measure not in table.columns:
        hint = ""
        if measure == "need_index":
            hint = (" Compute it first: table = measures.need_index(table) (after measures.rate for "
                    "reports and referrals), or pass measure='reports' for a rate-free measure.")
        raise InputError(f"planning.{func}: measure column {measure!r} not found; the table has columns "
                         f"{_some(table.columns, 25)}.{hint}")
    try:
        v = pd.to_numeric(table[measure], errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        raise InputError(f"planning.{func}: measure column {measure!r} is not numeric. Pass a numeric "
                         "column (a count, a rate or an index).") from None
    neg = np.flatnonzero(np.nan_to_num(v, nan=0.0) < 0)
    if len(neg):
        raise InputError(f"planning.{func}: measure {measure!r} is negative for ward(s) "
                         f"{_some(table['ward_code'].iloc[neg])}; coverage shares need values of 0 or "
                         "more. Use a count, rate or 0-100 index (measures.need_index).")
    return v


def _as_codes(targets: Any) -> frozenset:
    if isinstance(targets, Targets):
        return targets.codes
    if targets is None:
        return frozenset()
    if isinstance(targets, str):
        return frozenset([targets])
    return frozenset(str(t) for t in targets)


def _id_columns(table: pd.DataFrame) -> list[str]:
    return [c for c in _IDS if c in table.columns]


def _count_sources(table: pd.DataFrame, columns: Iterable[str]) -> list[str]:
    """Union of the raw count sources of ``columns`` that are present in ``table``."""
    out: list[str] = []
    for c in columns:
        out.extend(s for s in _sources(table, c) if s in table.columns)
    return list(dict.fromkeys(out))


def _safe(frame: pd.DataFrame, counts: Sequence[str], *, policy, keep=(), hierarchy=(), period=None,
          what: str = "table", **options):
    """make_safe with a clear error when there is no count column to protect."""
    from ..disclosure import make_safe

    counts = [c for c in counts if c in frame.columns]
    if not counts:
        raise GangmapError(
            f"the {what} has no raw count column to make safe (its values were computed from counts "
            "that are not in it). Keep the count columns in the ward table (e.g. 'reports', "
            "'referrals') before planning, or make the ward table itself safe instead.")
    keep = [k for k in keep if k in frame.columns and k not in counts]
    return make_safe(frame, counts=counts, policy=policy, keep=keep, hierarchy=hierarchy, period=period,
                     **options)


def _month(value: Any, what: str, source: str) -> str:
    """A month as ``YYYY-MM`` (accepts TOML dates and ``YYYY-MM-DD``)."""
    if isinstance(value, (_dt.date, _dt.datetime)):
        return f"{value.year:04d}-{value.month:02d}"
    s = str(value).strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}", s):
        s = s[:7]
    if not _MONTH_RE.match(s):
        raise ConfigError(f"{source}: {what} {value!r} is not a month; write it as YYYY-MM, e.g. "
                          "launch = \"2018-03\".")
    return s


def _months(start: str, end: str) -> list[str]:
    return [str(p) for p in pd.period_range(start, end, freq="M")]


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


# =========================================================================== 1. targeting
@dataclass(frozen=True)
class Targets:
    """The wards a campaign currently targets.

    Attributes
    ----------
    codes : frozenset of str
        Ward codes of the targeted wards.
    launch : str or None
        Launch month ``YYYY-MM``.
    name : str
        Campaign name.
    source : str
        Where the targets came from (file name or ``"<dict>"``).
    matched : DataFrame
        How each entry of the config matched: ``kind`` (district, ward name,
        ward code), ``value`` and ``ward_codes``.

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
    matched: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["kind", "value", "ward_codes"]),
                                  compare=False)

    def mask(self, table: pd.DataFrame) -> pd.Series:
        """Boolean Series (aligned with ``table``): True for targeted wards."""
        _require_table(table, "Targets.mask")
        return table["ward_code"].astype(str).isin(self.codes).rename("targeted")

    def __len__(self) -> int:
        return len(self.codes)

    def __contains__(self, code) -> bool:
        return code in self.codes

    def summary(self) -> str:
        parts = [f"{self.name}: {len(self.codes)} target wards"]
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


def _wards_for_targets(wards: Any) -> pd.DataFrame:
    if isinstance(wards, pd.DataFrame) and "ward_code" in wards.columns:
        return wards
    from ..io.boundaries import read_wards

    return read_wards(wards)


def read_targets(config: Any, wards: Any) -> Targets:
    """Read the current campaign target areas and resolve them to ward codes.

    Parameters
    ----------
    config : str, Path or dict
        A TOML file (or the dict it parses to) with a ``[campaign]`` table::

            [campaign]
            name = "Campaign (launched 2018-03)"
            launch = "2018-03"                 # YYYY-MM
            districts = ["Wellmere"]           # district names or codes: all their wards
            ward_names = ["Eastfield", "Castle (Castleford)"]
            ward_codes = ["E05900007"]

        Names match like :func:`gangmap.join.join` does (ignoring case,
        spaces, punctuation and "&"/"and"). A ward name found in two
        districts must say which: ``"Castle (Northampton)"``. A dict without
        a ``campaign`` key is taken as the campaign table itself.
    wards : GeoDataFrame, DataFrame or path
        The ward table (``ward_code``, ``ward_name``, ``lad_code``,
        ``lad_name``), e.g. the joined table, or anything
        :func:`gangmap.read_wards` reads.

    Returns
    -------
    Targets

    Raises
    ------
    ConfigError
        Missing file or ``[campaign]`` table, unknown keys, unknown or
        ambiguous names/codes (all listed at once, with the closest
        candidates), a bad launch month, or no ward selected.

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
    >>> read_targets({"ward_names": ["Castel"]}, wards)
    Traceback (most recent call last):
    ...
    gangmap.errors.ConfigError: <dict>: [campaign] ward_names: 'Castel' is not a ward name (closest: Castle). Fix the spelling in the campaign file or give ward_codes instead.
    """
    data, source = _load_config(config)
    if "campaign" in data:
        camp = data["campaign"]
    else:  # a dict holding the campaign table itself
        camp = data if set(data) & set(CAMPAIGN_KEYS) else None
    if camp is None or not isinstance(camp, Mapping):
        raise ConfigError(f"{source}: no [campaign] table. Add one with districts, ward_names and/or "
                          "ward_codes, e.g.\n[campaign]\nlaunch = \"2018-03\"\nward_names = [\"Castle\"]")
    unknown = [k for k in camp if k not in CAMPAIGN_KEYS]
    if unknown:
        hints = [f"{k!r}" + (f" (did you mean {difflib.get_close_matches(k, CAMPAIGN_KEYS, 1)[0]!r}?)"
                             if difflib.get_close_matches(k, CAMPAIGN_KEYS, 1) else "") for k in unknown]
        raise ConfigError(f"{source}: [campaign] has unknown key(s) {', '.join(hints)}; the keys are "
                          f"{', '.join(CAMPAIGN_KEYS)}.")
    wards = _wards_for_targets(wards)
    _require_table(wards, "read_targets", ["ward_code", "ward_name"])
    codes_all = wards["ward_code"].astype(str).tolist()
    names_norm = wards["ward_name"].map(normalise_name).tolist()
    lad_code = wards["lad_code"].astype(str).tolist() if "lad_code" in wards else [""] * len(wards)
    lad_name = wards["lad_name"].astype(str).tolist() if "lad_name" in wards else [""] * len(wards)
    lad_norm = [normalise_name(x) for x in lad_name]
    lad_code_norm = [normalise_name(x) for x in lad_code]

    problems: list[str] = []
    chosen: dict[str, None] = {}
    matched = []

    for value in _as_list(camp.get("districts"), "districts", source):
        n = normalise_name(value)
        hit = [c for c, a, b in zip(codes_all, lad_norm, lad_code_norm) if n in (a, b)]
        if not hit:
            known = sorted({x for x in lad_name if x} | {x for x in lad_code if x})
            close = difflib.get_close_matches(value, known, n=3, cutoff=0.5)
            problems.append(f"districts: {value!r} is not a district name or code of these wards"
                            f" (closest: {', '.join(close) or 'none'}; districts are {_some(sorted(set(lad_name)))})")
            continue
        matched.append(("district", value, hit))
        chosen.update(dict.fromkeys(hit))

    by_name: dict[str, list[int]] = {}
    for i, n in enumerate(names_norm):
        by_name.setdefault(n, []).append(i)
    for value in _as_list(camp.get("ward_names"), "ward_names", source):
        n = normalise_name(value)
        idx = by_name.get(n, [])
        m = re.match(r"^(.*)\(([^()]*)\)\s*$", value)
        if len(idx) != 1 and m:  # "Castle (Northampton)"
            base, dist = normalise_name(m.group(1)), normalise_name(m.group(2))
            idx = [i for i in by_name.get(base, []) if dist in (lad_norm[i], lad_code_norm[i])]
        if len(idx) == 1:
            matched.append(("ward name", value, [codes_all[idx[0]]]))
            chosen[codes_all[idx[0]]] = None
        elif len(idx) > 1:
            opts = "; ".join(f"\"{wards['ward_name'].iloc[i]} ({lad_name[i]})\" = {codes_all[i]}" for i in idx)
            problems.append(f"ward_names: {value!r} is in more than one district ({opts}); write the "
                            "district in brackets or use ward_codes")
        else:
            close = difflib.get_close_matches(n, list(by_name), n=3, cutoff=0.6)
            shown = ", ".join(wards["ward_name"].iloc[by_name[c][0]] for c in close) or "none"
            problems.append(f"ward_names: {value!r} is not a ward name (closest: {shown})")

    valid = set(codes_all)
    for value in _as_list(camp.get("ward_codes"), "ward_codes", source):
        code = value.strip().upper()
        if code in valid:
            matched.append(("ward code", value, [code]))
            chosen[code] = None
        else:
            close = difflib.get_close_matches(code, codes_all, n=3, cutoff=0.7)
            problems.append(f"ward_codes: {value!r} is not a ward code of these wards (closest: "
                            f"{', '.join(close) or 'none'}; are the boundaries the right vintage?)")

    if problems:
        fix = "Fix the spelling in the campaign file or give ward_codes instead."
        if len(problems) == 1:
            raise ConfigError(f"{source}: [campaign] {problems[0]}. {fix}")
        raise ConfigError(f"{source}: [campaign] has {len(problems)} problems:\n  - " + "\n  - ".join(problems)
                          + f"\n{fix}")
    if not chosen:
        raise ConfigError(f"{source}: [campaign] selects no ward; list districts, ward_names or ward_codes.")
    launch = camp.get("launch")
    launch = None if launch in (None, "") else _month(launch, "[campaign] launch", source)
    name = str(camp.get("name") or (Path(source).stem if source != "<dict>" else "campaign"))
    table = pd.DataFrame(matched, columns=["kind", "value", "ward_codes"])
    return Targets(codes=frozenset(chosen), launch=launch, name=name, source=source, matched=table)


def coverage(table: pd.DataFrame, targets: Any, measure: str = "need_index") -> float:
    """Share (0-1) of the county's total ``measure`` that falls in targeted wards.

    ``sum(measure over targeted wards) / sum(measure over all wards)``; wards
    with a missing value count as 0. With a count (``"reports"``) this is the
    share of reports; with a 0-100 index it is the share of summed need.

    Parameters
    ----------
    table : DataFrame
        The ward table (``ward_code`` and ``measure``).
    targets : Targets or iterable of ward codes
    measure : str, default "need_index"

    Examples
    --------
    >>> t = pd.DataFrame({"ward_code": ["A", "B", "C"], "reports": [10, 30, 60]})
    >>> coverage(t, ["B", "C"], "reports")
    0.9
    """
    _require_table(table, "coverage")
    v = np.nan_to_num(_need(table, measure, "coverage"), nan=0.0)
    total = v.sum()
    if not total > 0:
        raise InputError(f"planning.coverage: {measure!r} adds up to 0 over all wards, so no share can be "
                         "computed. Check the measure was computed on the joined table.")
    codes = _as_codes(targets)
    mask = table["ward_code"].astype(str).isin(codes).to_numpy()
    return float(v[mask].sum() / total)


def rank_untargeted(table: pd.DataFrame, targets: Any, measure: str = "need_index") -> pd.DataFrame:
    """Untargeted wards ranked by ``measure``, highest first.

    Returns
    -------
    DataFrame
        ``rank`` (1 = highest), the ward identifiers, ``need`` (the
        measure), ``share`` (of the county total) and ``coverage_if_added``
        (coverage with this ward and every ward above it added), plus the
        raw count columns the measure came from and ``population`` if
        present. **Counts**: the source count columns (e.g. ``reports``,
        ``referrals``). **Derived** (in ``attrs["gangmap_derived"]``):
        ``need``, ``share``, ``coverage_if_added``, ``rank`` and the measure
        column if it is itself derived. Wards with a missing measure are left out.

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
    _require_table(table, "rank_untargeted")
    v = _need(table, measure, "rank_untargeted")
    total = np.nansum(v)
    if not total > 0:
        raise InputError(f"planning.rank_untargeted: {measure!r} adds up to 0 over all wards.")
    codes = _as_codes(targets)
    targeted = table["ward_code"].astype(str).isin(codes).to_numpy()
    before = float(np.nansum(v[targeted]) / total)
    keep = ~targeted & np.isfinite(v)
    srcs = _count_sources(table, [measure])
    cols = _id_columns(table) + [c for c in [measure, *srcs, "population"] if c in table.columns]
    cols = list(dict.fromkeys(cols))
    out = pd.DataFrame(table.loc[keep, cols]).copy()
    out["need"] = v[keep]
    order = np.argsort(-out["need"].to_numpy(), kind="stable")
    out = out.iloc[order].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out["share"] = out["need"] / total
    out["coverage_if_added"] = before + out["share"].cumsum()
    out = pd.DataFrame(out)  # plain frame, no geometry
    derived = {c: srcs for c in ("need", "share", "coverage_if_added", "rank")}
    if srcs != [measure]:
        derived[measure] = srcs
    return _finish(out, derived)


@dataclass
class Recommendation:
    """Wards recommended for the campaign next (see :func:`recommend`).

    Attributes
    ----------
    wards : DataFrame
        The chosen wards in the order chosen: ``order``, identifiers,
        ``need``, ``share``, ``coverage_after`` (cumulative coverage), and
        ``touches`` (the targeted or chosen ward it borders, contiguous mode),
        ``reason``, plus the source counts and ``population`` if present.
        **Counts**: the source count columns; every other number is derived.
    before, after : float
        Coverage (0-1) before and after adding the wards.
    message : str
        E.g. "adding these 8 wards lifts coverage of need_index from 38% to 61%".
    measure : str
    rule : str
        How the wards were chosen, in words.
    counts : tuple of str
        Source count columns in :attr:`wards` (what :meth:`safe` protects).
    notes : list of str
    """

    wards: pd.DataFrame
    before: float
    after: float
    message: str
    measure: str
    rule: str
    counts: tuple = ()
    notes: list = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        """Codes of the recommended wards, in order."""
        return self.wards["ward_code"].tolist()

    def table(self) -> pd.DataFrame:
        """The table for :func:`gangmap.disclosure.make_safe` (counts named, derived recorded).

        When the measure is itself a raw count, ``need`` (a copy of it) is
        left out so the count is only shown rounded.
        """
        t = self.wards.copy()
        if self.measure in self.counts:
            t = t.drop(columns=["need"])
        return _finish(t, self.wards.attrs.get("gangmap_derived", {}))

    def safe(self, policy: Any = "nhs", **options):
        """The recommendation made safe: ``make_safe(self.table(), counts=self.counts, ...)``.

        The running ``share`` and ``coverage_after`` columns and the ``reason``
        text are left out: next to each other, rows either side of a suppressed
        ward would give its value away. The coverage before and after is in
        :attr:`message` (county-wide sums). Pass ``pattern=`` (the full ward
        SafeTable) so this table hides the same cells as the others.
        """
        t = self.table().drop(columns=["share", "coverage_after", "reason"], errors="ignore")
        return _safe(t, self.counts, policy=policy, keep=["order", "touches", "population"],
                     what="recommendation", **options)

    def __str__(self) -> str:
        return self.message


def _neighbours(table: pd.DataFrame, w: Any, func: str) -> dict[str, set]:
    if w is None:
        if not hasattr(table, "geometry") or "geometry" not in getattr(table, "columns", []):
            raise InputError(f"planning.{func}: contiguous=True needs ward boundaries: pass the joined "
                             "GeoDataFrame (with geometry) or spatial weights w=measures.weights(table).")
        from ..measures import weights

        w = weights(table, "queen")
    nb = {str(k): {str(x) for x in v} for k, v in w.neighbors.items()}
    missing = [c for c in table["ward_code"].astype(str) if c not in nb]
    if missing:
        raise InputError(f"planning.{func}: the spatial weights have no entry for ward(s) {_some(missing)}; "
                         "build them from this table: measures.weights(table).")
    return nb


def recommend(table: pd.DataFrame, targets: Any, measure: str = "need_index", *, k: int | None = None,
              population_budget: float | None = None, population: str = "population",
              contiguous: bool = False, w: Any = None, jump: float = 1.5) -> Recommendation:
    """Recommend the next wards for the campaign, greedily by need.

    Rules
    -----
    * **By need** (default): add untargeted wards in order of ``measure``,
      highest first, until ``k`` wards are chosen (default 5).
    * **Population budget**: with ``population_budget`` (e.g. the number of
      children the campaign can reach), rank by need per person
      (``measure / population``) and add each ward whose population still fits
      in the budget, skipping those that do not; stop at ``k`` wards if ``k``
      is also given. Wards with no population are skipped (see ``notes``).
    * **Contiguous** (``contiguous=True``): grow the current areas. At each
      step the *frontier* is the untargeted wards touching (queen contiguity,
      :func:`gangmap.measures.weights`, or ``w``) a targeted or already chosen
      ward. Pick the best frontier ward, unless the best ward anywhere scores
      at least ``jump`` times (default 1.5×) the best frontier ward, in which
      case pick it (it starts a new area: a hotspot too strong to ignore).
      With no frontier (no targets yet, or the frontier is exhausted) pick the
      best ward anywhere, and grow from it. "Best" is by need, or by need per
      person under a budget. Use ``jump=math.inf`` for strictly contiguous
      additions.

    Parameters
    ----------
    table : (Geo)DataFrame
        The ward table with ``ward_code`` and ``measure`` (and geometry for
        ``contiguous=True``).
    targets : Targets or iterable of ward codes
    measure : str, default "need_index"
        Any non-negative column: an index, a rate or a count.
    k : int, optional
        Number of wards to add (default 5 when there is no budget).
    population_budget : float, optional
        Total population the added wards may have.
    population : str, default "population"
    contiguous : bool, default False
    w : libpysal.weights.W, optional
        Spatial weights with ward codes as ids (default queen contiguity).
    jump : float, default 1.5

    Returns
    -------
    Recommendation

    Examples
    --------
    >>> t = pd.DataFrame({"ward_code": list("ABCDE"), "reports": [5, 40, 10, 25, 20]})
    >>> rec = recommend(t, ["E"], "reports", k=2)
    >>> rec.codes, rec.message
    (['B', 'D'], 'adding these 2 wards lifts coverage of reports from 20% to 85%')
    """
    _require_table(table, "recommend")
    v = _need(table, measure, "recommend")
    total = np.nansum(v)
    if not total > 0:
        raise InputError(f"planning.recommend: {measure!r} adds up to 0 over all wards; nothing to cover.")
    if k is not None and (not isinstance(k, (int, np.integer)) or k < 1):
        raise GangmapError(f"planning.recommend: k={k!r} must be a whole number of wards, 1 or more.")
    if population_budget is not None and not (float(population_budget) > 0):
        raise GangmapError(f"planning.recommend: population_budget={population_budget!r} must be above 0.")
    if jump is None or not float(jump) >= 1:
        raise GangmapError(f"planning.recommend: jump={jump!r} must be 1 or more (math.inf: never jump).")
    if k is None and population_budget is None:
        k = 5
    codes = table["ward_code"].astype(str).to_numpy()
    tset = _as_codes(targets)
    targeted = np.isin(codes, list(tset))
    notes: list[str] = []
    cand = ~targeted & np.isfinite(v)
    if (~targeted & ~np.isfinite(v)).any():
        notes.append(f"left out (no {measure}): {_some(codes[~targeted & ~np.isfinite(v)])}")
    pop = None
    if population_budget is not None:
        if population not in table.columns:
            raise InputError(f"planning.recommend: a population budget needs the population column "
                             f"{population!r}, which is not in the table (columns: {_some(table.columns, 25)}). "
                             "Join a population table or pass population='COLUMN'.")
        pop = pd.to_numeric(table[population], errors="coerce").to_numpy(dtype=float)
        nopop = cand & ~(np.isfinite(pop) & (pop > 0))
        if nopop.any():
            notes.append(f"left out (no population): {_some(codes[nopop])}")
        cand &= np.isfinite(pop) & (pop > 0)
        score = np.where(cand, v / np.where(cand, pop, 1.0), -np.inf)
        rule = f"greedy by {measure} per person within a population budget of {population_budget:,.0f}"
    else:
        score = np.where(cand, v, -np.inf)
        rule = f"greedy by {measure}"
    nb = _neighbours(table, w, "recommend") if contiguous else None
    if contiguous:
        rule += (", growing the current areas (queen contiguity; strictly contiguous)" if math.isinf(jump) else
                 f", growing the current areas (queen contiguity; a ward elsewhere is taken only if it scores "
                 f"at least {jump:g}x the best bordering ward)")

    selected = set(codes[targeted])
    remaining = float(population_budget) if population_budget is not None else math.inf
    picks: list[tuple[int, str, str]] = []
    avail = cand.copy()
    pos = {c: i for i, c in enumerate(codes)}
    label = table["ward_name"].astype(str).to_numpy() if "ward_name" in table.columns else codes
    while avail.any() and (k is None or len(picks) < k):
        fits = avail & ((pop if pop is not None else np.zeros(len(v))) <= remaining)
        if not fits.any():
            break
        order = np.flatnonzero(fits)
        best_any = order[np.argmax(score[order])]  # first of equals, in table order
        touches, reason = "", "highest need" if pop is None else "highest need per person"
        choice = best_any
        if nb is not None:
            front = [i for i in order if nb[codes[i]] & selected]
            if front:
                best_front = front[int(np.argmax(score[front]))]
                if best_front != best_any and score[best_any] >= jump * score[best_front] and score[best_front] >= 0:
                    choice = best_any
                    reason = (f"new area: scores {score[best_any] / score[best_front]:.1f}x the best bordering "
                              f"ward" if score[best_front] > 0 else "new area: bordering wards have no need")
                else:
                    choice = best_front
                    reason = "borders the current areas"
            else:
                reason = "new area: no untargeted ward borders the current areas"
            near = sorted(nb[codes[choice]] & selected, key=lambda c: pos.get(c, 0))
            touches = ", ".join(str(label[pos[c]]) if c in pos else c for c in near)
        picks.append((int(choice), touches, reason))
        selected.add(codes[choice])
        avail[choice] = False
        if pop is not None:
            remaining -= pop[choice]

    srcs = _count_sources(table, [measure])
    cols = list(dict.fromkeys(_id_columns(table) + [c for c in [measure, *srcs, population] if c in table.columns]))
    rows = [int(i) for i, _, _ in picks]
    out = pd.DataFrame(table.iloc[rows][cols]).reset_index(drop=True)
    out.insert(0, "order", np.arange(1, len(out) + 1))
    out["need"] = v[rows] if rows else np.array([], dtype=float)
    if pop is not None:
        out["need_per_1000"] = out["need"] / pop[rows] * 1000 if rows else np.array([], dtype=float)
    before = float(np.nansum(v[targeted]) / total)
    out["share"] = out["need"] / total
    out["coverage_after"] = before + out["share"].cumsum()
    if contiguous:
        out["touches"] = [t for _, t, _ in picks]
    out["reason"] = [r for _, _, r in picks]
    after = float(out["coverage_after"].iloc[-1]) if len(out) else before
    n = len(out)
    if n:
        message = (f"adding these {n} ward{'s' if n != 1 else ''} lifts coverage of {measure} from "
                   f"{_pct(before)} to {_pct(after)}")
    else:
        message = f"no ward to add: coverage of {measure} stays at {_pct(before)}"
        if not cand.any():
            notes.append("every ward with a value is already targeted")
    derived = {c: srcs for c in ("need", "need_per_1000", "share", "coverage_after")}
    if srcs != [measure]:
        derived[measure] = srcs
    out = _finish(pd.DataFrame(out), derived)
    return Recommendation(wards=out, before=before, after=after, message=message, measure=measure, rule=rule,
                          counts=tuple(srcs), notes=notes)


@dataclass
class Sensitivity:
    """How a need-index ranking moves when its weights change (see :func:`weight_sensitivity`).

    Attributes
    ----------
    wards : DataFrame
        One row per ranked ward, by base rank: ``base_rank``, ``best_rank``,
        ``worst_rank``, ``rank_spread`` (worst - best), ``in_top_k`` (base),
        ``top_k_runs`` (in how many of the scenarios it is in the top k) and
        ``stable`` (in the top k in every scenario), plus source counts.
        **Counts**: the source count columns; the rest is derived.
    scenarios : DataFrame
        One row per scenario: ``scenario``, ``component``, ``change``,
        ``weights`` (after renormalising), ``top_k_kept`` (of the base top k),
        ``entered`` and ``left`` (ward names).
    k, delta : int, float
    message : str
    """

    wards: pd.DataFrame
    scenarios: pd.DataFrame
    k: int
    delta: float
    message: str
    counts: tuple = ()

    def safe(self, policy: Any = "nhs", **options):
        """The ward table made safe (ranks are suppressed where a source count is)."""
        return _safe(self.wards, self.counts, policy=policy, keep=["in_top_k", "stable"],
                     what="sensitivity table", **options)


def weight_sensitivity(table: pd.DataFrame, components: Mapping[str, float] | None = None, *,
                       delta: float = 0.25, k: int = 10, targets: Any = None,
                       method: str = "minmax") -> Sensitivity:
    """Check a need-index ranking against ±``delta`` changes in each weight.

    For each component of :func:`gangmap.measures.need_index`, multiply its
    weight by ``1 + delta`` and by ``1 - delta`` (the weights are then
    renormalised to sum to 1) and recompute the index and the ranks. A
    ranking planners can rely on keeps most of its top ``k`` in every
    scenario.

    Parameters
    ----------
    table : DataFrame
        The ward table with the component columns.
    components : dict {column: weight}, optional
        Default :data:`gangmap.measures.DEFAULT_INDEX_WEIGHTS`.
    delta : float, default 0.25
    k : int, default 10
    targets : Targets or iterable of ward codes, optional
        If given, only untargeted wards are ranked (the candidates for the
        next areas).
    method : str, default "minmax"
        Passed to :func:`gangmap.measures.need_index`.

    Returns
    -------
    Sensitivity

    Examples
    --------
    >>> t = pd.DataFrame({"ward_code": list("ABCD"), "a": [1.0, 2.0, 3.0, 4.0],
    ...                   "b": [3.5, 1.0, 2.0, 2.5]})
    >>> s = weight_sensitivity(t, {"a": 1, "b": 1}, k=2)
    >>> s.wards[["ward_code", "base_rank", "best_rank", "worst_rank", "stable"]]
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
    from ..measures import DEFAULT_INDEX_WEIGHTS, need_index

    _require_table(table, "weight_sensitivity")
    comps = dict(DEFAULT_INDEX_WEIGHTS if components is None else components)
    if not comps:
        raise GangmapError("planning.weight_sensitivity: components is empty; give {column: weight}.")
    if not (0 < float(delta) < 1):
        raise GangmapError(f"planning.weight_sensitivity: delta={delta!r} must be between 0 and 1 (0.25 = ±25%).")
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise GangmapError(f"planning.weight_sensitivity: k={k!r} must be a whole number, 1 or more.")
    codes = table["ward_code"].astype(str).to_numpy()
    eligible = ~np.isin(codes, list(_as_codes(targets)))

    def ranks(weights: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
        idx = need_index(table, weights, method=method, name="_gm_sens")["_gm_sens"].to_numpy(dtype=float)
        ok = eligible & np.isfinite(idx)
        r = np.full(len(idx), np.nan)
        from scipy.stats import rankdata

        r[ok] = rankdata(-idx[ok], method="min")
        return r, idx

    base, base_idx = ranks(comps)
    ok = np.isfinite(base)
    scen_rows, all_ranks = [], []
    base_top = set(codes[ok & (base <= k)])
    names = table["ward_name"].astype(str).to_numpy() if "ward_name" in table else codes
    for comp in comps:
        for sign in (+1, -1):
            wts = dict(comps)
            wts[comp] = comps[comp] * (1 + sign * delta)
            r, _ = ranks(wts)
            all_ranks.append(r)
            top = set(codes[np.isfinite(r) & (r <= k)])
            total = sum(wts.values())
            scen_rows.append({
                "scenario": f"{comp} {'+' if sign > 0 else '-'}{delta:.0%}",
                "component": comp,
                "change": sign * delta,
                "weights": ", ".join(f"{c} {x / total:.2f}" for c, x in wts.items()),
                "top_k_kept": len(base_top & top),
                "entered": ", ".join(names[np.isin(codes, sorted(top - base_top))]),
                "left": ", ".join(names[np.isin(codes, sorted(base_top - top))]),
            })
    R = np.vstack(all_ranks) if all_ranks else base[None, :]
    srcs = _count_sources(table, list(comps))
    cols = list(dict.fromkeys(_id_columns(table) + srcs))
    out = pd.DataFrame(table.loc[ok, cols]).copy()
    out["need"] = base_idx[ok]
    out["base_rank"] = base[ok].astype(int)
    allr = np.vstack([base[None, :], R])[:, ok]
    out["best_rank"] = allr.min(axis=0).astype(int)
    out["worst_rank"] = allr.max(axis=0).astype(int)
    out["rank_spread"] = out["worst_rank"] - out["best_rank"]
    out["in_top_k"] = out["base_rank"] <= k
    out["top_k_runs"] = (R[:, ok] <= k).sum(axis=0).astype(int)
    out["stable"] = out["in_top_k"] & (out["top_k_runs"] == len(R))
    out = out.sort_values(["base_rank", "ward_code"], kind="stable").reset_index(drop=True)
    scen = pd.DataFrame(scen_rows)
    n_top = len(base_top)
    kept_min = int(scen["top_k_kept"].min()) if len(scen) else n_top
    n_stable = int(out["stable"].sum())
    message = (f"{n_stable} of the top {n_top} wards stay in the top {k} under every ±{delta:.0%} weight change; "
               f"at worst {kept_min} of {n_top} stay (scenario: "
               f"{scen.loc[scen['top_k_kept'].idxmin(), 'scenario'] if len(scen) else '-'}).")
    derived = {c: srcs for c in ("need", "base_rank", "best_rank", "worst_rank", "rank_spread",
                                 "top_k_runs")}
    return Sensitivity(wards=_finish(pd.DataFrame(out), derived), scenarios=scen, k=int(k), delta=float(delta),
                       message=message, counts=tuple(srcs))


# =========================================================================== 2. hubs
@dataclass(frozen=True)
class Gap:
    """MCLP objective minus greedy objective: ``absolute`` and ``percent`` of the MCLP objective."""

    absolute: float
    percent: float

    def __str__(self) -> str:
        return f"{self.absolute:,.4g} ({self.percent:.1f}% of the optimum)"


@dataclass
class GreedyResult:
    """The transparent greedy answer: add the candidate with the most uncovered need, ``p`` times."""

    sites: list
    need: float
    marginal: pd.DataFrame


@dataclass
class HubPlan:
    """Where the next hubs should go (see :func:`plan_hubs`).

    Attributes
    ----------
    sites : DataFrame
        Every hub (existing and new): ``hub_urn``, ``hub_name``,
        ``school_name``, ``status`` (``existing``/``new``), ``order`` (0 for
        existing hubs, then the order of marginal gain), ``gain``, ``x``,
        ``y``, ``members`` (schools an existing hub already serves).
    assignment : DataFrame
        One row per school: ``urn``, ``school_name``, ``ward_code``,
        ``need``, ``hub_urn`` (the hub it is assigned to, NA if none),
        ``distance_m``, ``hubs_in_reach`` and ``status`` (``served``,
        ``over capacity``, ``not covered``).
    need_total, need_before, need_after : float
        Need of all schools, covered by the existing hub(s) only, and covered
        by the MCLP solution (its objective).
    need_served : float
        Need of the schools assigned within capacity.
    objective : float
        The MCLP objective (= ``need_after``).
    marginal : DataFrame
        The new MCLP sites in order of marginal gain: ``order``, ``hub_urn``,
        ``school_name``, ``gain``, ``need_covered``, ``share_covered``.
    greedy : GreedyResult
    gap : Gap
    over_capacity : DataFrame
        Schools within reach of a hub but not assigned (every hub in reach full).
    uncovered_high_need : DataFrame
        Schools within reach of no hub with need above ``high_need_threshold``
        (the 75th percentile of school need).
    hubs, catchments, uncovered : GeoDataFrame
        Map layers (EPSG:27700): hub points; catchments (the ``radius_m``
        circle round each hub, clipped to ``area`` if given, joined for an
        existing hub with the hull of its member schools); uncovered
        high-need schools (points).
    message : str
    notes : list of str

    Disclosure
    ----------
    The frames above hold raw values for analysis. To export, use
    :meth:`safe` (one row per hub), :meth:`wards_safe` (one row per ward)
    or, when the demand is a per-school count, :meth:`schools_safe` (one
    row per school); each passes its table (:meth:`table`,
    :meth:`wards_table`, :meth:`schools_table`) through
    :func:`gangmap.disclosure.make_safe`. The map layers carry no need
    values except ``uncovered`` (per-school need, for count demand export it
    through :meth:`schools_safe`).
    """

    sites: pd.DataFrame
    assignment: pd.DataFrame
    need_total: float
    need_before: float
    need_after: float
    need_served: float
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
    ward_counts: Any = None
    message: str = ""
    notes: list = field(default_factory=list)

    @property
    def new_sites(self) -> list[str]:
        """URNs of the new hubs, in order of marginal gain."""
        return self.marginal["hub_urn"].tolist()

    def table(self) -> pd.DataFrame:
        """One row per hub, ready for :func:`gangmap.disclosure.make_safe`.

        Columns: ``hub_urn``, ``hub_name``, ``status``, ``order``,
        ``schools_in_reach``, ``schools_served``, ``schools_over_capacity``,
        ``need_in_reach``, ``need_served``. **Counts**: when the demand is a
        count (referrals per school) ``need_in_reach`` and ``need_served``
        are counts; otherwise (an index mapped onto schools) they are
        recorded as derived from ``schools_in_reach``/``schools_served``,
        which are then the counts, so a hub with few schools has its need
        hidden (conservative).
        """
        a = self.assignment
        rows = []
        reach = self._reach_sets()
        for _, s in self.sites.iterrows():
            u = s["hub_urn"]
            served = a["hub_urn"] == u
            inreach = a["urn"].isin(reach[u])
            rows.append({"hub_urn": u, "hub_name": s["hub_name"], "status": s["status"], "order": int(s["order"]),
                         "schools_in_reach": int(inreach.sum()), "schools_served": int(served.sum()),
                         "schools_over_capacity": int((inreach & (a["status"] == "over capacity")).sum()),
                         "need_in_reach": float(a.loc[inreach, "need"].sum()),
                         "need_served": float(a.loc[served, "need"].sum())})
        t = pd.DataFrame(rows)
        if self.need_is_count:
            for c in ("need_in_reach", "need_served"):
                t[c] = t[c].round().astype("int64")
            derived: dict = {}
        else:
            derived = {"need_in_reach": ["schools_in_reach"], "need_served": ["schools_served"]}
        return _finish(t, derived)

    def _table_counts(self) -> list[str]:
        if self.need_is_count:
            return ["need_in_reach", "need_served"]
        return ["schools_in_reach", "schools_served"]

    def safe(self, policy: Any = "nhs", **options):
        """The per-hub table made safe."""
        return _safe(self.table(), self._table_counts(), policy=policy,
                     keep=["hub_urn", "hub_name", "status", "order", "schools_in_reach", "schools_served",
                           "schools_over_capacity"], what="hub table", **options)

    def schools_table(self) -> pd.DataFrame:
        """One row per school (the assignment), ready for make_safe when the demand is a count.

        **Counts**: ``need`` (e.g. referrals per school). When the demand is
        a ward measure mapped onto schools, every school of a ward repeats
        its ward's value, and repeated counts would let a suppressed ward
        count be worked out from a total, so per-school need cannot be made
        safe: use :meth:`wards_table` / :meth:`wards_safe` instead.
        """
        return _finish(self.assignment.copy(), {})

    def schools_safe(self, policy: Any = "nhs", **options):
        """The per-school assignment made safe (count demand only; see :meth:`schools_table`)."""
        if not self.need_is_count:
            raise GangmapError(
                "HubPlan.schools_safe: the demand is a ward measure mapped onto schools, so each school repeats "
                "its ward's counts and per-school values cannot be made safe. Export plan.wards_safe() (one row "
                "per ward), or plan with per-school referrals as the demand.")
        return _safe(self.schools_table(), ["need"], policy=policy,
                     keep=["urn", "school_name", "hub_urn", "hub_name", "distance_m", "status", "hubs_in_reach"],
                     what="school assignment", **options)

    def wards_table(self) -> pd.DataFrame:
        """One row per ward with schools, ready for make_safe.

        Columns: ``ward_code``, ``schools``, ``schools_served``,
        ``schools_over_capacity``, ``schools_not_covered`` and ``need``:
        the sum over the ward's schools when the demand is a count (then
        ``need`` is the **count**), else the ward's measure (derived from the
        ward's source **counts**, which are included once per ward).
        """
        a = self.assignment
        wc = a["ward_code"].astype("string").fillna("(no ward)")
        g = a.assign(ward_code=wc).groupby("ward_code", sort=True)
        t = pd.DataFrame({
            "schools": g.size(),
            "schools_served": g["status"].apply(lambda s: int((s == "served").sum())),
            "schools_over_capacity": g["status"].apply(lambda s: int((s == "over capacity").sum())),
            "schools_not_covered": g["status"].apply(lambda s: int((s == "not covered").sum())),
        })
        if self.need_is_count:
            t["need"] = g["need"].sum().round().astype("int64")
            derived: dict = {}
        else:
            t["need"] = g["need"].first()
            wcounts = self.ward_counts if self.ward_counts is not None else pd.DataFrame()
            for c in self.need_sources:
                if c in wcounts.columns:
                    t[c] = t.index.map(wcounts[c])
            derived = {"need": list(self.need_sources)}
        t = t.reset_index()
        return _finish(t, derived)

    def wards_safe(self, policy: Any = "nhs", **options):
        """The per-ward summary made safe."""
        counts = ["need"] if self.need_is_count else list(self.need_sources)
        return _safe(self.wards_table(), counts, policy=policy,
                     keep=["schools", "schools_served", "schools_over_capacity", "schools_not_covered"],
                     what="ward summary of the hub plan", **options)

    def _reach_sets(self) -> dict:
        return self.sites.attrs.get("gangmap_reach", {})

    def __str__(self) -> str:
        return self.message


def _schools_frame(schools: Any) -> tuple[pd.DataFrame, list[str]]:
    """urn, school_name, ward_code, x, y (EPSG:27700) from a schools file/frame/Intake/GeoDataFrame."""
    from ..io.intake import Intake, as_intake

    notes: list[str] = []
    try:
        import geopandas as gpd
    except ImportError:  # pragma: no cover
        gpd = None
    if gpd is not None and isinstance(schools, gpd.GeoDataFrame) and not isinstance(schools, Intake):
        g = schools.to_crs(27700) if schools.crs is not None else schools
        if g.crs is None:
            raise InputError("planning.plan_hubs: the schools GeoDataFrame has no CRS; set it (e.g. "
                             "schools.set_crs(27700)).")
        ucol = next((c for c in g.columns if str(c).lower() == "urn"), None)
        if ucol is None:
            raise InputError(f"planning.plan_hubs: the schools GeoDataFrame has no URN column; columns are "
                             f"{_some(g.columns)}.")
        pts = g.geometry.representative_point()
        df = pd.DataFrame({"urn": g[ucol].astype(str).to_numpy(), "x": pts.x.to_numpy(), "y": pts.y.to_numpy()})
        for c, role in (("school_name", "school_name"), ("EstablishmentName", "school_name"),
                        ("ward_code", "ward_code")):
            if c in g.columns:
                df[role] = g[c].astype("string").to_numpy()
        if "school_name" not in df:
            df["school_name"] = df["urn"]
        source = "<GeoDataFrame>"
    else:
        it = as_intake(schools, "schools")
        if it.kind != "schools":
            raise InputError(f"{it.source}: this is a {it.kind} input, not a schools file; pass the GIAS "
                             "schools file (URN, EstablishmentName, Easting, Northing).")
        df = it.data.copy()
        source = it.source
        if len(it.rejected):
            notes.append(f"{source}: {len(it.rejected)} school row(s) rejected (see read_schools(...).rejected)")
    df["urn"] = df["urn"].astype(str)
    if "ward_code" not in df:
        df["ward_code"] = pd.NA
    noxy = ~(np.isfinite(df["x"].astype(float)) & np.isfinite(df["y"].astype(float)))
    if noxy.any():
        notes.append(f"{source}: {int(noxy.sum())} school(s) without coordinates left out of the hub plan: "
                     f"{_some(df.loc[noxy, 'urn'])}")
        df = df[~noxy]
    if df.empty:
        raise InputError(f"{source}: no school has coordinates (Easting/Northing); the hub plan needs them.")
    df = df.reset_index(drop=True)
    df.attrs["source"] = source
    return df[["urn", "school_name", "ward_code", "x", "y"]], notes


def school_need(schools: Any, table: pd.DataFrame, measure: str = "need_index") -> pd.DataFrame:
    """Map a ward measure onto schools, as demand for :func:`plan_hubs`.

    Each school takes the value of its ward (``AdministrativeWard (code)``,
    or the ward its Easting/Northing falls in when the table has geometry).
    A ward with three schools therefore weighs three times: demand is the
    schools, weighted by their ward's need.

    Returns
    -------
    DataFrame
        ``urn``, ``ward_code``, ``need`` and the ward's source count columns
        (**counts**; ``need`` is recorded as derived from them, so the school
        table is made safe like the ward table). Schools outside every ward
        get NaN (treated as 0 by :func:`plan_hubs`, with a note).

    Examples
    --------
    >>> s = pd.DataFrame({"URN": ["1", "2"], "Easting": [1, 2], "Northing": [1, 2],
    ...                   "AdministrativeWard (code)": ["E05000001", "E05000002"]})
    >>> t = pd.DataFrame({"ward_code": ["E05000001", "E05000002"], "reports": [10, 30]})
    >>> school_need(s, t, "reports")[["urn", "ward_code", "need"]]
      urn  ward_code  need
    0   1  E05000001  10.0
    1   2  E05000002  30.0
    """
    _require_table(table, "school_need")
    v = _need(table, measure, "school_need")
    sch, _ = _schools_frame(schools)
    codes = sch["ward_code"].astype("string")
    valid = set(table["ward_code"].astype(str))
    missing = codes.isna() | ~codes.isin(valid)
    if missing.any() and hasattr(table, "geometry") and "geometry" in table.columns:
        from ..joining.core import _locate_points

        found = _locate_points(sch.loc[missing, "x"].to_numpy(), sch.loc[missing, "y"].to_numpy(),
                               table.to_crs(27700) if table.crs is not None else table)
        codes = codes.copy()
        codes[missing] = found.to_numpy()
    srcs = _count_sources(table, [measure])
    by_code = pd.DataFrame({"need": v, **{s: table[s].to_numpy() for s in srcs}},
                           index=table["ward_code"].astype(str))
    out = pd.DataFrame({"urn": sch["urn"].to_numpy(), "ward_code": codes.to_numpy()})
    for c in ["need", *srcs]:
        out[c] = out["ward_code"].map(by_code[c]).to_numpy()
    return _finish(out, {"need": srcs} if srcs != ["need"] else {})


def _demand(demand: Any, urns: pd.Series, notes: list) -> tuple[np.ndarray, bool, str, pd.DataFrame, tuple]:
    """Need per school (aligned with ``urns``), is-count flag, label, extra columns, sources."""
    from ..io.intake import Intake, as_intake

    extra = pd.DataFrame(index=urns.index)
    sources: tuple = ()
    if isinstance(demand, pd.Series):
        s = pd.to_numeric(demand, errors="coerce")
        s.index = s.index.astype(str)
        label = str(demand.name or "need")
        vals = urns.map(s)
        is_count = bool(np.all(np.isfinite(s.to_numpy(dtype=float))) and np.all(s.to_numpy(dtype=float) % 1 == 0))
    elif isinstance(demand, pd.DataFrame) and "need" in demand.columns:
        ucol = next((c for c in demand.columns if str(c).lower() == "urn"), None)
        if ucol is None:
            raise InputError("planning.plan_hubs: the demand table has a 'need' column but no 'urn' column; "
                             "make it with planning.school_need(schools, table, measure).")
        d = demand.copy()
        d[ucol] = d[ucol].astype(str)
        d = d.drop_duplicates(ucol).set_index(ucol)
        vals = urns.map(pd.to_numeric(d["need"], errors="coerce"))
        sources = tuple(_sources(demand, "need")) if "need" in (demand.attrs.get("gangmap_derived") or {}) else ()
        for c in sources:
            if c in d.columns:
                extra[c] = urns.map(d[c]).to_numpy()
        if "ward_code" in d.columns:
            extra["_ward_code"] = urns.map(d["ward_code"]).to_numpy()
        label = "need"
        is_count = False
    else:
        it = demand if isinstance(demand, Intake) else as_intake(demand, "referrals")
        if it.key != "urn":
            raise InputError(f"{it.source}: these {it.kind} are placed by {it.key}, not by school URN, so they "
                             "cannot weight schools directly. Join them onto wards and use "
                             "planning.school_need(schools, table, measure) as the demand.")
        sums = it.data.groupby(it.data["urn"].astype(str))["count"].sum()
        unknown = sorted(set(sums.index) - set(urns))
        if unknown:
            notes.append(f"{it.source}: {len(unknown)} URN(s) are not among the schools with coordinates "
                         f"(their {int(sums[unknown].sum())} {it.kind} are left out): {_some(unknown)}")
        vals = urns.map(sums)
        label = it.kind
        is_count = True
        vals = vals.fillna(0)
    vals = pd.to_numeric(vals, errors="coerce")
    miss = vals.isna()
    if miss.any():
        notes.append(f"{int(miss.sum())} school(s) have no need value (treated as 0): {_some(urns[miss])}")
    arr = vals.fillna(0).to_numpy(dtype=float)
    if (arr < 0).any():
        raise InputError(f"planning.plan_hubs: demand is negative for school(s) {_some(urns[arr < 0])}; need "
                         "must be 0 or more.")
    return arr, is_count, label, extra, sources


def _coverage_of(A: np.ndarray, need: np.ndarray, cols: Iterable[int]) -> tuple[float, np.ndarray]:
    cols = list(cols)
    cov = A[:, cols].any(axis=1) if cols else np.zeros(A.shape[0], dtype=bool)
    return float(need[cov].sum()), cov


def _greedy(A: np.ndarray, need: np.ndarray, fixed: list[int], allowed: np.ndarray, p: int) -> list[tuple[int, float]]:
    """Add, ``p`` times, the allowed column with the largest uncovered need (first of equals)."""
    _, cov = _coverage_of(A, need, fixed)
    chosen: list[tuple[int, float]] = []
    avail = allowed.copy()
    avail[fixed] = False
    for _ in range(p):
        if not avail.any():
            break
        gains = (A[~cov][:, :] * need[~cov][:, None]).sum(axis=0)
        gains = np.where(avail, gains, -np.inf)
        j = int(np.argmax(gains))
        chosen.append((j, float(gains[j])))
        cov |= A[:, j]
        avail[j] = False
    return chosen


def plan_hubs(schools: Any, demand: Any, *, existing_urns: Any = (), p: int, radius_m: float,
              capacity: int | None = 47, solver: Any = None, candidates: Sequence[str] | None = None,
              area: Any = None, high_need_quantile: float = 0.75) -> HubPlan:
    """Site ``p`` new hubs at schools to cover the most need (maximal covering location problem).

    Model
    -----
    *Demand points* are the schools, weighted by ``demand``. *Candidate
    sites* are the schools (or ``candidates``). A school is *covered* by a
    hub within ``radius_m`` metres (straight line, British National Grid).
    The existing hubs are fixed (pre-selected); ``p`` hubs are added so that
    the need covered is as large as possible. This is solved exactly with
    ``spopt.locate.MCLP`` and CBC (bundled with PuLP < 4); ``solver`` may be
    any PuLP solver. Several site sets can be optimal: compare objectives.

    Existing hubs
    -------------
    ``existing_urns`` is either a list of school URNs, each the site of one
    existing hub, or a dict ``{hub name: [URNs of the schools it serves]}``
    (like the 47 schools of a pilot hub). A hub given by its schools is sited
    at its *medoid* (the member school with the least total distance to the
    others), and its member schools count as covered by it whatever the
    distance (and are assigned to it first).

    Capacity
    --------
    MCLP itself is uncapacitated. After the sites are chosen, schools are
    assigned nearest-first: all (school, hub-in-reach) pairs are taken in
    order of distance (members of an existing hub first) and a school is
    assigned if unassigned and the hub has fewer than ``capacity`` schools.
    Schools in reach of a hub but left unassigned are ``over_capacity``.
    ``capacity=None`` means unlimited.

    Greedy and gap
    --------------
    ``greedy`` repeatedly adds the candidate that covers the most uncovered
    need (the transparent answer a planner could do by hand); ``gap`` is
    MCLP objective minus greedy objective (never negative). ``marginal``
    orders the MCLP's new sites by the need each adds, in turn.

    Parameters
    ----------
    schools : path, DataFrame, Intake or GeoDataFrame
        A GIAS-style schools file (``URN``, ``EstablishmentName``,
        ``Easting``, ``Northing``; see :func:`gangmap.intake.read_schools`)
        or a GeoDataFrame of school points with a ``URN`` column.
    demand : referrals, Series or DataFrame
        * per-school referrals (a file, DataFrame or Intake read by
          :func:`gangmap.intake.read_referrals`): need = referrals per school
          (a **count**);
        * a Series of need indexed by URN;
        * a DataFrame from :func:`school_need` (a ward measure mapped onto schools).
    existing_urns : list of URN, or dict {name: [URN, ...]}
    p : int
        Number of NEW hubs.
    radius_m : float
        Coverage radius in metres.
    capacity : int or None, default 47
        Schools one hub can serve (the pilot hub served 47).
    solver : pulp solver, optional
        Default ``pulp.PULP_CBC_CMD(msg=False)``.
    candidates : list of URN, optional
        Schools that may host a new hub (default every school).
    area : GeoDataFrame, GeoSeries or geometry, optional
        The county (e.g. the wards), to clip the catchment circles to.
    high_need_quantile : float, default 0.75

    Returns
    -------
    HubPlan

    Examples
    --------
    >>> s = pd.DataFrame({"URN": ["1", "2", "3", "4"], "Easting": [0, 1000, 5000, 6000],
    ...                   "Northing": [0, 0, 0, 0]})
    >>> plan = plan_hubs(s, pd.Series([1, 1, 5, 4], index=["1", "2", "3", "4"]),
    ...                  existing_urns=["1"], p=1, radius_m=1500, capacity=None)
    >>> plan.need_before, plan.need_after, plan.gap.absolute
    (2.0, 11.0, 0.0)
    """
    import pulp
    from scipy.spatial.distance import cdist
    from spopt.locate import MCLP

    notes: list[str] = []
    if not isinstance(p, (int, np.integer)) or p < 0:
        raise GangmapError(f"planning.plan_hubs: p={p!r} must be the number of NEW hubs (0 or more).")
    try:
        radius_m = float(radius_m)
    except (TypeError, ValueError):
        radius_m = float("nan")
    if not (np.isfinite(radius_m) and radius_m > 0):
        raise GangmapError(f"planning.plan_hubs: radius_m={radius_m!r} must be a distance in metres above 0, "
                           "e.g. 6000.")
    if capacity is not None and (not isinstance(capacity, (int, np.integer)) or capacity < 1):
        raise GangmapError(f"planning.plan_hubs: capacity={capacity!r} must be a whole number of schools "
                           "(1 or more) or None.")
    sch, n1 = _schools_frame(schools)
    notes += n1
    source = sch.attrs.get("source", "schools")
    urns = sch["urn"]
    pos = {u: i for i, u in enumerate(urns)}
    need, is_count, label, extra, sources = _demand(demand, urns, notes)
    n = len(sch)
    xy = sch[["x", "y"]].to_numpy(dtype=float)
    D = cdist(xy, xy)

    # existing hubs
    if isinstance(existing_urns, str):
        existing_urns = [existing_urns]
    groups: list[tuple[str, list[int], int]] = []  # (name, member rows, site row)
    if isinstance(existing_urns, Mapping):
        items = [(str(k), [str(u) for u in v]) for k, v in existing_urns.items()]
        grouped = True
    else:
        items = [(str(u), [str(u)]) for u in (existing_urns or [])]
        grouped = False
    unknown = sorted({u for _, us in items for u in us if u not in pos})
    if unknown:
        raise InputError(f"planning.plan_hubs: existing hub URN(s) {_some(unknown)} are not in the schools "
                         f"file {source} (or have no coordinates). Check the URNs against the schools file.")
    for name, us in items:
        rows = [pos[u] for u in dict.fromkeys(us)]
        if not rows:
            raise InputError(f"planning.plan_hubs: existing hub {name!r} lists no schools.")
        site = rows[int(np.argmin(D[np.ix_(rows, rows)].sum(axis=1)))] if grouped else rows[0]
        groups.append((name if grouped else "", rows, site))

    # candidate sites (columns): every school (or the candidates), plus the existing sites
    if candidates is None:
        allowed = np.ones(n, dtype=bool)
    else:
        cands = [str(c) for c in candidates]
        bad = [c for c in cands if c not in pos]
        if bad:
            raise InputError(f"planning.plan_hubs: candidate URN(s) {_some(bad)} are not in the schools file "
                             f"{source} (or have no coordinates).")
        allowed = np.zeros(n, dtype=bool)
        allowed[[pos[c] for c in cands]] = True
    fixed = sorted({site for _, _, site in groups})
    allowed[fixed] = True
    cols = np.flatnonzero(allowed)
    col_of = {int(r): j for j, r in enumerate(cols)}
    cost = D[:, cols].copy()
    member_of: dict[int, int] = {}
    for _, rows, site in groups:
        for r in rows:
            cost[r, col_of[site]] = 0.0
            member_of.setdefault(r, site)
    A = cost <= radius_m
    fixed_cols = [col_of[s] for s in fixed]
    if len(fixed) + p > len(cols):
        raise GangmapError(f"planning.plan_hubs: {p} new hub(s) + {len(fixed)} existing need more candidate "
                           f"sites than the {len(cols)} available; lower p or add candidates.")

    # MCLP (exact)
    predefined = np.zeros(len(cols), dtype=int)
    predefined[fixed_cols] = 1
    with warnings.catch_warnings():
        # PuLP 3.x announces API changes of PuLP 4 (spopt builds variables the PuLP 3 way).
        warnings.simplefilter("ignore", DeprecationWarning)
        solver = solver if solver is not None else pulp.PULP_CBC_CMD(msg=False)
        model = MCLP.from_cost_matrix(cost, need, service_radius=radius_m, p_facilities=len(fixed) + p,
                                      predefined_facilities_arr=predefined if fixed_cols else None,
                                      name="gangmap_hubs")
        try:
            model = model.solve(solver, results=False)
        except RuntimeError as exc:  # spopt: "Model is not solved: Infeasible"
            raise GangmapError(f"planning.plan_hubs: the solver did not find a solution ({exc}).") from None
        except pulp.PulpSolverError as exc:
            raise GangmapError(f"planning.plan_hubs: the solver failed ({exc}). With PuLP 3 the CBC solver is "
                               "bundled; reinstall pulp<4 or pass solver=<another pulp solver>.") from None
    sel_cols = [j for j, v in enumerate(model.fac_vars) if (v.value() or 0) > 0.5]
    missing_fixed = [j for j in fixed_cols if j not in sel_cols]
    if missing_fixed:  # pragma: no cover - guarded by spopt's fixValue
        raise GangmapError("planning.plan_hubs: the solver dropped an existing hub; please report this.")
    new_cols = [j for j in sel_cols if j not in fixed_cols]
    need_total = float(need.sum())
    need_before, _ = _coverage_of(A, need, fixed_cols)
    objective, covered = _coverage_of(A, need, sel_cols)

    # greedy and the order of the MCLP sites by marginal gain
    g = _greedy(A, need, fixed_cols, np.ones(len(cols), dtype=bool), p)
    g_need, _ = _coverage_of(A, need, fixed_cols + [j for j, _ in g])
    order = _greedy(A, need, fixed_cols, np.isin(np.arange(len(cols)), new_cols), len(new_cols))

    def _marg(seq):
        rows, cum = [], need_before
        for k, (j, gain) in enumerate(seq, start=1):
            cum += gain
            r = int(cols[j])
            rows.append({"order": k, "hub_urn": urns.iloc[r], "school_name": sch["school_name"].iloc[r],
                         "gain": gain, "need_covered": cum,
                         "share_covered": cum / need_total if need_total > 0 else np.nan})
        return pd.DataFrame(rows, columns=["order", "hub_urn", "school_name", "gain", "need_covered",
                                           "share_covered"])

    marginal = _marg(order)
    greedy = GreedyResult(sites=[urns.iloc[int(cols[j])] for j, _ in g], need=g_need, marginal=_marg(g))
    gap_abs = max(0.0, objective - g_need)
    gap = Gap(absolute=gap_abs, percent=100 * gap_abs / objective if objective > 0 else 0.0)

    # sites table
    site_rows = []
    name_of = {site: nm for nm, _, site in groups}
    members_of = {site: len(rows) for _, rows, site in groups}
    for j in fixed_cols:
        r = int(cols[j])
        site_rows.append({"hub_urn": urns.iloc[r], "hub_name": name_of.get(r) or f"hub at {urns.iloc[r]}",
                          "school_name": sch["school_name"].iloc[r], "status": "existing", "order": 0,
                          "gain": np.nan, "x": xy[r, 0], "y": xy[r, 1], "members": members_of.get(r, 0)})
    for _, m in marginal.iterrows():
        r = pos[m["hub_urn"]]
        site_rows.append({"hub_urn": m["hub_urn"], "hub_name": f"new hub {int(m['order'])}",
                          "school_name": m["school_name"], "status": "new", "order": int(m["order"]),
                          "gain": m["gain"], "x": xy[r, 0], "y": xy[r, 1], "members": 0})
    sites = pd.DataFrame(site_rows, columns=["hub_urn", "hub_name", "school_name", "status", "order", "gain",
                                             "x", "y", "members"])
    sel_rows = [int(cols[j]) for j in sel_cols]

    # capacity-limited assignment, nearest first (members of an existing hub first)
    pairs = []
    for j in sel_cols:
        r_site = int(cols[j])
        for i in np.flatnonzero(A[:, j]):
            member = member_of.get(int(i)) == r_site
            pairs.append((0 if member else 1, D[i, r_site], sel_rows.index(r_site), int(i), r_site))
    pairs.sort()
    hub_of = np.full(n, -1)
    load = {r: 0 for r in sel_rows}
    for _, _, _, i, r_site in pairs:
        if hub_of[i] < 0 and (capacity is None or load[r_site] < capacity):
            hub_of[i] = r_site
            load[r_site] += 1
    in_reach = A[:, sel_cols].sum(axis=1) if sel_cols else np.zeros(n, dtype=int)
    status = np.where(hub_of >= 0, "served", np.where(in_reach > 0, "over capacity", "not covered"))
    hub_name_by_row = dict(zip([pos[u] for u in sites["hub_urn"]], sites["hub_name"]))
    assignment = pd.DataFrame({
        "urn": urns.to_numpy(),
        "school_name": sch["school_name"].to_numpy(),
        "ward_code": (extra["_ward_code"] if "_ward_code" in extra else sch["ward_code"]).to_numpy(),
        "need": need if not is_count else need.astype("int64"),
        "hub_urn": pd.array([urns.iloc[h] if h >= 0 else pd.NA for h in hub_of], dtype="string"),
        "hub_name": pd.array([hub_name_by_row[h] if h >= 0 else pd.NA for h in hub_of], dtype="string"),
        "distance_m": [float(D[i, h]) if h >= 0 else np.nan for i, h in enumerate(hub_of)],
        "hubs_in_reach": in_reach.astype(int),
        "status": status,
    })
    ward_counts = None
    if sources and "_ward_code" in extra:
        ward_counts = (extra.assign(_ward_code=extra["_ward_code"].astype("string").fillna("(no ward)"))
                       .drop_duplicates("_ward_code").set_index("_ward_code")[[c for c in sources if c in extra]])
    need_served = float(need[hub_of >= 0].sum())
    reach = {urns.iloc[int(cols[j])]: set(urns[A[:, j]]) for j in sel_cols}
    sites.attrs["gangmap_reach"] = reach
    q = float(np.quantile(need, high_need_quantile)) if n else 0.0
    over = assignment[assignment["status"] == "over capacity"].reset_index(drop=True)
    unc = assignment[(assignment["status"] == "not covered") & (assignment["need"] > q)]
    unc = unc.sort_values("need", ascending=False, kind="stable").reset_index(drop=True)
    assignment = _finish(assignment, {})
    over = _finish(over, {})
    unc = _finish(unc, {})

    hubs, catch, unc_g = _hub_layers(sites, groups, sch, xy, urns, radius_m, area, unc, pos)
    share = (lambda x: f"{100 * x / need_total:.0f}%") if need_total > 0 else (lambda x: "-")
    new_names = ", ".join(f"{r['school_name']} ({r['hub_urn']})" for _, r in marginal.iterrows()) or "none"
    message = (f"{p} new hub(s) at {new_names} lift the {label} within {radius_m / 1000:g} km of a hub from "
               f"{share(need_before)} to {share(objective)}; the greedy answer reaches {share(g_need)} "
               f"(gap {gap}).")
    if capacity is not None and len(over):
        message += f" {len(over)} school(s) in reach are over the capacity of {capacity}."
    return HubPlan(sites=sites, assignment=assignment, need_total=need_total, need_before=need_before,
                   need_after=objective, need_served=need_served, objective=objective, marginal=marginal,
                   greedy=greedy, gap=gap, over_capacity=over, uncovered_high_need=unc,
                   high_need_threshold=q, hubs=hubs, catchments=catch, uncovered=unc_g, radius_m=radius_m,
                   capacity=capacity, p=int(p), need_label=label, need_is_count=is_count,
                   need_sources=tuple(sources), ward_counts=ward_counts, message=message, notes=notes)


def _hub_layers(sites, groups, sch, xy, urns, radius_m, area, unc, pos):
    import geopandas as gpd
    import shapely

    crs = "EPSG:27700"
    pts = gpd.points_from_xy(sites["x"], sites["y"])
    hubs = gpd.GeoDataFrame(sites.drop(columns=["x", "y"]).copy(), geometry=pts, crs=crs)
    clip = None
    if area is not None:
        if isinstance(area, (gpd.GeoDataFrame, gpd.GeoSeries)):
            a = area.to_crs(crs) if area.crs is not None else area
            clip = shapely.union_all(np.asarray(a.geometry if isinstance(a, gpd.GeoDataFrame) else a))
        else:
            clip = area
    members = {site: rows for _, rows, site in groups}
    geoms = []
    for u, pt in zip(sites["hub_urn"], pts):
        g = pt.buffer(radius_m, 32)
        rows = members.get(pos[u], [])
        if len(rows) > 1:
            g = g.union(shapely.MultiPoint(xy[rows]).convex_hull.buffer(250))
        if clip is not None:
            g = g.intersection(clip)
        geoms.append(g)
    catch = gpd.GeoDataFrame(sites[["hub_urn", "hub_name", "status", "order"]].copy(), geometry=geoms, crs=crs)
    catch.attrs["gangmap_notes"] = {"catchment": f"circle of {radius_m:g} m round each hub"
                                    + (" clipped to the area" if clip is not None else "")
                                    + "; an existing hub's circle is joined with the hull of its member schools"}
    rows = [pos[u] for u in unc["urn"]]
    unc_g = gpd.GeoDataFrame(unc.copy(), geometry=gpd.points_from_xy(xy[rows, 0] if rows else [],
                                                                     xy[rows, 1] if rows else []), crs=crs)
    unc_g.attrs = dict(unc.attrs)
    return hubs, catch, unc_g


# =========================================================================== 3. difference in differences
_CAVEAT = (
    "Read with care. (1) A reporting campaign asks people to report, so reports usually RISE at first: "
    "a rise in targeted wards can mean the campaign is working (people are noticing and reporting), "
    "not that harm has grown. Judge success with other outcomes too (referrals, admissions, offences). "
    "(2) Regression to the mean: wards chosen because their counts were high tend to fall back anyway. "
    "(3) Spill-over: publicity reaches untargeted wards too, which shrinks the measured difference. "
    "(4) Other changes at the same time (policing operations, recording rules, school terms, other "
    "services) can cause or hide a difference. (5) The interval is Poisson: it assumes reports are "
    "independent and ignores over-dispersion, so it is too narrow when counts cluster.")


@dataclass
class DiD:
    """Difference-in-differences of report counts around a campaign launch (see :func:`did`).

    Attributes
    ----------
    table : DataFrame
        The 2×2 table: ``group`` (``targeted``/``other``), ``wards``,
        ``before``, ``after`` (**counts**) and ``after_before`` (derived:
        after / before).
    ratio, lo, hi : float
        Rate ratio ``(T_after/T_before)/(O_after/O_before)`` and its
        confidence interval.
    level : float
    launch : str
    before, after : tuple of str
        First and last month of each window.
    monthly : DataFrame
        ``period``, ``window`` (``before``/``after``/``between``),
        ``targeted`` and ``other`` (**counts** per month).
    caveat : str
    message : str
    notes : list of str
    """

    table: pd.DataFrame
    ratio: float
    lo: float
    hi: float
    level: float
    launch: str
    before: tuple
    after: tuple
    monthly: pd.DataFrame
    caveat: str
    message: str
    notes: list = field(default_factory=list)

    @property
    def period(self) -> str:
        return f"{self.before[0]} to {self.after[1]}"

    def result_table(self) -> pd.DataFrame:
        """One row: the four counts (**counts**) and ``rate_ratio``, ``ratio_lo``, ``ratio_hi`` (derived
        from all four), ready for make_safe."""
        t = self.table.set_index("group")
        row = {"targeted_before": int(t.loc["targeted", "before"]), "targeted_after": int(t.loc["targeted", "after"]),
               "other_before": int(t.loc["other", "before"]), "other_after": int(t.loc["other", "after"]),
               "rate_ratio": self.ratio, "ratio_lo": self.lo, "ratio_hi": self.hi}
        srcs = ["targeted_before", "targeted_after", "other_before", "other_after"]
        return _finish(pd.DataFrame([row]), {c: srcs for c in ("rate_ratio", "ratio_lo", "ratio_hi")})

    def safe(self, policy: Any = "nhs", **options):
        """The 2×2 table made safe (same as :func:`did_table_safe`)."""
        return did_table_safe(self, policy=policy, **options)

    def monthly_safe(self, policy: Any = "nhs", **options):
        """The monthly counts made safe: what :func:`did_chart` draws."""
        return _safe(self.monthly, ["targeted", "other"], policy=policy, keep=["period", "window"],
                     period=self.period, what="monthly table", **options)

    def result_safe(self, policy: Any = "nhs", **options):
        """The one-row result (counts and rate ratio) made safe."""
        return _safe(self.result_table(), ["targeted_before", "targeted_after", "other_before", "other_after"],
                     policy=policy, period=self.period, what="result", **options)

    def __str__(self) -> str:
        return self.message


def _window(value: Any, what: str) -> list[str]:
    if isinstance(value, str):
        return [_month(value, what, "planning.did")]
    vals = list(value)
    if len(vals) == 2:
        a, b = (_month(v, what, "planning.did") for v in vals)
        if b < a:
            raise ConfigError(f"planning.did: {what}=({a!r}, {b!r}) ends before it starts; give (first, last).")
        return _months(a, b)
    raise ConfigError(f"planning.did: {what} must be (first month, last month), e.g. ('2017-03', '2018-02'); "
                      f"got {value!r}.")


def did(reports: Any, targets: Any, *, launch: str | None = None, wards: Any = None,
        before: Any = None, after: Any = None, category: Any = None, level: float = 0.95) -> DiD:
    """Difference-in-differences of report counts: did targeted wards change more than the others?

    ``rate ratio = (T_after / T_before) / (O_after / O_before)`` where T and O
    are the reports in targeted and other wards in the windows before and
    after the launch. A ratio of 1.35 means reports in targeted wards rose
    35% more (relatively) than elsewhere. The confidence interval uses the
    Poisson variance of the log ratio, ``1/a + 1/b + 1/c + 1/d``.

    Windows
    -------
    By default the windows are equal: the ``n`` months just before the
    launch and the ``n`` months from the launch, where ``n`` is the most the
    data allow on both sides (all months before vs all after when the data
    are balanced round the launch). ``before`` and ``after`` can be given as
    ``(first, last)`` months (inclusive). Window length cancels in the ratio,
    but equal windows keep seasonality balanced.

    Parameters
    ----------
    reports : path, DataFrame or Intake
        Reports with a period (``YYYY-MM``) and ward codes (a long table
        ``ward_code, period, count`` or anything
        :func:`gangmap.intake.read_reports` reads). Reports placed by name or
        by coordinates need ``wards``.
    targets : Targets or iterable of ward codes
    launch : str, optional
        ``YYYY-MM``; default ``targets.launch``.
    wards : optional
        Ward boundaries/table. When given, only reports in these wards count
        (and reports by name or point are placed on them).
    before, after : (str, str), optional
    category : str or list, optional
        Only these categories.
    level : float, default 0.95

    Returns
    -------
    DiD

    Examples
    --------
    >>> r = pd.DataFrame({"ward_code": ["E05000001"] * 2 + ["E05000002"] * 2,
    ...                   "period": ["2018-01", "2018-02"] * 2, "count": [100, 150, 100, 100]})
    >>> d = did(r, ["E05000001"], launch="2018-02")
    >>> round(d.ratio, 2), round(d.lo, 2), round(d.hi, 2)
    (1.5, 1.03, 2.18)
    """
    from scipy import stats

    from ..io.intake import Intake, as_intake
    from ..joining.core import _apply_filter, place

    codes = _as_codes(targets)
    if not codes:
        raise ConfigError("planning.did: no target wards given; pass targets=read_targets(...) or a list of codes.")
    launch = launch or getattr(targets, "launch", None)
    if not launch:
        raise ConfigError("planning.did: no launch month; pass launch='YYYY-MM' or set launch in the campaign file.")
    launch = _month(launch, "launch", "planning.did")
    if not (0 < float(level) < 1):
        raise GangmapError(f"planning.did: level={level!r} must be between 0 and 1, e.g. 0.95.")
    it = reports if isinstance(reports, Intake) else as_intake(reports, "reports")
    notes: list[str] = []
    if "period" not in it.data:
        raise InputError(f"{it.source}: the reports have no period/month column, so before and after the launch "
                         "cannot be told apart. Add a period column (YYYY-MM).")
    if wards is not None:
        from ..io.boundaries import read_wards
        from ..joining.core import _is_canonical

        w = wards if _is_canonical(wards) else read_wards(wards)
        placed, rep = place(it, w, category=category)
        data = placed[placed["status"] == "matched"]
        lost = rep.unmatched + rep.outside
        if lost:
            notes.append(f"{lost} report row(s) are in no ward of the table and are left out")
    else:
        if it.key != "ward_code":
            raise InputError(f"{it.source}: these reports are placed by {it.key}, so the wards are needed: "
                             "pass wards=<the ward table or boundaries>.")
        keep = _apply_filter(it.data, "category", category, it, notes)
        data = it.data[keep]
    data = data[data["period"].notna()]
    if data.empty:
        raise InputError(f"{it.source}: no reports with a period are left to compare.")
    periods = data["period"].astype(str)
    bad = sorted({p for p in periods if not _MONTH_RE.match(p)})
    if bad:
        raise InputError(f"{it.source}: period(s) {_some(bad)} are not months (YYYY-MM); fix the period column.")
    first, last = periods.min(), periods.max()
    pre = [m for m in _months(first, last) if m < launch]
    post = [m for m in _months(first, last) if m >= launch]
    if before is None or after is None:
        n = min(len(pre), len(post))
        if n == 0:
            raise InputError(f"{it.source}: the reports run {first} to {last}, so there is no month on "
                             f"{'before' if not pre else 'after'} the launch ({launch}) to compare with.")
        if len(pre) != len(post):
            notes.append(f"windows trimmed to {n} months each side of the launch (data: {len(pre)} before, "
                         f"{len(post)} after)")
    b_months = _window(before, "before") if before is not None else pre[-n:]
    a_months = _window(after, "after") if after is not None else post[:n]
    if b_months[-1] >= launch or a_months[0] < launch:
        notes.append(f"the windows given ({b_months[0]}..{b_months[-1]}, {a_months[0]}..{a_months[-1]}) are not "
                     f"on either side of the launch {launch}")
    if set(b_months) & set(a_months):
        raise ConfigError("planning.did: the before and after windows overlap; give separate month ranges.")
    if len(b_months) != len(a_months):
        notes.append(f"windows differ in length ({len(b_months)} vs {len(a_months)} months); the length "
                     "cancels in the ratio but seasonality may not")
    tmask = data["ward_code"].astype(str).isin(codes).to_numpy()
    cnt = pd.to_numeric(data["count"]).to_numpy(dtype=float)
    inb = periods.isin(b_months).to_numpy()
    ina = periods.isin(a_months).to_numpy()
    a_ = cnt[tmask & inb].sum()
    b_ = cnt[tmask & ina].sum()
    c_ = cnt[~tmask & inb].sum()
    d_ = cnt[~tmask & ina].sum()
    zeros = [nm for nm, x in (("targeted before", a_), ("targeted after", b_), ("other before", c_),
                              ("other after", d_)) if x <= 0]
    if zeros:
        raise InputError(f"{it.source}: no reports in {', '.join(zeros)} (windows {b_months[0]}..{b_months[-1]} "
                         f"and {a_months[0]}..{a_months[-1]}); the ratio needs reports in all four cells. "
                         "Widen the windows or check the target ward codes.")
    ratio = (b_ / a_) / (d_ / c_)
    se = math.sqrt(1 / a_ + 1 / b_ + 1 / c_ + 1 / d_)
    z = float(stats.norm.ppf(1 - (1 - level) / 2))
    lo, hi = ratio * math.exp(-z * se), ratio * math.exp(z * se)
    wards_in = data["ward_code"].astype(str)
    all_codes = set(wards_in) | (set(w["ward_code"].astype(str)) if wards is not None else set())
    n_t = len(all_codes & codes)
    table = pd.DataFrame({"group": ["targeted", "other"], "wards": [n_t, len(all_codes - codes)],
                          "before": [int(a_), int(c_)], "after": [int(b_), int(d_)]})
    table["after_before"] = table["after"] / table["before"]
    table = _finish(table, {"after_before": ["before", "after"]})
    span = _months(min(b_months[0], a_months[0]), max(b_months[-1], a_months[-1]))
    mon = pd.DataFrame({"period": span})
    grp = pd.DataFrame({"period": periods.to_numpy(), "t": tmask, "count": cnt})
    by = grp.groupby(["period", "t"])["count"].sum()
    mon["targeted"] = [int(by.get((m, True), 0)) for m in span]
    mon["other"] = [int(by.get((m, False), 0)) for m in span]
    mon["window"] = ["before" if m in b_months else "after" if m in a_months else "between" for m in span]
    mon = _finish(mon, {})
    conclusion = ("the interval excludes 1: targeted wards changed differently from the others"
                  if lo > 1 or hi < 1 else "the interval includes 1: no clear difference")
    message = (f"Reports in targeted wards changed by {100 * (b_ / a_ - 1):+.0f}% after the launch ({launch}), "
               f"against {100 * (d_ / c_ - 1):+.0f}% in other wards: a difference-in-differences rate ratio of "
               f"{ratio:.2f} ({100 * level:g}% CI {lo:.2f} to {hi:.2f}); {conclusion}. "
               f"Windows: {b_months[0]}..{b_months[-1]} vs {a_months[0]}..{a_months[-1]}.")
    return DiD(table=table, ratio=float(ratio), lo=float(lo), hi=float(hi), level=float(level), launch=launch,
               before=(b_months[0], b_months[-1]), after=(a_months[0], a_months[-1]), monthly=mon,
               caveat=_CAVEAT, message=message, notes=notes)


def did_table_safe(did: DiD, policy: Any = "nhs", **options):
    """The 2×2 table of a :class:`DiD` made safe (``counts=["before", "after"]``, county total only).

    Examples
    --------
    >>> safe = did_table_safe(d)  # doctest: +SKIP
    >>> gangmap.export.write_table(safe, "out/did.csv")  # doctest: +SKIP
    """
    if not isinstance(did, DiD):
        raise GangmapError(f"did_table_safe needs the result of planning.did(...), not {type(did).__name__}.")
    return _safe(did.table, ["before", "after"], policy=policy, keep=["group", "wards"], period=did.period,
                 what="2x2 table", **options)


def did_chart(did: DiD, safe: Any = None, *, figsize: tuple = (6.5, 3.4)):
    """A small chart of monthly reports, targeted vs other wards, indexed to the pre-launch mean (= 100).

    Drawn only from safe values: ``safe`` is ``did.monthly_safe(...)``
    (made with the default policy when not given); months whose count is
    suppressed are gaps, and the rate ratio in the title is left out when
    one of its four counts is suppressed under the same policy. A vertical
    line marks the launch. Returns a
    matplotlib ``Figure`` on the Agg canvas (no pyplot state); write it with
    ``gangmap.export.to_png(fig, safe, path)``.

    Examples
    --------
    >>> safe = d.monthly_safe()  # doctest: +SKIP
    >>> gangmap.export.to_png(did_chart(d, safe), safe, "out/did.png")  # doctest: +SKIP
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ..disclosure import is_safe

    if not isinstance(did, DiD):
        raise GangmapError(f"did_chart needs the result of planning.did(...), not {type(did).__name__}.")
    safe = did.monthly_safe() if safe is None else safe
    if not is_safe(safe) or not {"targeted", "other", "period"} <= set(safe.frame.columns):
        raise GangmapError("did_chart: safe must be did.monthly_safe(...) (a SafeTable with period, targeted "
                           "and other columns).")
    f = safe.frame
    periods = f["period"].astype(str).tolist()
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.09, 0.15, 0.68, 0.72))
    x = np.arange(len(periods))
    pre = np.array([p < did.launch for p in periods]) & (f["window"] == "before").to_numpy()
    colours = {"targeted": "#d95f02", "other": "#1b9e77"}
    for col in ("targeted", "other"):
        y = f[col].to_numpy(dtype=float)
        base = np.nanmean(y[pre]) if np.isfinite(y[pre]).any() else np.nan
        ax.plot(x, 100 * y / base, marker="o", ms=2.5, lw=1.4, color=colours[col],
                label=f"{col} wards" if col == "targeted" else "other wards")
    if did.launch in periods:
        xl = periods.index(did.launch) - 0.5
        ax.axvline(xl, color="#444444", lw=1, ls="--")
        ax.text(xl, ax.get_ylim()[1], f" launch {did.launch}", va="top", ha="left", fontsize=7)
    ax.axhline(100, color="#999999", lw=0.6)
    step = max(1, len(periods) // 8)
    ax.set_xticks(x[::step])
    ax.set_xticklabels(periods[::step], fontsize=7, rotation=0)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_ylabel("reports (pre-launch mean = 100)", fontsize=7)
    # the ratio is computed from the four counts: show it only where none of them is suppressed
    res = did.result_safe(policy=safe.policy, allow_unsafe=not safe.policy.safe)
    if bool(res.suppressed["rate_ratio"].iloc[0]):
        headline = "rate ratio not shown (small counts)"
    else:
        headline = (f"rate ratio {res.frame['rate_ratio'].iloc[0]:.3g} ({100 * did.level:g}% CI "
                    f"{res.frame['ratio_lo'].iloc[0]:.3g}-{res.frame['ratio_hi'].iloc[0]:.3g})")
    ax.set_title(f"Reports before and after the launch; {headline}", fontsize=8)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.text(0.79, 0.45, "Safe (rounded)\nmonthly counts;\ngaps = suppressed.\nA rise can mean\n"
             "more reporting,\nnot more harm.", fontsize=6, va="top")
    return fig


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
    from ..io.intake import read_table

    df, source = read_table(path_or_df, what="hub schools file")
    if urn not in df.columns:
        raise InputError(f"{source}: no {urn!r} column; the hub schools file needs the URN of each school "
                         f"(columns are {', '.join(map(str, df.columns))}).")
    urns = df[urn].astype("string").str.strip()
    names = df[hub].astype("string").fillna("existing hub") if hub in df.columns else \
        pd.Series("existing hub", index=df.index)
    ok = urns.notna() & (urns != "")
    return {str(k): v.tolist() for k, v in urns[ok].groupby(names[ok], sort=False)}
