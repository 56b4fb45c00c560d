"""Join: reports, referrals and population onto areas of any geography, accounting for every row.

:func:`build_cube` reads and places every input once (:mod:`.cube`);
:func:`join` is the cube seen through one category/period filter: one row per
area (every area present, 0 where no row was placed on it) and a
:class:`~gangmap.joining.report.JoinReport` that accounts for every input row.
A row that is not placed is never a silent zero: unmatched, ambiguous or
rejected rows (or coordinates mostly outside every area) make the join fail
with the rows listed, unless ``allow_unmatched=True``; then the report's
``not_placed`` line travels with the table (``schema.notes``) into every
output's footer.

data.police.uk street files given by path (a CSV, a folder, a zip, a glob
or a list of them) are read in chunks and counted as they go
(:mod:`.streaming`), so memory stays bounded whatever the number of rows;
the tables and reports are exactly those of the in-memory join of
``gangmap.io.read_police`` on the same files. ``engine="dask"`` runs that
streaming join on dask. Every other input is read whole, with the areas'
geography (rows keyed by LSOA or neighbourhood codes or names find them).
The reader's notes and the months it found unpublished go into the report and
``schema.missing_periods``: no data, never zero.

Examples
--------
>>> import gangmap
>>> p = gangmap.demo.paths()  # doctest: +SKIP
>>> table, report = gangmap.join(p["wards"], reports=p["reports"])  # doctest: +SKIP
>>> print(report.summary())  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..io import Intake, as_intake
from ..table import AreaTable, Schema, quarter_of
from .areas import areas_source, as_areas, identifier_columns
from .cube import KindCube, month_span
from .place import Bridge, assign, make_bridge, place_rows
from .report import JoinReport, SourceReport
from .streaming import is_streamable, stream_kind

__all__ = ["AreaCube", "build_cube", "join"]

_COUNT_KINDS = ("reports", "referrals")


@dataclass
class Population:
    """The population input placed on the areas: one value per area (NaN where none) and its report."""

    values: np.ndarray
    report: SourceReport
    label: str = "population"


def period_buckets(periods, freq: str) -> dict[str, tuple[str, ...]]:
    """Months grouped by period: ``{"2018-03": ("2018-03",)}`` or ``{"2018-Q1": (3 months)}``.

    Only whole quarters are kept: a quarter with a month missing (the first and
    last of a span that starts in March, say) would read as a fall in reports.
    """
    from ..errors import ConfigError

    if freq not in ("M", "Q"):
        raise ConfigError(f"freq must be 'M' (months) or 'Q' (quarters), not {freq!r}.")
    if freq == "M":
        return {p: (p,) for p in sorted(periods)}
    out: dict[str, list[str]] = {}
    for p in sorted(periods):
        out.setdefault(quarter_of(p), []).append(p)
    return {k: tuple(v) for k, v in out.items() if len(v) == 3}


@dataclass
class AreaCube:
    """Every input placed once; tables, reports and series for any filter (see :mod:`.cube`)."""

    areas: AreaTable
    kinds: dict[str, KindCube]
    population: Population | None = None
    covered_periods: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    sources: tuple[str, ...] = ()

    @property
    def geography(self):
        return self.areas.geography

    def categories(self, kind: str = "reports") -> list[str]:
        """The categories the input holds (empty when it has none)."""
        return list(self.kinds[kind].available.get("category", [])) if kind in self.kinds else []

    def periods(self, kind: str = "reports") -> list[str]:
        """The periods the input holds (empty when it has none)."""
        return list(self.kinds[kind].available.get("period", [])) if kind in self.kinds else []

    def report(self, category=None, period=None) -> JoinReport:
        """The :class:`JoinReport` that :func:`join` gives with this filter."""
        rep = JoinReport(areas=len(self.areas), geography=self.geography, notes=list(self.notes))
        for kind, k in self.kinds.items():
            rep.sections[kind] = k.report(category, period)
        if self.population is not None:
            rep.sections["population"] = self.population.report
        return rep

    def table(self, category=None, period=None) -> AreaTable:
        """The :class:`AreaTable` that :func:`join` gives with this filter."""
        report = self.report(category, period)
        frame = self._frame()
        for kind, k in self.kinds.items():
            frame[kind] = np.rint(k.sums(category, period)).astype("int64")
        if self.population is not None:
            frame["population"] = self.population.values
        return AreaTable(frame, self._schema(category, period, report))

    def tables_by_period(self, freq: str = "Q", *, category=None) -> dict[str, AreaTable]:
        """One :class:`AreaTable` per month (``freq="M"``) or whole quarter (``"Q"``): ``{label: table}``.

        Quarters missing a month in the data are left out (they would read as a
        fall). Make them safe together with the whole, e.g.
        ``disclosure.protect_linked({"all": cube.table(), **periods},
        [disclosure.periods("all", list(periods), complete=False)])``.
        """
        months = self.periods()
        return {label: self.table(category=category, period=list(ms))
                for label, ms in period_buckets(months, freq).items()}

    def series(self, kind: str = "reports", *, category=None, freq: str = "M",
               covered_periods=None) -> pd.DataFrame:
        """A series frame: index area codes (table order), columns periods ascending, NaN = no data.

        ``freq="M"`` gives months (``YYYY-MM``), ``"Q"`` quarters (``YYYY-Qn``).
        ``covered_periods`` adds months the source covered although the input
        has no row for them (0 there, not NaN). See :mod:`.cube` for the rule.
        """
        if kind not in self.kinds:
            raise KeyError(f"no {kind!r} in this cube; it has {', '.join(self.kinds) or 'no counts'}.")
        if freq not in ("M", "Q"):
            raise ValueError(f"freq must be 'M' or 'Q', not {freq!r}.")
        covered = set(self.covered_periods) | set(covered_periods or ())
        frame = self.kinds[kind].series(category, freq, covered)
        frame.index = pd.Index(self.areas.codes.to_numpy(), name=self.geography.code)
        return frame

    def _frame(self) -> pd.DataFrame:
        cols = identifier_columns(self.areas)
        src = self.areas.frame
        if self.areas.has_geometry:
            frame = gpd.GeoDataFrame({c: src[c].to_numpy() for c in cols if c != src.geometry.name},
                                     geometry=src.geometry.to_numpy(), crs=src.crs)
        else:
            frame = pd.DataFrame({c: src[c].to_numpy() for c in cols})
        frame.index = src.index
        return frame

    def _schema(self, category, period, report: JoinReport) -> Schema:
        periods = sorted({p for k in self.kinds.values() for p in k.periods(category, period)})
        published = {p for k in self.kinds.values() for p in k.published} | set(self.covered_periods)
        missing = {m for m in month_span([p for p in periods if len(p) == 7]) if m not in published}
        wanted = None if period is None else {str(p) for p in ([period] if isinstance(period, str) else period)}
        missing |= {m for k in self.kinds.values() for m in k.missing_periods
                    if (wanted is None or m in wanted) and m not in self.covered_periods}
        missing_sorted = sorted(missing)
        notes = {}
        for kind, sec in report.sections.items():
            notes[kind] = {"source": sec.source, "by": sec.key, **({"not_placed": sec.not_placed}
                                                                     if sec.not_placed else {})}
        cats = () if category is None else tuple([category] if isinstance(category, str) else category)
        return Schema(geography=self.geography, counts=tuple(self.kinds),
                      context=("population",) if self.population is not None else (),
                      labels={"population": self.population.label} if self.population is not None else {},
                      notes=notes, sources=self.sources, periods=tuple(periods), missing_periods=tuple(missing_sorted),
                      categories=cats, repaired=self.areas.schema.repaired)


def _count_kind(obj, kind: str, areas: AreaTable, schools, bridge: Bridge | None, by, chunksize,
                engine: str) -> KindCube:
    """One count input placed and counted: police.uk files streamed in chunks, anything else in memory."""
    if is_streamable(obj, kind):
        return stream_kind(obj, areas, kind=kind, bridge=bridge, by=by, chunksize=chunksize, engine=engine)
    if chunksize is not None or engine != "local":
        what = type(obj).__name__ if not isinstance(obj, (str, Path)) else str(obj)
        raise ConfigError(f"{kind}={what}: only data.police.uk street files given by path (a CSV, a folder, a "
                          "zip, a glob or a list of them) are read in chunks or on dask; drop chunksize=/engine= "
                          "for this input.")
    # the reader must know: by code, a blank code column is an error, not a fall back to names
    told = {"by": by} if kind == "reports" and by in ("code", "name", "lsoa") else {}
    intake = as_intake(obj, kind, geography=areas.geography, **told)
    placement, point_pos, lsoa_pos = place_rows(intake, areas, schools=schools, bridge=bridge, by=by)
    return KindCube.build(intake, areas, placement, point_pos=point_pos, lsoa_pos=lsoa_pos)


def _population(intake: Intake, areas: AreaTable, schools, bridge) -> Population:
    """The population per area; a second row for one area (by code or name) is a rejected row."""
    placement = assign(intake, areas, schools=schools, bridge=bridge)
    geo = areas.geography
    rejected = intake.rejected
    if placement.by in ("code", "name"):  # a second row for an area is an error in that row
        matched = placement.status == "matched"
        dup = pd.Series(np.where(matched, placement.pos, -1 - np.arange(len(matched)))).duplicated().to_numpy()
        if dup.any():
            codes = areas.codes.to_numpy()[placement.pos[dup]]
            extra = pd.DataFrame({"row": intake.data["row"].to_numpy()[dup],
                                  "reason": [f"second population row for {geo.label} {c}" for c in codes],
                                  "count": pd.to_numeric(intake.data["count"]).to_numpy(dtype="float64")[dup]})
            rejected = pd.concat([rejected, extra], ignore_index=True).sort_values("row", kind="stable")
            keep = ~dup
            intake = Intake(intake.kind, intake.key, intake.source, intake.rows_read,
                            intake.data[keep].reset_index(drop=True), rejected.reset_index(drop=True))
            placement = assign(intake, areas, schools=schools, bridge=bridge)
    kind = KindCube.build(intake, areas, placement)
    values = kind.sums()
    has = np.bincount(kind.groups["pos"].to_numpy(), minlength=len(areas)) > 0
    report = kind.report()
    missing = int((~has).sum())
    if missing:
        report.notes.append(f"{geo.count_of(missing)} have no population: their rates will be missing")
    return Population(np.where(has, values, np.nan).astype("float64"), report)


def build_cube(areas, reports=None, referrals=None, population=None, *, schools=None, lsoa=None, by=None,
               allow_unmatched: bool = False, covered_periods=(), chunksize: int | None = None,
               engine: str = "local") -> tuple[AreaCube, JoinReport]:
    """Read and place every input once; return the :class:`AreaCube` and its unfiltered report.

    Parameters are those of :func:`join` (without the filters), plus
    ``covered_periods``: months the sources covered although the inputs have
    no row for them (see :meth:`AreaCube.series`). By default rows that are
    not placed make it fail, as :func:`join` does.
    """
    table = as_areas(areas)
    sch = as_intake(schools, "schools") if schools is not None else None
    bridge = make_bridge(lsoa, table) if lsoa is not None else None
    by = by if isinstance(by, dict) else {"reports": by}
    kinds, sources = {}, [s for s in (areas_source(table),) if s]
    for kind, obj in zip(_COUNT_KINDS, (reports, referrals)):
        if obj is not None:
            kinds[kind] = _count_kind(obj, kind, table, sch, bridge, by.get(kind), chunksize, engine)
            sources.append(kinds[kind].source)
    pop = None
    if population is not None:
        intake = as_intake(population, "population", geography=table.geography)
        pop = _population(intake, table, sch, bridge)
        sources.append(intake.source)
    cube = AreaCube(table, kinds, pop, tuple(str(c) for c in covered_periods), [], tuple(sources))
    return cube, cube.report().check(allow_unmatched)


def join(areas, reports=None, referrals=None, population=None, *, schools=None, category=None, period=None,
         lsoa=None, by=None, allow_unmatched: bool = False, chunksize: int | None = None,
         engine: str = "local") -> tuple[AreaTable, JoinReport]:
    """Join report, referral and population inputs onto areas of any geography.

    Parameters
    ----------
    areas : AreaTable, GeoDataFrame or path
        The areas (wards by default; LSOAs, MSOAs, output areas,
        neighbourhoods or a custom layer).
    reports, referrals, population : path, DataFrame or Intake, optional
        Inputs in any shape :mod:`gangmap.io` reads: counts by the areas' code
        or name, records with coordinates, police.uk files, counts by LSOA,
        referrals by school URN.
    schools : path, DataFrame or Intake, optional
        GIAS schools file, needed when referrals are given per school (URN).
    category, period : str or list of str, optional
        Keep only these categories / periods (``YYYY-MM``) of the reports and
        referrals. Rows left out are counted as ``filtered``.
    lsoa : path or (Geo)DataFrame, optional
        For rows coded by LSOA: LSOA boundaries (each LSOA goes to the area
        holding its representative point), an ONS lookup table, or a lookup
        from :func:`gangmap.joining.bridge_lsoas`.
    by : {"code", "name", "point", "lsoa", "urn"} or dict, optional
        How the reports are placed, when the rows could go more than one way:
        ``by="lsoa"`` places police.uk rows by their LSOA code through
        ``lsoa=`` instead of by their coordinates, and the report then says
        how far the two paths agree. A dict gives it per input.
    allow_unmatched : bool
        Go on when rows could not be placed (unmatched, ambiguous, rejected);
        the report's ``not_placed`` line says how many. Without it such a
        join raises :class:`~gangmap.joining.NotPlacedError` listing them.
    chunksize : int, optional
        Rows per chunk for police.uk street files given by path (a CSV, a
        folder, a zip, a glob or a list of them), which are always read in
        chunks (500,000 rows by default; see
        :mod:`gangmap.joining.streaming`): memory stays bounded whatever the
        number of rows, and the result is that of ``read_police`` in memory.
    engine : {"local", "dask"}
        ``"dask"`` runs the streaming join of police.uk files as dask tasks,
        one per file (on a ``dask.distributed`` cluster when a ``Client`` is
        active); see :mod:`gangmap.joining.streaming`.

    Returns
    -------
    table : AreaTable
        One row per area in the order of ``areas``: the identifier columns,
        the geometry, ``reports`` and ``referrals`` (int counts, declared
        counts; 0 where no row was placed on the area) and ``population``
        (float, NaN where missing; declared context). The schema carries the
        sources, the periods, the months with no data and the categories kept.
    report : JoinReport
        Matched, unmatched, outside, rejected and filtered rows for each input;
        every row read is in exactly one of them.
    """
    cube, _ = build_cube(areas, reports, referrals, population, schools=schools, lsoa=lsoa, by=by,
                         allow_unmatched=True, chunksize=chunksize, engine=engine)
    report = cube.report(category, period).check(allow_unmatched)
    return cube.table(category, period), report
