"""Map packs: every map, image and table for a meeting, from one TOML file.

``gangmap pack CONFIG --out DIR`` (or :func:`build_pack`) reads a config that
names the inputs, the maps with their layers and titles, and the disclosure
policy, and writes:

* one self-contained, offline ``.html`` map per ``[[maps]]`` entry,
* a static ``.png`` of each map's first layer (same classes and colours) for slides,
* a funnel plot per count when a population is given,
* ``summary.csv`` / ``summary.xlsx`` (safe values),
* ``index.html``: thumbnails, a short summary table, methods and caveats.

Everything goes through one :func:`gangmap.make_safe` per map.

Config (paths are relative to the config file)::

    title = "Wyvernshire: where next?"
    policy = "nhs"                 # nhs | threshold | none (none needs `gangmap pack --allow-unsafe`)
    marking = "OFFICIAL-SENSITIVE"

    [inputs]
    wards = "wards.geojson"
    reports = "reports.csv"
    population = "population.csv"  # optional: rates, smoothing, funnel plots
    referrals = "referrals.csv"    # optional
    schools = "schools.csv"        # optional: school points, referrals by URN

    [[maps]]
    file = "weapons"
    title = "Weapons concerns per 1,000 children aged 10-17"
    category = ["Weapons concern"] # optional filters
    layers = ["reports_rate", "reports_eb", "reports_rate_lisa", "reports"]
    overlays = ["districts", "schools"]

    [planning]                     # optional: campaign targeting, hub rollout, campaign effect
    campaign = "campaign.toml"     # current targets (districts, ward names or codes; launch month)
    measure = "need_index"
    recommend = 6                  # next k wards (or population_budget = 5000)
    contiguous = true
    pilot_hub = "pilot_hub.csv"    # URN (and hub) of the existing hub's schools
    new_hubs = 1
    hub_radius_m = 6000
    hub_capacity = 47

Overlays: ``districts``, ``schools``, and with ``[planning]``: ``campaign``
(current target areas), ``recommended`` (next wards) and ``hubs`` (hubs,
catchments, uncovered high-need schools).

Layer names: a count (``reports``, ``referrals``), a count with a suffix
(``_rate``, ``_eb`` global empirical Bayes, ``_seb`` spatial EB, ``_excess``),
any of those with ``_lisa`` (local Moran clusters) or ``_gi`` (Getis-Ord Gi*),
and ``need_index``.
"""

from __future__ import annotations

import base64
import html
import io
import tomllib
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from .. import demo, maps, measures, planning
from ..disclosure import make_safe
from ..errors import ConfigError
from ..export import funnel_png, map_png, to_png, write_table
from ..io.intake import as_intake
from ..joining.core import join, period_label

NAMES = {
    "ward_name": "Ward",
    "lad_name": "District",
    "reports": "Reports (count)",
    "referrals": "Referrals (count)",
    "reports_rate": "Reports per 1,000 children aged 10–17",
    "referrals_rate": "Early Help referrals per 1,000 children",
    "reports_eb": "Reports per 1,000, smoothed (empirical Bayes)",
    "reports_seb": "Reports per 1,000, smoothed (spatial EB)",
    "referrals_eb": "Referrals per 1,000, smoothed (empirical Bayes)",
    "reports_excess": "Reports: observed / expected",
    "reports_rate_lisa": "Hotspots: local Moran clusters of the report rate",
    "reports_rate_gi": "Hotspots: Getis-Ord Gi* of the report rate",
    "referrals_rate_lisa": "Hotspots: local Moran clusters of the referral rate",
    "need_index": "Need index (0–100)",
}
_SUFFIXES = ("_lisa", "_gi", "_rate", "_seb", "_eb", "_excess")
OVERLAYS = ("districts", "schools", "campaign", "recommended", "hubs")
METHODS = [
    ("Rates", "Reports or referrals per 1,000 children aged 10–17, with 95% and 99.8% confidence "
              "intervals: exact Poisson below 10 events, Byar's method from 10 (OHID Fingertips)."),
    ("Smoothing", "Empirical Bayes (Marshall) pulls rates of small wards towards the county rate; the "
                  "between-ward variance is clamped at 0 as in GeoDa. Spatial EB pulls towards the "
                  "neighbours' rate."),
    ("Hotspots", "Local Moran's I (HH/LL/HL/LH) and Getis-Ord Gi* (binary weights, star) on queen "
                 "contiguity, 999 permutations with a fixed seed, two-sided p < 0.05. Wards with no "
                 "neighbour are labelled 'island' and never significant."),
    ("Need index", "Each component is scaled 0–1 (min-max), weighted and summed to 0–100; the weights "
                   "are in the config and documented in gangmap.measures.DEFAULT_INDEX_WEIGHTS."),
]
CAVEATS = [
    "Reporting campaigns raise reports at first: a rise after a launch can mean people are reporting, "
    "not that harm has grown.",
    "Counts are what reached the police and schools, not all that happened.",
    "Small wards swing: read rates with their intervals, the smoothed rates and the funnel plot.",
    "Hotspot labels describe patterns in these figures; they are not proof of a cause.",
]


@dataclass
class PackConfig:
    """A validated pack config."""

    path: Path
    data: dict

    def input(self, key: str, required: bool = False):
        value = self.data.get("inputs", {}).get(key)
        if value is None:
            if required:
                raise ConfigError(f"{self.path}: [inputs] needs '{key} = \"FILE\"'.")
            return None
        p = Path(value)
        p = p if p.is_absolute() else (self.path.parent / p)
        if not p.exists():
            raise ConfigError(f"{self.path}: [inputs] {key} = {value!r}: no such file ({p}). Fix the path "
                              "(relative to the config file).")
        return p


def load_config(path_or_dict, *, base=None) -> PackConfig:
    """Read and check a pack config; errors name the file, the key and the fix.

    Parameters
    ----------
    path_or_dict : path or dict
        A TOML file, or the same settings as a dict (e.g. from a notebook).
    base : path, optional
        Folder that relative paths in a dict are resolved against (default:
        the current folder).
    """
    if isinstance(path_or_dict, dict):
        path = Path(base or ".").resolve() / "<pack settings>"
        data = path_or_dict
    else:
        path = Path(path_or_dict)
        if not path.exists():
            raise ConfigError(f"{path}: config file not found.")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc}).") from None
    cfg = PackConfig(path, data)
    cfg.input("wards", required=True)
    cfg.input("reports", required=True)
    entries = data.get("maps")
    if not entries or not isinstance(entries, list):
        raise ConfigError(f"{path}: no [[maps]] entries; add at least one with file, title and layers.")
    if "allow_unsafe" in data:
        raise ConfigError(f"{path}: allow_unsafe cannot be set in a config file; use `gangmap pack "
                          "--allow-unsafe` (or build_pack(..., allow_unsafe=True)) for internal-only packs.")
    for i, m in enumerate(entries, 1):
        if not isinstance(m, dict):
            raise ConfigError(f"{path}: [[maps]] entry {i} must be a table (file = ..., layers = [...]).")
        for key in ("file", "layers"):
            if key not in m:
                raise ConfigError(f"{path}: [[maps]] entry {i} has no '{key}'.")
        _check_type(path, i, m, "file", str, 'file = "overview"')
        _check_type(path, i, m, "title", str, 'title = "..."')
        _check_type(path, i, m, "layers", list, 'layers = ["reports_rate", "reports"]')
        if not m["layers"] or not all(isinstance(x, str) for x in m["layers"]):
            raise ConfigError(f"{path}: [[maps]] entry {i}: layers must be a non-empty list of names, "
                              'e.g. layers = ["reports_rate", "reports"].')
        _check_type(path, i, m, "overlays", list, 'overlays = ["districts"]')
        _check_type(path, i, m, "classes", int, "classes = 5")
        _check_type(path, i, m, "scheme", str, 'scheme = "quantiles"')
        _check_type(path, i, m, "names", dict, '[maps.names] reports = "Reports"')
        _check_type(path, i, m, "bins", list, "bins = [5, 10, 20]")
        for key in ("category", "period"):
            if isinstance(m.get(key), str):
                m[key] = [m[key]]
            _check_type(path, i, m, key, list, f'{key} = ["..."]')
        bad = [o for o in m.get("overlays", []) if o not in OVERLAYS]
        if bad:
            raise ConfigError(f"{path}: [[maps]] entry {i}: unknown overlays {bad}; use {list(OVERLAYS)}.")
    return cfg


def _check_type(path, i, m: dict, key: str, kind: type, example: str) -> None:
    if key in m and not (isinstance(m[key], kind) and not (kind is int and isinstance(m[key], bool))):
        raise ConfigError(f"{path}: [[maps]] entry {i}: {key} should be a {kind.__name__}, like {example}; "
                          f"got {m[key]!r}.")


def ensure(table, name: str, *, seed: int = measures.DEFAULT_SEED):
    """Return ``table`` with column ``name`` computed if it is a known measure (see module docs)."""
    if name in table:
        return table
    if name == "need_index":
        comps = {c: w for c, w in measures.DEFAULT_INDEX_WEIGHTS.items()}
        for c in comps:
            table = ensure(table, c, seed=seed)
        return measures.need_index(table, comps)
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            table = ensure(table, base, seed=seed)
            if suffix in ("_lisa", "_gi"):
                fn = measures.local_moran if suffix == "_lisa" else measures.getis_ord
                return fn(table, base, seed=seed)
            if "population" not in table:
                raise ConfigError(f"layer {name!r} needs a population: add population = \"FILE\" to [inputs].")
            fn = {"_rate": measures.rate, "_eb": measures.eb_global, "_seb": measures.eb_spatial,
                  "_excess": measures.excess_risk}[suffix]
            return fn(table, base, "population")
    raise ConfigError(f"unknown layer {name!r}: use a count column ({', '.join(c for c in ('reports', 'referrals') if c in table)}), "
                      f"a count with {', '.join(_SUFFIXES)}, or need_index.")


def ensure_all(table, names, *, seed: int = measures.DEFAULT_SEED, missing: str = "raise"):
    """:func:`ensure` each of ``names`` in turn.

    With ``missing="skip"``, names that need an input the table lacks (a
    population, referrals) are skipped and listed in ``attrs["gangmap_skipped"]``.

    Examples
    --------
    >>> table = ensure_all(table, ["reports_rate", "need_index"], missing="skip")  # doctest: +SKIP
    """
    if missing not in ("raise", "skip"):
        raise ConfigError(f"missing must be 'raise' or 'skip', not {missing!r}.")
    skipped = []
    for name in names:
        try:
            table = ensure(table, name, seed=seed)
        except ConfigError:
            if missing == "raise":
                raise
            skipped.append(name)
    table.attrs["gangmap_skipped"] = skipped
    return table


def available(obj, names) -> list[str]:
    """The ``names`` that are columns of a table, or value columns of a SafeTable, in order."""
    from ..disclosure import is_safe

    cols = set(obj.frame.columns) if is_safe(obj) else set(obj.columns)
    return [n for n in names if n in cols]


def counts(table) -> list[str]:
    """The count columns (``reports``, ``referrals``) present in a joined table."""
    return [c for c in ("reports", "referrals") if c in table]



def safe_table(table, *, policy: str = "nhs", marking: str = "OFFICIAL-SENSITIVE", allow_unsafe: bool = False,
               **policy_options):
    """Make a joined (and measured) ward table safe the way packs do.

    Counts are the ``reports``/``referrals`` present, ``population`` is kept
    when there is one, and the period comes from the join.
    """
    return make_safe(table, counts=counts(table), policy=policy, allow_unsafe=allow_unsafe, marking=marking,
                     period=period_label(table.attrs.get("periods")),
                     keep=["population"] if "population" in table else None, **policy_options)


@dataclass
class Funnels:
    """Funnel plots of the counts of a SafeTable, shown inline in notebooks."""

    figures: list
    note: str = ""

    def _ipython_display_(self):  # pragma: no cover - notebook display
        from IPython.display import display

        if self.note:
            print(self.note)
        for fig in self.figures:
            display(fig)


def funnels(safe, counts=None, population: str = "population", **options) -> Funnels:
    """One funnel plot per count of ``safe`` (see :func:`gangmap.measures.funnel_plot`).

    Without a population column it returns a note instead of raising.
    """
    if population not in safe.frame.columns:
        return Funnels([], f"No funnel plot: the table has no {population!r} column (give a population file).")
    todo = counts if counts is not None else list(safe.counts)
    return Funnels([measures.funnel_plot(safe, c, population, title=f"{NAMES.get(c, c)}: funnel plot", **options)
                    for c in todo])


def _thumb(png: Path, width: int = 330) -> str:
    """A small copy of a PNG as a data: URI, for the index page."""
    from PIL import Image

    img = Image.open(png)
    img.thumbnail((width * 2, width * 2))
    buf = io.BytesIO()
    img.convert("P", palette=Image.Palette.ADAPTIVE, colors=64).save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def build_pack(config, out_dir, *, allow_unsafe: bool = False, on_report=None) -> list[Path]:
    """Build every map, image and table named in ``config`` into ``out_dir``; return the files.

    Parameters
    ----------
    config : path, dict or PackConfig
    out_dir : path
        Everything written here is safe to share.
    allow_unsafe : bool
        Needed for ``policy = "none"`` (a config file alone cannot turn
        suppression off).
    on_report : callable, optional
        Called as ``on_report(name, JoinReport)`` for each join. JoinReports
        hold exact totals and row-level values, so they are handed to the
        caller (the CLI prints them) and never written into ``out_dir``.

    Examples
    --------
    >>> files = build_pack("data/demo/pack.toml", "out/pack")  # doctest: +SKIP
    """
    cfg = config if isinstance(config, PackConfig) else load_config(config)
    d = cfg.data
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    policy = d.get("policy", "nhs")
    opts = {"k": d["k"]} if policy == "threshold" and "k" in d else {}
    inputs = {k: cfg.input(k) for k in ("wards", "reports", "referrals", "schools", "population")}
    schools = as_intake(inputs["schools"], "schools") if inputs["schools"] else None
    safe_opts = dict(policy=policy, allow_unsafe=allow_unsafe, marking=d.get("marking", "OFFICIAL-SENSITIVE"),
                     **opts)

    # One ward table, all categories and periods: its suppression pattern is reused by every output
    # drawn from the same counts, so no two files hide different cells of it.
    base, report = join(inputs["wards"], reports=inputs["reports"], referrals=inputs["referrals"],
                        schools=schools, population=inputs["population"])
    if on_report:
        on_report("all categories and periods", report)
    base_layers = [layer for m in d["maps"] if not m.get("category") and not m.get("period") for layer in m["layers"]]
    for layer in base_layers + (["need_index"] if "planning" in d else []):
        base = ensure(base, layer)
    summary = safe_table(base, **safe_opts)
    files: list[Path] = []
    cards = []
    plan = _plan(cfg, inputs, out, base, summary, safe_opts) if "planning" in d else None
    files += plan.files if plan else []
    base_enc = None
    for m in d["maps"]:
        filtered = bool(m.get("category") or m.get("period"))
        if filtered:
            table, report = join(inputs["wards"], reports=inputs["reports"], referrals=inputs["referrals"],
                                 schools=schools, population=inputs["population"],
                                 category=m.get("category"), period=m.get("period"))
            if on_report:
                on_report(m["file"], report)
            for layer in m["layers"]:
                table = ensure(table, layer)
            safe = safe_table(table, **safe_opts)
        else:
            table, safe = base, summary
        names = {**NAMES, **m.get("names", {})}
        if safe is summary:  # the unfiltered maps share one encoding of the wards
            base_enc = base_enc or maps.encode(summary)
            enc = base_enc
        else:
            enc = maps.encode(safe)
        q = enc.q
        layers = [maps.area_layer(safe, c, name=names.get(c, c), scheme=m.get("scheme", "quantiles"),
                                  k=m.get("classes", 5), bins=m.get("bins"), also=counts(table), names=names,
                                  visible=(i == 0))
                  for i, c in enumerate(m["layers"])]
        overlays = m.get("overlays", ["districts"])
        if "districts" in overlays:
            layers.append(maps.district_outlines(safe, enc))
        if plan is not None:
            layers += plan.layers(overlays, q)
        elif any(o in overlays for o in ("campaign", "recommended", "hubs")):
            raise ConfigError(f"{cfg.path}: overlays campaign/recommended/hubs need a [planning] section.")
        if "schools" in overlays and schools is not None:
            layers.append(maps.points_layer(schools.to_points(), name="Schools", label="school_name", radius=3.5))
        title = m.get("title", names.get(m["layers"][0], m["layers"][0]))
        what = " · ".join(filter(None, [", ".join(m.get("category", [])) or None, safe.provenance.period]))
        doc = maps.make_map(safe, layers, title=title, subtitle=m.get("subtitle", what), topology=enc,
                            attribution=d.get("attribution"))
        html_path = doc.save(out / f"{m['file']}.html")
        png = map_png(safe, m["layers"][0], out / f"{m['file']}.png", title=title,
                      legend_title=names.get(m["layers"][0], m["layers"][0]),
                      scheme=m.get("scheme", "quantiles"), k=m.get("classes", 5), bins=m.get("bins"))
        files += [html_path, png]
        if "population" in table:
            for c in [c for c in counts(table) if any(layer.startswith(c) for layer in m["layers"])]:
                files.append(funnel_png(safe, c, "population", out / f"{m['file']}_funnel_{c}.png",
                                        title=f"{names.get(c, c)}: funnel plot"))
        cards.append((m, title, what, html_path, png, doc.size))
    files += [write_table(summary, out / "summary.csv"), write_table(summary, out / "summary.xlsx")]
    index = out / "index.html"
    index.write_text(_index_html(d, cards, summary, plan), encoding="utf-8")
    return [index] + files


def _index_html(d: dict, cards, safe, plan=None) -> str:
    e = html.escape
    prov = safe.provenance
    rows = safe.display.drop(columns=["geometry"], errors="ignore")
    first = next((c for c in safe.columns if c.endswith("_rate")), safe.columns[0])
    order = safe.frame[first].astype(float).fillna(-1).sort_values(ascending=False).index[:10]
    cols = ["ward_name", "lad_name"] + [c for c in safe.columns if c in safe.counts or c == first]
    table = "".join("<tr>" + "".join(f"<td>{e(str(rows.loc[i, c]))}</td>" for c in cols) + "</tr>" for i in order)
    head = "".join(f"<th>{e(NAMES.get(c, c.replace('_', ' ')))}</th>" for c in cols)
    card_html = "".join(
        f'<figure><a href="{e(p.name)}"><img alt="{e(t)}" src="{_thumb(png)}"></a>'
        f'<figcaption><a href="{e(p.name)}">{e(t)}</a><br><small>{e(w)} · {size / 1024:,.0f} KB · opens offline'
        "</small></figcaption></figure>"
        for m, t, w, p, png, size in cards)
    methods = "".join(f"<dt>{e(a)}</dt><dd>{e(b)}</dd>" for a, b in METHODS)
    caveats = "".join(f"<li>{e(c)}</li>" for c in CAVEATS)
    unsafe = " unsafe" if "UNSUPPRESSED" in prov.marking.upper() else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>{e(d.get('title', 'Map pack'))}</title>
<style>
body {{ font: 14px/1.4 system-ui, Arial, sans-serif; margin: 0; color: #222; }}
.marking {{ background: #222; color: #fff; text-align: center; font-weight: 700; letter-spacing: .08em; padding: 2px; }}
.unsafe {{ background: #b00020; }}
main {{ max-width: 1100px; margin: 0 auto; padding: 8px 16px; }}
.cards {{ display: flex; flex-wrap: wrap; gap: 16px; }}
figure {{ margin: 0; width: 330px; }} figure img {{ width: 330px; border: 1px solid #ccc; }}
table {{ border-collapse: collapse; font-size: 13px; }} td, th {{ border: 1px solid #ddd; padding: 3px 6px; text-align: left; }}
footer {{ font-size: 11px; color: #555; margin-top: 16px; }}
@media print {{ @page {{ size: A4 landscape; margin: 10mm; }} .marking {{ print-color-adjust: exact; -webkit-print-color-adjust: exact; }} }}
</style></head><body>
<div class="marking{unsafe}">{e(prov.marking)}</div>
<main>
<h1>{e(d.get('title', 'Map pack'))}</h1>
<p>{e(d.get('subtitle', ''))}</p>
<h2>Maps</h2><div class="cards">{card_html}</div>
<h2>Highest rates (safe values)</h2>
<table><thead><tr>{head}</tr></thead><tbody>{table}</tbody></table>
<p><small>Full table: summary.csv / summary.xlsx. {e(safe.policy.describe())}</small></p>
{plan.html() if plan else ""}
<h2>Methods</h2><dl>{methods}</dl>
<h2>Caveats</h2><ul>{caveats}</ul>
<footer>{e(prov.footer())}<br>{e(d.get('attribution') or maps.attribution_for(safe))}</footer>
</main>
<div class="marking{unsafe}">{e(prov.marking)}</div>
</body></html>
"""


@dataclass
class _Plan:
    """Planning results for a pack: their safe files, map layers and index section."""

    targets: planning.Targets
    wards: gpd.GeoDataFrame
    rec: planning.Recommendation
    hubs: planning.HubPlan | None
    did: planning.DiD
    sensitivity: planning.Sensitivity | None
    files: list
    safe_opts: dict

    def layers(self, overlays, q) -> list[dict]:
        out = maps.campaign_layers(self.wards, q, targets=self.targets if "campaign" in overlays else None,
                                   recommendation=self.rec if "recommended" in overlays else None)
        if "hubs" in overlays and self.hubs is not None:
            out += maps.hub_layers(self.hubs, q, safe_opts=self.safe_opts)
        return out

    def html(self) -> str:
        e = html.escape
        parts = [("Campaign targeting", self.rec.message)]
        if self.sensitivity is not None:
            parts.append(("Weight sensitivity", self.sensitivity.message))
        if self.hubs is not None:
            parts.append(("Hub rollout", self.hubs.message))
        # The sentence quotes exact changes: only when none of its four counts is hidden by this pack's policy.
        did_safe = self.did.result_safe(**self.safe_opts)
        if not did_safe.suppressed.to_numpy().any():
            parts.append(("Is the campaign working?", self.did.message))
        body = "".join(f"<dt>{e(a)}</dt><dd>{e(b)}</dd>" for a, b in parts)
        return (f"<h2>Where next</h2><dl>{body}</dl><p><small>{e(self.did.caveat)}</small></p>"
                "<p><small>Tables: recommendation.csv, hubs.csv, sensitivity.csv, campaign_effect.csv; "
                "chart: campaign_effect.png.</small></p>")


def _plan(cfg: PackConfig, inputs: dict, out: Path, table, summary, safe_opts: dict) -> _Plan:
    pc = cfg.data["planning"]
    campaign = _rel(cfg, pc.get("campaign"), "[planning] campaign")
    measure = pc.get("measure", "need_index")
    table = ensure(table, measure)
    targets = planning.read_targets(campaign, table)
    rec = planning.recommend(table, targets, measure, k=pc.get("recommend"),
                             population_budget=pc.get("population_budget"),
                             contiguous=bool(pc.get("contiguous", False)))
    sens = planning.weight_sensitivity(table, k=int(pc.get("recommend", 10)), targets=targets) \
        if measure == "need_index" else None
    did = planning.did(inputs["reports"], targets, wards=table)
    ward_opts = dict(safe_opts, pattern=summary)  # ward tables hide what the summary hides
    files = [write_table(rec.safe(**ward_opts), out / "recommendation.csv"),
             write_table(did.result_safe(**safe_opts), out / "campaign_effect.csv")]
    monthly = did.monthly_safe(**safe_opts)
    files.append(to_png(planning.did_chart(did, monthly), monthly, out / "campaign_effect.png"))
    if sens is not None:
        files.append(write_table(sens.safe(**ward_opts), out / "sensitivity.csv"))
    hubs = None
    if pc.get("pilot_hub") and inputs["schools"]:
        existing = planning.read_hubs(_rel(cfg, pc["pilot_hub"], "[planning] pilot_hub"))
        demand = inputs["referrals"] or planning.school_need(inputs["schools"], table, measure)
        hubs = planning.plan_hubs(inputs["schools"], demand, existing_urns=existing,
                                  p=int(pc.get("new_hubs", 1)), radius_m=float(pc.get("hub_radius_m", 6000)),
                                  capacity=pc.get("hub_capacity", 47), area=table)
        files.append(write_table(hubs.safe(**safe_opts), out / "hubs.csv"))
    return _Plan(targets, table, rec, hubs, did, sens, files, safe_opts)


def _rel(cfg: PackConfig, value, what: str) -> Path:
    if not value:
        raise ConfigError(f"{cfg.path}: {what} is missing.")
    p = Path(value)
    p = p if p.is_absolute() else cfg.path.parent / p
    if not p.exists():
        raise ConfigError(f"{cfg.path}: {what} = {value!r}: no such file ({p}).")
    return p


def build_demo(out_dir: str | Path, *, policy: str = "nhs") -> list[Path]:
    """Build the demo map pack for the fictional county; return the files written.

    Examples
    --------
    >>> files = build_demo("demo-output")  # doctest: +SKIP
    """
    cfg = load_config(demo.paths()["pack"])
    if policy != cfg.data.get("policy", "nhs"):
        cfg.data["policy"] = policy
    return build_pack(cfg, out_dir)
