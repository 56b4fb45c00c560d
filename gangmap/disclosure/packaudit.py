"""Audit a pack as a reader would: from every published byte, how tightly can each hidden count be pinned?

:func:`audit_pack` reads back every file of a pack folder
(:mod:`gangmap.disclosure.artefacts`), turns everything published into what
it tells a reader about the counts, joins it into one system of constraints
(:mod:`gangmap.disclosure.lp`) and reports, for every hidden or rounded
count, the tightest range a reader gets. Given the raw inputs it also says
whether the truth is inside that range and how wide it is around it.

What the reader is assumed to know (the assumptions, stated):

* every figure in every file of the pack (CSV cells, XLSX cells of every
  sheet, the data embedded in the HTML maps, the tables of the index page);
* the disclosure rule printed in each file's footer (``Disclosure: nhs (0
  stays 0; 1–7 suppressed; others rounded to 5)``), for a CSV in its
  metadata sidecar (``<file>.csv-metadata.json``): a shown count stands for
  its rounding band, a hidden one is at least 1 (0 when zeros are hidden).
  A file with tables but no readable rule is a problem (the audit fails): its
  numbers are then read as exact, the reading that tells a reader most. A
  shown count the file's own rule hides (``9`` under ``threshold``) is a problem too;
* the public population of every area (from a published ``population``
  column, or given with the raw inputs), so that a rate per 1,000 (``X_rate``)
  gives ``X`` to within the rate's printed precision, and each interval bound
  (``X_rate_lo95``, ``_hi95``, ``_lo998``, ``_hi998``: the Poisson interval
  of :func:`gangmap.measures.poisson_ci`) gives the counts whose bound prints
  the same. A printed number is taken to carry the precision of its last
  digit, and a whole number ending in zeros only to its last non-zero digit
  (``1,230`` may be 1,225–1,235), so a range is never narrower than the truth allows.
  A rate or bound column that, in every row, is what the *published* count
  gives is worked out from the published counts and tells nothing new
  (:attr:`AuditResult.explained`); any other is taken to be of the raw count;
* that each total in a totals sheet is the sum of its areas (by the parent
  code column, ``lad_code``) and the county the sum of the parents;
* which files show the same counts (a *family*: the same filter of
  categories and periods) and how families relate: a filtered family is
  part of every family whose filter contains it (its count is at most
  theirs, area by area); when the raw inputs show that some parts add up
  exactly to a whole in every area, the reader is assumed to know that too.
  Families come from ``families=`` or the pack config; otherwise files whose
  shown counts agree are taken to be one family.

* which areas a campaign targets (``groups=``, or the config's
  ``[planning]`` campaign): a table of group totals (the campaign
  evaluation's ``targeted_before`` ... ``other_after``) then says that each
  group's before + after is the sum of its areas in the unfiltered view.

Not inverted (listed in :attr:`AuditResult.unmodelled`, to be checked by
construction: :mod:`gangmap.disclosure.derived` works them out from the
published counts): smoothed rates, excess risk, the need index, hotspot
labels, rankings. Not modelled at all (listed in :attr:`AuditResult.unread`
and in the summary, never skipped silently): PNG images (maps show the
classes of their HTML maps; charts such as the county trend and the campaign's
monthly counts are not read), tables without area codes (hubs), group totals
whose areas are not known, and free text such as planning statements.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DisclosureError
from ..geography import GEOGRAPHIES
from ..table import AreaTable
from .artefacts import Artefact, PublishedTable, read_pack
from .lp import INF, System

__all__ = ["audit_pack", "AuditResult", "Rule", "parse_rule"]

_COUNT_NAMES = ("reports", "referrals")
_CI = re.compile(r"^(?P<count>.+)_rate_(?P<side>lo|hi)(?P<level>95|998)$")


# --------------------------------------------------------------------------- rules and numbers
@dataclass(frozen=True)
class Rule:
    """A disclosure rule as a reader reads it from a footer."""

    name: str = "nhs"
    low: int = 1
    high: int = 7
    rounding: int = 5

    @property
    def floor(self) -> int:
        return self.low

    def band(self, shown: float) -> tuple[float, float]:
        s = int(round(shown))
        if s == 0 or self.rounding <= 1:
            return float(s), float(s)
        r = self.rounding
        return float(max(s - r // 2, self.high + 1)), float(s + r - 1 - r // 2)


#: The reading of a file whose rule cannot be found: shown numbers exact (what tells a reader most).
UNKNOWN_RULE = Rule("unknown", 1, 0, 1)


def parse_rule(artefact: Artefact) -> Rule:
    """The rule in an artefact's footer (or, for a CSV, its metadata sidecar).

    Raises
    ------
    DisclosureError
        The artefact carries no rule, or one that cannot be read: the auditor
        never guesses what a file's numbers stand for.
    """
    found = artefact.disclosure
    if found is None:
        raise DisclosureError(f"{artefact.name}: no disclosure rule found (no 'Disclosure: ...' footer in the file"
                              + (" and no readable metadata sidecar" if artefact.kind == "csv" else "")
                              + "), so what its numbers stand for is unknown. Publish it with its footer"
                              + (" and its .csv-metadata.json sidecar" if artefact.kind == "csv" else "") + ".")
    name, summary = found
    if name == "none":
        return Rule("none", 1, 0, 1)
    m = re.search(r"(\d+)(?:[–-](\d+))? suppressed", summary)
    if m is None:
        raise DisclosureError(f"{artefact.name}: its disclosure rule {name!r} ({summary or 'no summary'}) does not say "
                              "which counts are suppressed, so the auditor cannot read its numbers.")
    low, high = int(m.group(1)), int(m.group(2) or m.group(1))
    r = re.search(r"rounded to (\d+)", summary)
    return Rule(name, low, high, int(r.group(1)) if r else 1)


def _rule_or_problem(artefact: Artefact, problems: list[str]) -> Rule:
    try:
        return parse_rule(artefact)
    except DisclosureError as exc:
        if str(exc) not in problems:
            problems.append(str(exc))
        return UNKNOWN_RULE


def number(text: Any) -> float | None:
    """A published cell as a number, or None (marker, blank, words)."""
    if isinstance(text, bool) or text is None:
        return None
    if isinstance(text, (int, float, np.integer, np.floating)):
        return float(text) if np.isfinite(text) else None
    t = str(text).strip().replace(",", "")
    try:
        v = float(t)
    except ValueError:
        return None
    return v if np.isfinite(v) else None


def _digits(text: Any) -> tuple[str, str]:
    t = str(text).strip().replace(",", "").lstrip("-+")
    if isinstance(text, (float, np.floating)) and not float(text).is_integer():
        t = repr(abs(float(text)))
    whole, _, frac = t.partition(".")
    return whole, frac


def significant(text: Any) -> int:
    """Significant figures a printed number shows for sure (``'34.6'``: 3, ``'0.050'``: 2, ``'250'``: 2)."""
    whole, frac = _digits(text)
    if "e" in (whole + frac).lower():
        return 0
    digits = (whole + frac).lstrip("0")
    return len(digits) if frac else len(digits.rstrip("0"))


def precision(text: Any, sig: int = 0) -> float:
    """Half the unit of the last meaningful digit of a printed number.

    Decimals say their own precision. A whole number's trailing zeros are
    meaningful only up to ``sig`` significant figures (the most any number
    of the same column shows): ``'250'`` is 249.5–250.5 in a column that
    also shows ``'34.6'``, but 245–255 on its own.
    """
    whole, frac = _digits(text)
    if "e" in (whole + frac).lower():
        mant, exp = str(text).lower().split("e")
        return precision(mant) * 10 ** int(exp)
    if frac:
        return 0.5 * 10 ** -len(frac)
    digits = whole.lstrip("0")
    zeros = len(digits) - len(digits.rstrip("0"))
    shown = len(digits) - zeros
    return 0.5 * 10 ** max(0, zeros - max(0, sig - shown)) if digits else 0.5


# --------------------------------------------------------------------------- reading the tables
@functools.cache
def aliases() -> dict[str, str]:
    """Headers that name an area column → its name (``'Ward'`` → ``ward_name``, ``'District'`` → ``lad_name``).

    Count and rate headers (``'Reports (count)'``, ``'Reports per 1,000
    population'``) are read by :func:`column_of`'s patterns; maps name their
    columns in the embedded data.
    """
    out = {geo.title.lower(): geo.name for geo in GEOGRAPHIES.values()}
    out.setdefault("district", "lad_name")
    return out


def column_of(header: str) -> str:
    """The column a header or layer title names: ``'Reports (count)'`` → ``reports``,
    ``'Reports per 1,000 population'`` → ``reports_rate`` (a rate per 1,000 is the auditor's ``per``)."""
    h = str(header).strip()
    if h.lower() in aliases():
        return aliases()[h.lower()]
    m = re.fullmatch(r"(\w+) \(count\)", h, re.I)
    if m:
        return m.group(1).lower()
    m = re.fullmatch(r"(\w+) per 1,?000(?: (?:population|people|residents|children[\w ,–-]*))?", h, re.I)
    if m and not re.search(r"smooth|bayes|excess|expected|index|trend", h, re.I):
        return f"{m.group(1).lower()}_rate"
    return h


def _code_column(table: PublishedTable, known: set[str]) -> str | None:
    for geo in GEOGRAPHIES.values():
        if geo.code in table.columns:
            return geo.code
    for col, cells in table.columns.items():
        vals = [str(c) for c in cells if c not in (None, "")]
        if vals and known and sum(v in known for v in vals) >= 0.8 * len(vals):
            return col
    return None


@dataclass
class _Rows:
    """One published table in the auditor's terms: area codes and columns by meaning."""

    artefact: str
    rule: Rule
    codes: list[str | None]
    columns: dict[str, list[Any]]
    parents: dict[str, Any] = field(default_factory=dict)
    totals: bool = False
    source: str = ""


def _rows(art: Artefact, table: PublishedTable, known: set[str], names: Mapping[str, str],
          rule: Rule) -> _Rows | None:
    found = _area_rows(art, table, known, names, rule)
    if found is not None:
        found.source = table.source
    return found


def _area_rows(art: Artefact, table: PublishedTable, known: set[str], names: Mapping[str, str],
               rule: Rule) -> _Rows | None:
    cols = {column_of(k): v for k, v in table.columns.items()}
    if "level" in cols and "code" in cols:
        codes = [f"{lv}|{'' if cd is None else cd}" for lv, cd in zip(cols["level"], cols["code"])]
        return _Rows(art.name, rule, codes, cols, totals=True)
    if table.codes is not None:
        return _Rows(art.name, rule, list(table.codes), cols)
    code_col = _code_column(table, known)
    if code_col is not None:
        codes = [None if c in (None, "") else str(c) for c in table.columns[code_col]]
        parents = {c: p for c, p in zip(codes, cols.get("lad_code", [])) if c}
        return _Rows(art.name, rule, codes, cols, parents)
    name_col = next((c for c in cols if c in {g.name for g in GEOGRAPHIES.values()}), None)
    if name_col is not None and names:
        return _Rows(art.name, rule, [names.get(str(n)) for n in cols[name_col]], cols)
    return None


# --------------------------------------------------------------------------- what each cell tells
@dataclass
class _Obs:
    family: str
    count: str
    node: str  # an area code, or "level|code" for a total
    lo: float
    hi: float
    kind: str  # count, hidden, rate, interval, total
    source: str
    column: str = ""
    shown: float | None = None  # the published number, for counts


_NOT_HIDDEN = ("", "no data", "nan", "none", "<na>")


def _count_obs(rows: _Rows, family: str, counts: Iterable[str], problems: list[str]) -> list[_Obs]:
    out = []
    low, high = rows.rule.low, rows.rule.high
    for c in counts:
        cells = rows.columns.get(c)
        if cells is None:
            continue
        flags = rows.columns.get(f"{c}_suppressed") if rows.totals else None
        for i, (code, text) in enumerate(zip(rows.codes, cells)):
            if code is None:
                continue
            hidden = str(flags[i]).strip().lower() == "true" if flags is not None else None
            v = number(text)
            if hidden or (hidden is None and v is None and str(text).strip().lower() not in _NOT_HIDDEN):
                out.append(_Obs(family, c, code, float(rows.rule.floor), INF, "hidden", rows.artefact))
            elif v is not None:
                if low <= v <= high:
                    problems.append(f"{rows.artefact}: {c} of {code.replace('|', ' ') or 'the county'} shows {text}, "
                                    f"a count its own rule ({rows.rule.name}: {low}–{high} suppressed) hides")
                lo, hi = rows.rule.band(v)
                out.append(_Obs(family, c, code, lo, hi, "total" if rows.totals else "count", rows.artefact, c, v))
    return out


def _poisson_bounds(x: np.ndarray, side: str, level: float) -> np.ndarray:
    from ..measures import poisson_ci

    lo, hi = poisson_ci(x, level)
    return np.asarray(lo if side == "lo" else hi, dtype=float)


def _derived_obs(rows: _Rows, family: str, counts: Iterable[str], pop: Mapping[str, float], per: float,
                 unmodelled: set) -> list[_Obs]:
    out = []
    skip = {"population", "level", "code", "name", *counts, *(f"{c}_suppressed" for c in counts)}
    skip |= {g.code for g in GEOGRAPHIES.values()} | {g.name for g in GEOGRAPHIES.values()} | {"lad_code", "lad_name"}
    xs = np.arange(0, 20001, dtype=float)
    for col, cells in rows.columns.items():
        if col in skip or rows.totals:
            continue
        m = _CI.match(col)
        base = col[:-5] if col.endswith("_rate") else (m.group("count") if m else None)
        if base not in counts:
            unmodelled.add((rows.artefact, col))
            continue
        sig = max((significant(t) for t in cells if number(t) is not None), default=0)
        for code, text in zip(rows.codes, cells):
            v, p = number(text), pop.get(code) if code else None
            if v is None or p is None or p <= 0:
                continue
            half = precision(text, sig)
            lo_v, hi_v = (v - half) * p / per, (v + half) * p / per  # in counts
            if m is None:
                out.append(_Obs(family, base, code, math.ceil(lo_v - 1e-9), math.floor(hi_v + 1e-9), "rate",
                                rows.artefact, col))
                continue
            b = _poisson_bounds(xs, m.group("side"), 0.95 if m.group("level") == "95" else 0.998)
            ok = np.flatnonzero((b >= lo_v - 1e-9) & (b <= hi_v + 1e-9))
            if len(ok):
                out.append(_Obs(family, base, code, float(xs[ok[0]]), float(xs[ok[-1]]), "interval", rows.artefact,
                                col))
            else:  # no count prints this bound: keep the contradiction visible
                out.append(_Obs(family, base, code, 1.0, 0.0, "interval", rows.artefact, col))
    return out


def _explained(obs: list[_Obs]) -> tuple[list[_Obs], list[tuple[str, str]]]:
    """Drop derived columns that every row shows as worked out from the *published* count.

    A rate computed from the published (rounded) count tells a reader
    nothing new, whatever it looks like; one computed from the raw count
    does. A column is taken to be the former when, in every row where the
    count is shown, the count the figure implies includes the published
    number (and the latter otherwise: then every row of it is a constraint).
    """
    shown = {(o.family, o.count, o.node): o.shown for o in obs if o.shown is not None}
    groups: dict[tuple[str, str], list[_Obs]] = {}
    for o in obs:
        if o.kind in ("rate", "interval"):
            groups.setdefault((o.source, o.column), []).append(o)
    drop, explained = set(), []
    for key, items in groups.items():
        checked = [(o, shown[(o.family, o.count, o.node)]) for o in items if (o.family, o.count, o.node) in shown]
        if checked and all(o.lo - 1e-9 <= s <= o.hi + 1e-9 for o, s in checked):
            drop.add(key)
            explained.append(key)
    return [o for o in obs if (o.source, o.column) not in drop], sorted(explained)


def _populations(rows_list: Iterable[_Rows], given: Mapping[str, float] | None) -> dict[str, float]:
    pop = dict(given or {})
    for rows in rows_list:
        if "population" in rows.columns and not rows.totals:
            for code, text in zip(rows.codes, rows.columns["population"]):
                v = number(text)
                if code and v is not None:
                    pop.setdefault(code, v)
    return pop


# --------------------------------------------------------------------------- families and links
def _stem(name: str) -> str:
    return Path(name).stem


def _config(raw: Any):
    """A pack config (path, dict or PackConfig) as a PackConfig, or None when ``raw`` is not one."""
    if raw is None or (isinstance(raw, Mapping) and "maps" not in raw):
        return None
    from ..pack import PackConfig, load_config

    return raw if isinstance(raw, PackConfig) else load_config(raw)


def pack_families(cfg, views: Mapping[str, Any], periods) -> dict[str, str]:
    """Which view each file of a pack shows: ``{file stem: view}`` (a time map: ``{"file:period": view}``)."""
    from ..pack.views import time_views, view_of

    fam: dict[str, str] = {}
    for spec in cfg.maps:
        if spec.timed:  # read back as "<file>:<period>" (see artefacts.read_pack)
            for label, v in time_views(spec, periods).items():
                fam[f"{spec.file}:{label}"] = v.name
        else:
            fam[spec.file] = view_of(cfg, spec)
    return fam


def _from_config(cfg) -> tuple[dict[str, str], dict[str, pd.DataFrame], list, dict | None]:
    """Families, raw tables, links and campaign groups of a pack config, from one read and join of its inputs."""
    from ..joining import build_cube
    from ..pack.views import filtered_counts, links_of, read_inputs, views_of

    inputs = read_inputs(cfg)
    cube, _ = build_cube(inputs.areas, reports=inputs.reports, referrals=inputs.referrals, schools=inputs.schools,
                         population=inputs.population, lsoa=inputs.lsoa, allow_unmatched=True)
    views = views_of(cfg, cube.periods())
    raw = {}
    for name, v in views.items():
        table = cube.table(category=list(v.category) if v.category else None,
                           period=list(v.period) if v.period else None)
        raw[name] = pd.DataFrame(table.frame.drop(columns="geometry", errors="ignore"))
    links = [(lk.whole, list(lk.parts), lk.complete, lk.columns)
             for lk in links_of(views, cube.categories(), cube.periods(), filtered_counts(cube))]
    groups = None
    if cfg.planning is not None:
        from ..planning import read_targets

        groups = {"targeted": sorted(map(str, read_targets(cfg.planning.campaign, cube.table()).codes))}
    return pack_families(cfg, views, cube.periods()), raw, links, groups


def _links_from_truth(truth: Mapping, counts) -> list[tuple[str, list[str], bool]]:
    """Without a config: family P is part of W when its raw count is at most W's in every area."""
    fams = sorted({k[0] for k in truth})
    areas: dict[str, dict] = {f: {(c, n): v for (ff, c, n), v in truth.items() if ff == f and "|" not in n}
                              for f in fams}
    out = []
    for w in fams:
        parts = [p for p in fams if p != w and areas[p] and set(areas[p]) <= set(areas[w])
                 and all(v <= areas[w][k] for k, v in areas[p].items())
                 and any(v < areas[w][k] for k, v in areas[p].items())]
        if parts:
            exact = all(abs(sum(areas[p][k] for p in parts) - areas[w][k]) < 1e-9 for k in areas[w]
                        if k[0] in counts and all(k in areas[p] for p in parts))
            out.append((w, parts, exact))
    return out


def _group_families(rows_by_art: Mapping[str, list[_Rows]], counts) -> dict[str, str]:
    """Files whose shown counts agree area by area are one family (the first file's stem names it)."""
    fams: list[tuple[str, dict]] = []
    out = {}
    for art, rows_list in rows_by_art.items():
        shown = {(c, code): number(t) for r in rows_list if not r.totals for c in counts if c in r.columns
                 for code, t in zip(r.codes, r.columns[c]) if code and number(t) is not None}
        for key, seen in fams:
            both = [k for k in shown if k in seen]
            if all(shown[k] == seen[k] for k in both) and (len(both) >= min(5, len(shown)) or not shown):
                seen.update(shown)
                out[art] = key
                break
        else:
            key = "all" if not fams else _stem(art)
            fams.append((key, dict(shown)))
            out[art] = key
    return out


# --------------------------------------------------------------------------- the reader's system
@dataclass
class _Model:
    system: System
    nodes: dict  # (family, count, node) -> variable
    status: dict  # (family, count, node) -> "hidden" | "rounded" | "exact"
    sources: dict  # (family, count, node) -> set of artefacts
    kinds: dict  # (family, count, node) -> set of kinds


def _model(obs: list[_Obs], parents: Mapping[str, Any], codes: Iterable[str]) -> _Model:
    m = _Model(System(), {}, {}, {}, {})
    for o in obs:
        key = (o.family, o.count, o.node)
        m.nodes[key] = m.system.add(key, max(0.0, o.lo), o.hi)
        m.sources.setdefault(key, set()).add(o.source)
        m.kinds.setdefault(key, set()).add(o.kind)
        shown = "exact" if o.lo == o.hi else "rounded"
        if o.kind == "hidden":
            m.status.setdefault(key, "hidden")
        elif o.kind in ("count", "total"):
            m.status[key] = shown if m.status.get(key) in (None, "hidden", "rounded") else m.status[key]
    _totals(m, parents, list(codes))
    return m


def _totals(m: _Model, parents: Mapping[str, Any], codes: list[str]) -> None:
    """Each published total is the sum of its areas (by parent code); the county, of the parents."""
    fams = {(f, c) for (f, c, n) in m.nodes if "|" in n}
    for fam, c in fams:
        area = {code: m.system.add((fam, c, code)) for code in codes}
        for key in [k for k in m.nodes if k[0] == fam and k[1] == c and "|" in k[2]]:
            m.nodes.setdefault((fam, c, key[2]), m.system.index[key])
        groups: dict[Any, list[int]] = {}
        for code, var in area.items():
            if code in parents:
                groups.setdefault(str(parents[code]), []).append(var)
        for nk in [k for k in m.nodes if k[0] == fam and k[1] == c and "|" in k[2]]:
            level, tcode = nk[2].split("|", 1)
            if level == "county":
                m.system.sum_of(m.nodes[nk], list(area.values()))
            elif tcode in groups:
                m.system.sum_of(m.nodes[nk], groups[tcode])
        for code, var in area.items():
            m.nodes.setdefault((fam, c, code), var)


def _add_links(m: _Model, links, counts) -> None:
    """``(whole, parts, complete[, columns])``: columns (default every count) are the counts the link cuts."""
    for whole, parts, complete, *columns in links:
        cut = set(counts) if not columns or columns[0] is None else set(columns[0]) & set(counts)
        for (f, c, node), var in list(m.nodes.items()):
            if f != whole or c not in cut:
                continue
            pv = [m.nodes.get((p, c, node)) for p in parts]
            pv = [v for v in pv if v is not None]
            if pv and (not complete or len(pv) == len(parts)):
                m.system.sum_of(var, pv, complete=complete)


def _truth(raw: Mapping[str, Any] | None, counts, parents: Mapping[str, Any]) -> dict:
    out: dict = {}
    for fam, table in (raw or {}).items():
        frame = table.frame if isinstance(table, AreaTable) else table
        code_col = next((g.code for g in GEOGRAPHIES.values() if g.code in frame.columns), None)
        if code_col is None:
            continue
        for c in counts:
            if c not in frame.columns:
                continue
            vals = dict(zip(frame[code_col].astype(str), frame[c].astype(float)))
            out.update({(fam, c, code): v for code, v in vals.items()})
            by_parent: dict[str, float] = {}
            for code, v in vals.items():
                if code in parents:
                    by_parent[str(parents[code])] = by_parent.get(str(parents[code]), 0.0) + v
            out.update({(fam, c, f"district|{p}"): v for p, v in by_parent.items()})
            out[(fam, c, "county|")] = float(np.nansum(list(vals.values())))
    return out


# --------------------------------------------------------------------------- group totals, and what is not read
#: A column of a published table of group totals: the campaign evaluation's ``targeted_before`` ... ``other_after``.
_GROUP_COLUMN = re.compile(r"^(?P<group>targeted|other)_(?P<window>before|after)$")
#: The view whose counts the campaign evaluation adds up (every category, every period).
_GROUP_FAMILY = "all"


def _group_table(art: Artefact, table: PublishedTable, rule: Rule, count: str, problems: list[str]) -> list[_Obs]:
    """The cells of a one-row table of group totals as observations of ``group|<group>|<window>`` nodes."""
    out = []
    for col, cells in table.columns.items():
        m = _GROUP_COLUMN.match(str(col))
        if m and cells:
            node = f"group|{m.group('group')}|{m.group('window')}"
            out += _count_obs(_Rows(art.name, rule, [node], {count: cells[:1]}), _GROUP_FAMILY, [count], problems)
    return out


def _group_tables(artefacts: list[Artefact], rows_by_art: Mapping[str, list[_Rows]], groups, counts,
                  problems: list[str]) -> tuple[list[_Obs], list[tuple[str, str]]]:
    """Observations of the published group totals, and every published table or figure not modelled.

    A table the auditor cannot place on areas, a table of group totals when
    the groups are not known, an image (its pixels are not read) and the free
    text of a page are listed, never skipped silently.
    """
    obs: list[_Obs] = []
    unread: list[tuple[str, str]] = []
    for art in artefacts:
        read = {r.source for r in rows_by_art.get(art.name, [])}
        for t in art.tables:
            if t.source in read:
                continue
            is_group = sum(bool(_GROUP_COLUMN.match(str(c))) for c in t.columns) == 4 and len(t) == 1
            if is_group and groups is not None:
                obs += _group_table(art, t, _rule_or_problem(art, problems), counts[0], problems)
            elif is_group:
                unread.append((art.name, "group totals of targeted and other areas, not linked: the auditor was "
                                         "not told the campaign's areas (groups=)"))
            else:
                unread.append((art.name, "a table with no area codes or names, so it is not linked"))
        if art.kind == "png":
            unread.append((art.name, "an image: its pixels are not read; a map shows the classes of its HTML map, a "
                                     "chart the figures it was drawn from"))
        elif art.kind == "html" and art.text.strip():
            unread.append((art.name, "free text such as planning statements; its tables are read"))
    return obs, unread


def _link_groups(m: _Model, groups: Mapping[str, Iterable[str]], known: set[str], truth: Mapping) -> None:
    """Each group's published before + after = the sum of its areas' counts in the unfiltered view.

    The evaluation leaves out months in which a group has no data; when the
    raw counts show that (their sum is outside what the published totals
    allow), the link is ``<=`` instead of ``=``.
    """
    targeted = {str(c) for c in groups.get("targeted", ())}
    members = {"targeted": sorted(targeted & known), "other": sorted(known - targeted)}
    for c in {k[1] for k in m.nodes if k[2].startswith("group|")}:
        for group, codes in members.items():
            keys = [(_GROUP_FAMILY, c, f"group|{group}|{w}") for w in ("before", "after")]
            if not codes or not all(k in m.nodes for k in keys):
                continue
            coefs = {m.nodes[k]: 1.0 for k in keys}
            for code in codes:
                var = m.nodes.setdefault((_GROUP_FAMILY, c, code), m.system.add((_GROUP_FAMILY, c, code)))
                coefs[var] = coefs.get(var, 0.0) - 1.0
            m.kinds.setdefault(keys[0], set()).add("group")
            m.kinds.setdefault(keys[1], set()).add("group")
            raw = np.array([truth.get((_GROUP_FAMILY, c, code), np.nan) for code in codes], dtype=float)
            lo = sum(m.system.lo[m.nodes[k]] for k in keys)
            hi = sum(m.system.hi[m.nodes[k]] for k in keys)
            if np.isfinite(raw).all() and not lo <= raw.sum() <= hi:
                m.system.at_least({v: -w for v, w in coefs.items()})  # months left out: the areas add up to more
            else:
                m.system.equal(coefs)


# --------------------------------------------------------------------------- the result
@dataclass
class AuditResult:
    """What a reader of a whole pack can work out, cell by cell.

    Attributes
    ----------
    cells : DataFrame
        One row per hidden or rounded count: ``family`` (files showing the
        same counts), ``column``, ``level`` (area, district, county),
        ``code``, ``name``, ``status`` (hidden, rounded), ``low``, ``high``,
        ``values`` (possible values left), ``need`` (the minimum: ``min_range``
        for hidden cells, 2 for rounded ones), ``ok``, ``truth`` (with raw
        inputs), ``by`` (what narrowed it: count, total, rate, interval,
        link) and ``files``.
    files : list of str
        Every file read.
    unmodelled : list of (file, column)
        Published columns the auditor does not invert (see the module docstring).
    problems : list of str
        What could not be read or solved.
    families : dict
        The family each file was read as.
    explained : list of (file, column)
        Rates and interval bounds worked out from the published counts: they
        tell a reader nothing new, so they add no constraint.
    unread : list of (file, what)
        Published tables and figures outside the checked system (images,
        free text, tables with no area codes, group totals whose areas are
        not known): what the audit does NOT vouch for.
    """

    cells: pd.DataFrame
    files: list[str]
    unmodelled: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    families: dict[str, str] = field(default_factory=dict)
    explained: list[tuple[str, str]] = field(default_factory=list)
    unread: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.cells["ok"].all()) and not self.problems

    @property
    def failures(self) -> pd.DataFrame:
        return self.cells[~self.cells["ok"]]

    def table(self, limit: int | None = 40) -> str:
        """The tightest ranges first, as a fixed-width text table (what ``gangmap audit`` prints)."""
        cols = ["family", "column", "level", "code", "status", "low", "high", "values", "need", "ok", "by"]
        if "truth" in self.cells:
            cols.insert(7, "truth")
        df = self.cells.sort_values(["ok", "values"], kind="stable")[cols]
        df = df.head(limit) if limit else df
        return df.to_string(index=False, float_format=lambda v: f"{v:g}")

    def summary(self) -> str:
        hidden = self.cells[self.cells["status"] == "hidden"]
        rounded = self.cells[self.cells["status"] == "rounded"]
        least = hidden["values"].min() if len(hidden) else math.inf
        lines = [f"{len(self.files)} files read; {len(hidden)} hidden and {len(rounded)} rounded counts checked.",
                 f"Narrowest hidden range: {'unbounded' if not np.isfinite(least) else f'{least:g} values'}."]
        bad_h = int((~hidden["ok"]).sum()) if len(hidden) else 0
        bad_r = int((~rounded["ok"]).sum()) if len(rounded) else 0
        lines.append(f"{bad_h} hidden counts narrow below the minimum; {bad_r} rounded counts can be worked out.")
        if self.unmodelled:
            cols = sorted({c for _, c in self.unmodelled})
            lines.append(f"Not inverted (checked by construction only): {', '.join(cols)}.")
        by_what: dict[str, list[str]] = {}
        for f, what in self.unread:
            by_what.setdefault(what, []).append(f)
        lines += [f"Published but not modelled ({what}): {', '.join(files)}." for what, files in by_what.items()]
        lines += [f"Problem: {p}" for p in self.problems]
        lines.append("OK" if self.ok else "NOT SAFE")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary() + "\n\n" + self.table()

    def _repr_html_(self) -> str:
        import html as _html

        return (f"<pre>{_html.escape(self.summary())}</pre>"
                + self.cells.sort_values(["ok", "values"]).head(40).to_html(index=False, border=0))


def _cells(m: _Model, truth: dict, min_range: int, names: Mapping[str, str], integer: bool) -> pd.DataFrame:
    keys = [k for k, s in m.status.items() if s in ("hidden", "rounded")]
    by_var = {m.nodes[k]: truth[k] for k in m.nodes if k in truth}
    complete = len(by_var) == len(m.system) and all(np.isfinite(v) for v in by_var.values())
    needs = {m.nodes[k]: min_range if m.status[k] == "hidden" else 2 for k in keys}
    res = m.system.checked_ranges([m.nodes[k] for k in keys], needs, truth=by_var if complete else None,
                                  integer=integer)
    rows = []
    for k in keys:
        low, high = res[m.nodes[k]]
        need = needs[m.nodes[k]]
        level, code = k[2].split("|", 1) if "|" in k[2] else ("area", k[2])
        rows.append({"family": k[0], "column": k[1], "level": level, "code": code, "name": names.get(code, ""),
                     "status": m.status[k], "low": low, "high": high, "values": high - low + 1, "need": need,
                     "ok": bool(high - low + 1 >= need), "truth": truth.get(k, np.nan),
                     "by": ", ".join(sorted(m.kinds.get(k, ()))), "files": ", ".join(sorted(m.sources.get(k, ())))})
    cols = ["family", "column", "level", "code", "name", "status", "low", "high", "values", "need", "ok", "truth",
            "by", "files"]
    out = pd.DataFrame(rows, columns=cols)
    return out if truth else out.drop(columns="truth")


def _read(artefacts: list[Artefact], problems: list[str]
          ) -> tuple[dict[str, list[_Rows]], set[str], dict[str, str], dict]:
    """The tables of every artefact in the auditor's terms, the area codes, names and parents.

    An artefact with tables but no readable rule adds a problem (and is read as exact)."""
    rules = {a.name: _rule_or_problem(a, problems) for a in artefacts if a.tables}
    known: set[str] = set()
    names: dict[str, str] = {}
    for art in artefacts:
        for t in art.tables:
            if t.codes is not None:
                known |= set(t.codes)
                if "name" in t.columns:
                    names.update(zip(t.codes, map(str, t.columns["name"])))
    by_name: dict[str, str] = {}
    rows_by_art: dict[str, list[_Rows]] = {}
    parents: dict[str, Any] = {}
    for art in sorted(artefacts, key=lambda a: (a.kind not in ("csv", "xlsx"), a.name)):
        for t in art.tables:
            r = _rows(art, t, known, by_name, rules[art.name])
            if r is None:
                continue
            rows_by_art.setdefault(art.name, []).append(r)
            parents.update(r.parents)
            for nc in ("ward_name", "name", *(g.name for g in GEOGRAPHIES.values())):
                if nc in r.columns and not r.totals:
                    names.update({c: str(n) for c, n in zip(r.codes, r.columns[nc]) if c})
            known |= {c for c in r.codes if c and not r.totals}
        by_name = {n: c for c, n in names.items() if list(names.values()).count(n) == 1}
    # A second pass for tables keyed by area name (the index page), now that names are known.
    for art in artefacts:
        for t in art.tables:
            if art.name not in rows_by_art or not any(r.artefact == art.name for r in rows_by_art[art.name]):
                r = _rows(art, t, known, by_name, rules[art.name])
                if r is not None:
                    rows_by_art.setdefault(art.name, []).append(r)
    return rows_by_art, known, names, parents


def audit_pack(path: str | Path | Iterable, raw: Any = None, *, families: Mapping[str, str] | None = None,
               links: Iterable | None = None, counts: Iterable[str] = _COUNT_NAMES, min_range: int = 3,
               per: float = 1000.0, population: Mapping[str, float] | None = None,
               integer: bool = False, groups: Mapping[str, Iterable[str]] | None = None) -> AuditResult:
    """Read every file of a pack and report the tightest range a reader gets for every hidden or rounded count.

    Parameters
    ----------
    path : folder, file or list of files
        The pack as published.
    raw : pack config (path, dict, PackConfig) or mapping, optional
        The raw inputs: a pack config (its inputs are joined again for every
        filter its maps use, and its ``[[maps]]`` say which file shows which
        filter), or ``{family: raw table}`` with families named as in
        ``families``. Adds each cell's ``truth``.
    families : mapping, optional
        ``{file stem: family}``: which files show the same counts (default:
        from the config, else files whose shown counts agree).
    links : iterable, optional
        How families relate: :class:`~gangmap.disclosure.Link` objects or
        ``(whole, [parts], complete[, columns])``. Default: from the config (the pack's own links);
        else, with raw tables, every family whose raw counts are at most
        another's in every area is taken to be part of it.
    counts : iterable of str
        The count columns to audit.
    min_range : int
        Possible values every hidden count must keep (3).
    per : float
        The rate multiplier of ``X_rate`` columns (per 1,000).
    population : mapping, optional
        ``{area code: population}`` when the pack does not publish one.
    groups : mapping, optional
        ``{"targeted": area codes}``: the areas of the campaign (public
        knowledge: the maps outline them). A published table of group totals
        (``targeted_before``, ``targeted_after``, ``other_before``,
        ``other_after``: the campaign evaluation) is then linked into the
        system: each group's before + after is the sum of its areas' counts
        in the unfiltered view (``other``: every other area). Default: from
        the config's ``[planning]`` campaign; without it such a table is
        listed in :attr:`AuditResult.unread`.

    Returns
    -------
    AuditResult
        ``print(result)`` shows the summary and the tightest ranges.
    """
    counts = tuple(counts)
    artefacts = read_pack(path) if not isinstance(path, list) or not path or not isinstance(path[0], Artefact) \
        else path
    problems = [f"{a.name}: {p}" for a in artefacts for p in a.problems]
    rows_by_art, known, names, parents = _read(artefacts, problems)
    cfg = _config(raw)
    fam_of, raw_tables = dict(families or {}), raw if isinstance(raw, Mapping) else None
    if cfg is not None:
        cfg_fams, raw_tables, cfg_links, cfg_groups = _from_config(cfg)
        fam_of = {**cfg_fams, **fam_of}
        links = cfg_links if links is None else links
        groups = cfg_groups if groups is None else groups
    if not fam_of:
        fam_of = {_stem(k): v for k, v in _group_families(rows_by_art, counts).items()}
    family = {art: fam_of.get(_stem(art), "all") for art in rows_by_art}
    pop = _populations([r for rs in rows_by_art.values() for r in rs], population)
    if raw_tables and not pop:
        pop = _raw_population(raw_tables)
    unmodelled: set = set()
    obs = []
    for art, rows_list in rows_by_art.items():
        for r in rows_list:
            obs += _count_obs(r, family[art], counts, problems)
            obs += _derived_obs(r, family[art], counts, pop, per, unmodelled)
    obs, explained = _explained(obs)
    truth = _truth(raw_tables, counts, parents)
    group_obs, unread = _group_tables(artefacts, rows_by_art, groups, counts, problems)
    m = _model(obs + group_obs, parents, sorted(known))
    if groups is not None:
        _link_groups(m, groups, known, truth)
    if links is not None:
        found = [(lk.whole, list(lk.parts), lk.complete, lk.columns) if hasattr(lk, "whole") else tuple(lk)
                 for lk in links]
    else:
        found = _links_from_truth(truth, counts)
    _add_links(m, found, counts)
    try:
        cells = _cells(m, truth, min_range, names, integer)
    except DisclosureError as exc:
        problems.append(f"{exc} (families assumed: {sorted(set(family.values()))}; pass families= to say which "
                        "files show the same counts)")
        cells = pd.DataFrame(columns=["family", "column", "level", "code", "name", "status", "low", "high",
                                      "values", "need", "ok", "by", "files"])
    return AuditResult(cells, [a.name for a in artefacts], sorted(unmodelled), problems, family, explained,
                       unread)


def _raw_population(raw_tables: Mapping[str, Any]) -> dict[str, float]:
    for table in raw_tables.values():
        frame = table.frame if isinstance(table, AreaTable) else table
        code_col = next((g.code for g in GEOGRAPHIES.values() if g.code in frame.columns), None)
        if code_col and "population" in frame.columns:
            return {str(c): float(p) for c, p in zip(frame[code_col], frame["population"]) if pd.notna(p)}
    return {}
