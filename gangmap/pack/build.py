"""Build a meeting pack: the recipe, one step per line.

:func:`build_pack` reads like what it does::

    config -> read inputs once -> join once into a cube -> cut and measure each view
           -> make every view safe together (one linked disclosure system)
           -> plan (targets, hubs, evaluation) -> draw maps, images, tables, index
           -> read the whole pack back as an attacker would -> swap it into --out

Everything is written into a temporary folder beside ``--out`` and swapped in
only when the whole pack is done and has passed the read-back audit
(:class:`gangmap.outputs.OutputFolder`), so a failed or killed run leaves the
previous pack, never a mix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DisclosureError
from ..outputs import OutputFolder
from .config import RESERVED_FILES, PackConfig, load_config
from .views import ALL, filtered_counts, links_of, measured_views, read_inputs, time_views, view_of, views_of

__all__ = ["build_pack", "build_demo", "PackResult"]

#: Layers the planner needs on the unfiltered view.
_PLANNING_LAYERS = ("need_index",)


@dataclass
class PackResult:
    """What :func:`build_pack` wrote: the files (index first), the JoinReport and the audit."""

    files: list[Path]
    report: Any
    audit: Any = None
    notes: list[str] = field(default_factory=list)

    @property
    def index(self) -> Path:
        return self.files[0]

    def __iter__(self):  # a PackResult unpacks and iterates like the list of files of the first release
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i):
        return self.files[i]


def _safe_options(cfg: PackConfig, allow_unsafe: bool) -> dict:
    opts: dict[str, Any] = {"policy": cfg.policy, "allow_unsafe": allow_unsafe, "marking": cfg.marking}
    if cfg.k is not None:
        opts["k"] = cfg.k
    if cfg.policy != "none":
        opts["min_range"] = cfg.min_range
    return opts


def _protect(cfg: PackConfig, tables: dict, cube: Any, opts: dict) -> tuple[dict, list[str]]:
    """Every view made safe together; notes say what protecting the pack as a whole cost."""
    from ..disclosure import protect_linked

    views = views_of(cfg, cube.periods())
    links = links_of(views, cube.categories(), cube.periods(), filtered_counts(cube))
    period: dict[str, dict[str, Any]] = {name: {"period": _period_label(cube, views[name])} for name in tables}
    if cfg.policy == "none":
        from ..disclosure import make_safe

        return {k: make_safe(t, **opts, **period[k]) for k, t in tables.items()}, []
    linked = protect_linked(tables, links, options=period, **opts)
    notes = []
    extra = sum(len(p) for p in linked.added.values())
    if extra:
        notes.append(f"To keep the maps of this pack safe together, {extra} more figure(s) are hidden than each map "
                     "would hide on its own (the same areas across filtered maps).")
    return dict(linked.safe), notes


def _add_time_layers(cfg: PackConfig, tables: dict, safe: dict, periods: list[str], opts: dict) -> dict:
    """Trends and emerging hotspots of each map, worked out from its published periods."""
    from .time import add_time_layers, time_layers

    out = dict(safe)
    for spec in cfg.maps:
        wanted = [] if spec.timed else time_layers(spec.layers)
        if not wanted:
            continue
        view = view_of(cfg, spec)
        by_period = {label: safe[v.name] for label, v in time_views(spec, periods).items()}
        if len(by_period) < 2:
            raise ConfigError(f"{cfg.path}: map {spec.file!r}: layers {wanted} need at least two whole periods "
                              f"(freq = {spec.freq!r}); the data hold {len(by_period)}.")
        out[view] = add_time_layers(tables[view], out[view], wanted, by_period, opts)
    return out


def _one_not_placed_figure(tables: dict) -> dict:
    """Only the whole view's footers give a figure for the rows not placed; filtered views say so in words.

    The not-placed totals of several views (all data, each category, each
    period) are sums of one another: published side by side they could be
    taken from one another like cells, and the linked check does not see
    them. One figure (under the rule) per pack cannot be.
    """
    out = {}
    for name, table in tables.items():
        notes = table.schema.notes
        if name != ALL and any("not_placed" in n for n in notes.values()):
            table = table.with_schema(notes={k: ({**n, "not_placed": "some rows not placed"} if "not_placed" in n
                                                 else n) for k, n in notes.items()})
        out[name] = table
    return out


def _period_label(cube: Any, view: Any) -> str:
    periods = sorted(view.period) if view.period else sorted(cube.periods())
    if not periods:
        return "period not given"
    return periods[0] if len(periods) == 1 else f"{periods[0]} to {periods[-1]}"


def build_pack(config: str | Path | dict | PackConfig, out_dir: str | Path, *, allow_unsafe: bool = False,
               allow_unmatched: bool = False, on_report: Callable[[str, Any], None] | None = None) -> PackResult:
    """Build every map, image and table named in ``config`` into ``out_dir``.

    Parameters
    ----------
    config : path, dict or PackConfig
        See :mod:`gangmap.pack.config`.
    out_dir : path
        A new or empty folder, or a previous pack (replaced as a whole).
    allow_unsafe : bool
        Needed for ``policy = "none"`` (a config file alone cannot turn
        suppression off).
    allow_unmatched : bool
        Go on when input rows could not be placed on an area; every file then
        says so, with their total only as the disclosure rule allows (the
        exact figures go to ``on_report``, never into the pack).
    on_report : callable, optional
        ``on_report(name, JoinReport)``: JoinReports hold exact totals and row
        values, so they go to the caller (the CLI prints them), never into the pack.
    """
    from .. import joining

    cfg = load_config(config)
    with OutputFolder(out_dir, inputs=cfg.input_paths) as out:
        inputs = read_inputs(cfg)
        cube, report = joining.build_cube(inputs.areas, reports=inputs.reports, referrals=inputs.referrals,
                                          population=inputs.population, schools=inputs.schools, lsoa=inputs.lsoa,
                                          allow_unmatched=allow_unmatched)
        if on_report:
            on_report("all categories and periods", report)
        tables = _one_not_placed_figure(measured_views(cfg, cube, _PLANNING_LAYERS if cfg.planning else ()))
        opts = _safe_options(cfg, allow_unsafe)
        safe, notes = _protect(cfg, tables, cube, opts)
        safe = _add_time_layers(cfg, tables, safe, cube.periods(), opts)
        plan = _plan(cfg, tables[ALL], cube, inputs, opts, safe[ALL])
        files = _write(out, cfg, tables, safe, plan, inputs, notes, cube.periods())
        audit = _audit(out, cfg, tables, cube, plan)
    index = out.target / files[0].name  # the pack folder is gangmap's whole: list it, sidecars included
    rest = sorted(p for p in out.target.iterdir() if p != index and not p.name.startswith("."))
    return PackResult([index, *rest], report, audit, notes)


def _plan(cfg, table, cube, inputs, opts, summary):
    if cfg.planning is None:
        return None
    from .plan import plan_pack

    return plan_pack(cfg, table, cube, inputs, opts, summary)


def _write(out: OutputFolder, cfg: PackConfig, tables: dict, safe: dict, plan: Any, inputs: Any, notes: list,
           periods: list[str]) -> list[Path]:
    """Maps, slide images, funnels, tables and the index, into the pack's temporary folder."""
    from .. import maps
    from ..export import write_table
    from .draw import draw_map, title_of
    from .page import index_html

    enc = maps.encode(safe[ALL])
    not_placed = safe[ALL].provenance.not_placed  # under the rule, never the JoinReport's exact figures
    if not_placed:
        notes = [*notes, f"Not placed on any {safe[ALL].geography.label}: {not_placed}. The analyst's join report "
                         "has the details."]
    cards, files = [], []
    for spec in cfg.maps:
        if spec.timed:
            card, written = _time_map(out, cfg, spec, safe, tables, plan, periods)
        else:
            view = view_of(cfg, spec)
            card, written = draw_map(out, cfg, spec, safe[view], tables[view], enc if view == ALL else None, plan,
                                     inputs)
        cards.append(card)
        files += written
    files += [write_table(safe[ALL], out.path("summary.csv")), write_table(safe[ALL], out.path("summary.xlsx"))]
    files += _plan_files(out, plan)
    page = index_html(title=cfg.title, subtitle=cfg.subtitle, cards=cards, safe=safe[ALL],
                      title_of=lambda c: title_of(c, tables[ALL]), notes=notes, plan=plan,
                      attribution=cfg.attribution or maps.attribution_for(safe[ALL]),
                      files=[f.name for f in files if f.suffix in (".csv", ".xlsx")],
                      used=[*(layer for spec in cfg.maps for layer in spec.layers),
                            *("time" for spec in cfg.maps if spec.timed), *(f.name for f in files)])
    index = out.write_text("index.html", page)
    _no_clashes(cfg, out)
    return [index, *files]


def _no_clashes(cfg: PackConfig, out: OutputFolder) -> None:
    """Refuse a pack in which two outputs had the same file name (one overwrote the other)."""
    seen: set[str] = set()
    for f in out.files:
        name = f.name.lower()
        if name in seen:
            raise ConfigError(f"{cfg.path}: two files of the pack are named {f.name!r}, so one overwrote the other. "
                              f"Give each [[maps]] entry a file name of its own, other than "
                              f"{', '.join(RESERVED_FILES)}.")
        seen.add(name)


def _time_map(out: OutputFolder, cfg: PackConfig, spec, safe: dict, tables: dict, plan: Any, periods: list[str]):
    """A time map and the county trend chart of its periods (the first time map draws the chart)."""
    from .draw import draw_time_map, trend_png

    views = time_views(spec, periods)
    safes = {label: safe[v.name] for label, v in views.items()}
    card, files = draw_time_map(out, cfg, spec, safes, tables[ALL])
    if not (out.staging / "trend.png").exists():
        launch = getattr(getattr(plan, "targets", None), "launch", None)
        files.append(trend_png(out, safes, spec.layers[0], tables[ALL], launch=launch))
    return card, files


def _plan_files(out: OutputFolder, plan: Any) -> list[Path]:
    if plan is None:
        return []
    from ..export import to_png, write_table

    files = [write_table(t, out.path(f"{name}.csv")) for name, t in plan.tables.items() if not name.startswith("_")]
    if plan.chart is not None:
        files.append(to_png(plan.chart, plan.chart_safe, out.path("campaign_effect.png")))
    return files


def _audit(out: OutputFolder, cfg: PackConfig, tables: dict, cube: Any, plan: Any = None) -> Any:
    """Read the finished pack back as an attacker with the raw inputs would; refuse to publish a leak.

    The auditor gets what the pack already holds (the raw view tables, which
    file shows which view, how the views relate), so nothing is read or
    joined again. The campaign's areas are public (the maps show them), so
    the evaluation's group totals are checked as sums of those areas.
    """
    import pandas as pd

    from ..disclosure import audit_pack
    from ..disclosure.packaudit import pack_families

    if cfg.policy == "none":
        return None
    views = views_of(cfg, cube.periods())
    raw = {k: pd.DataFrame(t.frame.drop(columns="geometry", errors="ignore")) for k, t in tables.items()}
    links = [(lk.whole, list(lk.parts), lk.complete, lk.columns)
             for lk in links_of(views, cube.categories(), cube.periods(), filtered_counts(cube))]
    families = {**pack_families(cfg, views, cube.periods()), "summary": ALL, "index": ALL}
    groups = {"targeted": sorted(map(str, plan.targets.codes))} if plan is not None and plan.effect else None
    result = audit_pack(out.staging, raw=raw, families=families, links=links, min_range=cfg.min_range,
                        groups=groups)
    if not result.ok:
        raise DisclosureError(f"{cfg.path}: the pack was not written: read together, its files narrow some hidden "
                              f"counts too far.\n{result}")
    return result


def build_demo(out_dir: str | Path, *, policy: str = "nhs") -> PackResult:
    """Build the demo pack of the fictional county (what ``make demo`` runs)."""
    from dataclasses import replace

    from ..demo import paths

    cfg = load_config(paths()["pack"])
    if policy != cfg.policy:
        cfg = replace(cfg, policy=policy)
    return build_pack(cfg, out_dir)
