"""Pack configs: one TOML file names the inputs, the policy and every map of a meeting pack.

The config is read into typed, frozen dataclasses (:class:`PackConfig`,
:class:`MapSpec`, :class:`PlanningSpec`) and checked as a whole before any
data is read, so a typo is one line naming the file, the key and the fix,
not a traceback half-way through a pack. Unknown keys are errors (a
misspelt ``overlay`` would otherwise be ignored silently), file names must
stay inside the output folder, and switches that weaken protection
(``allow_unsafe``, ``allow_unmatched``) cannot be set in a file: they are
command-line flags, so a config passed round by email cannot turn them on.

Format (paths are relative to the config file)::

    title = "Wyvernshire: where next?"
    policy = "nhs"                   # nhs | threshold | none (none needs --allow-unsafe)
    marking = "OFFICIAL-SENSITIVE"
    geography = "ward"               # ward | lsoa | msoa | oa | neighbourhood | area

    [inputs]
    areas = "wards.geojson"          # (or wards = ...) boundaries of the areas
    reports = "reports.csv"          # a file, or a list of files, folders, globs or police.uk zips
    population = "population.csv"    # optional: rates, smoothing, funnel plots
    referrals = "referrals.csv"      # optional
    schools = "schools.csv"          # optional: school points, referrals by URN

    [labels]                         # optional: words for columns on maps and legends
    population = "children aged 10–17"

    [[maps]]
    file = "over_time"               # a period slider: one view per quarter (freq = "M": months)
    kind = "time"
    layers = ["reports"]

    [[maps]]
    file = "weapons"                 # weapons.html and weapons.png
    title = "Weapons concerns per 1,000 children aged 10-17"
    category = ["Weapons concern"]   # optional filters
    layers = ["reports_rate", "reports_eb", "reports_rate_lisa", "reports"]
    overlays = ["districts", "schools"]

    [planning]                       # optional: targeting, hub rollout, campaign evaluation
    campaign = "campaign.toml"
    measure = "need_index"
    recommend = 6                    # next k areas (or population_budget = 5000)
    contiguous = true
    pilot_hub = "pilot_hub.csv"
    new_hubs = 1
    hub_radius_m = 6000
    hub_capacity = 47
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..outputs import safe_name

__all__ = ["PackConfig", "MapSpec", "PlanningSpec", "load_config", "OVERLAYS", "SCHEMES", "POLICY_NAMES",
           "RESERVED_FILES"]

OVERLAYS = ("districts", "schools", "campaign", "recommended", "hubs", "labels")
SCHEMES = ("quantiles", "natural_breaks", "equal_interval", "box_plot", "user_defined")
POLICY_NAMES = ("nhs", "threshold", "none")
_INPUTS = ("areas", "wards", "reports", "referrals", "schools", "population", "lsoa")
_TOP = ("title", "subtitle", "policy", "k", "marking", "attribution", "geography", "gss", "inputs", "labels",
        "maps", "planning", "min_range")
_MAP_KEYS = ("file", "title", "subtitle", "layers", "overlays", "category", "period", "scheme", "classes",
             "bins", "names", "kind", "freq")
_PLANNING_KEYS = ("campaign", "measure", "recommend", "population_budget", "contiguous", "pilot_hub", "new_hubs",
                  "hub_radius_m", "hub_capacity")
_WORDS = {int: "a whole number", float: "a number", str: "text in quotes", bool: "true or false", list: "a list",
          dict: "a table"}
_FLAGS = {"allow_unsafe": "--allow-unsafe", "allow_unmatched": "--allow-unmatched"}
#: Map file names the pack uses for its own files: a map of that name would overwrite them (``map.html``, ``map.png``).
RESERVED_FILES = {"index": "index.html", "trend": "trend.png", "campaign_effect": "campaign_effect.png"}
#: What the pack puts between a map's file name and a layer for its funnel plots (``overview_funnel_reports.png``).
FUNNEL_INFIX = "_funnel_"


@dataclass(frozen=True)
class MapSpec:
    """One ``[[maps]]`` entry: an offline HTML map and its slide PNG."""

    file: str
    layers: tuple[str, ...]
    title: str | None = None
    subtitle: str | None = None
    overlays: tuple[str, ...] = ("districts",)
    category: tuple[str, ...] | None = None
    period: tuple[str, ...] | None = None
    scheme: str = "quantiles"
    classes: int = 5
    bins: tuple[float, ...] | None = None
    names: Mapping[str, str] = field(default_factory=dict)
    kind: str = "map"
    freq: str = "Q"

    @property
    def filtered(self) -> bool:
        return bool(self.category or self.period)

    @property
    def timed(self) -> bool:
        """A map with a period slider (``kind = "time"``): one view per month or quarter."""
        return self.kind == "time"


@dataclass(frozen=True)
class PlanningSpec:
    """The ``[planning]`` section: campaign targeting, hub rollout and evaluation."""

    campaign: Path
    measure: str = "need_index"
    recommend: int | None = None
    population_budget: float | None = None
    contiguous: bool = False
    pilot_hub: Path | None = None
    new_hubs: int = 1
    hub_radius_m: float = 6000.0
    hub_capacity: int | None = 47


@dataclass(frozen=True)
class PackConfig:
    """A checked pack config. Paths are absolute; make one with :func:`load_config`."""

    path: Path
    inputs: Mapping[str, Any]
    maps: tuple[MapSpec, ...]
    title: str = "Map pack"
    subtitle: str = ""
    policy: str = "nhs"
    k: int | None = None
    marking: str = "OFFICIAL-SENSITIVE"
    attribution: str | None = None
    geography: str = "ward"
    gss: bool | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    planning: PlanningSpec | None = None
    min_range: int = 3

    def input(self, key: str):
        """The path (or list of paths) of an input, or None when not given."""
        return self.inputs.get(key)

    @property
    def input_paths(self) -> list[Path]:
        """Every input file named by the config (for the never-overwrite check)."""
        out: list[Path] = []
        for v in self.inputs.values():
            out.extend(v if isinstance(v, list) else [v])
        if self.planning is not None:
            out.extend(p for p in (self.planning.campaign, self.planning.pilot_hub) if p is not None)
        return [p for p in out if isinstance(p, Path)]


# ------------------------------------------------------------------------------------------ reading
def _read(path: Path) -> dict:
    if not path.exists():
        raise ConfigError(f"{path}: config file not found.")
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder; give the pack config file (TOML) inside it.")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}: line {line} is not UTF-8 text (it looks like a Windows/cp1252 file); save the "
                          "config as UTF-8 and try again.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}). Check quotes and brackets on that line.") from None


def _where(path: Path, section: str) -> str:
    return f"{path}: {section}" if section else f"{path}:"


def _unknown(path: Path, section: str, data: Mapping, allowed: tuple[str, ...]) -> None:
    for key in data:
        if key in _FLAGS:
            raise ConfigError(f"{path}: {key} cannot be set in a config file; use `gangmap pack {_FLAGS[key]}` "
                              f"(or build_pack(..., {key}=True)) for this run only.")
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else f" Known keys: {', '.join(allowed)}."
            raise ConfigError(f"{_where(path, section)} unknown key {key!r}.{hint}")


def _typed(path: Path, section: str, data: Mapping, key: str, kind, example: str, default=None):
    if key not in data:
        return default
    value = data[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
    if not ok:
        names = " or ".join(_WORDS.get(k, k.__name__) for k in kinds)
        raise ConfigError(f"{_where(path, section)} {key} should be {names}, like {example}; got {value!r}.")
    return value


def _strings(path: Path, section: str, data: Mapping, key: str, example: str) -> tuple[str, ...] | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{_where(path, section)} {key} should be a non-empty list of names, like {example}; "
                          f"got {value!r}.")
    return tuple(v.strip() for v in value)


def _file(base: Path, path: Path, section: str, key: str, value, *, must_exist: bool = True) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{_where(path, section)} {key} should be a file path like \"{key}.csv\"; got {value!r}.")
    p = Path(value).expanduser()
    p = p if p.is_absolute() else base / p
    if must_exist and not p.exists() and not any(c in value for c in "*?["):
        raise ConfigError(f"{_where(path, section)} {key} = {value!r}: no such file ({p}). Fix the path (relative "
                          "to the config file).")
    return p


def _inputs(path: Path, base: Path, data: Mapping) -> dict[str, Any]:
    section = "[inputs]"
    raw = data.get("inputs")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: needs an [inputs] table with areas = \"FILE\" and reports = \"FILE\".")
    _unknown(path, section, raw, _INPUTS)
    if "areas" in raw and "wards" in raw:
        raise ConfigError(f"{path}: [inputs] gives both areas and wards; keep one (they mean the same).")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = "areas" if key == "wards" else key
        if key == "reports" and isinstance(value, list):
            if not value:
                raise ConfigError(f"{path}: [inputs] reports is an empty list; name at least one file.")
            out[name] = [_file(base, path, section, key, v) for v in value]
        else:
            out[name] = _file(base, path, section, key, value)
    for need in ("areas", "reports"):
        if need not in out:
            raise ConfigError(f"{path}: [inputs] needs '{need} = \"FILE\"'.")
    return out


def _map_spec(path: Path, i: int, m: Any, seen: set[str]) -> MapSpec:
    section = f"[[maps]] entry {i}"
    if not isinstance(m, dict):
        raise ConfigError(f"{path}: {section} must be a table (file = ..., layers = [...]).")
    _unknown(path, section, m, _MAP_KEYS)
    for key in ("file", "layers"):
        if key not in m:
            raise ConfigError(f"{path}: {section} has no '{key}'.")
    file = safe_name(m["file"], f"{path}: {section} file")
    if file.lower() in RESERVED_FILES:
        raise ConfigError(f"{path}: {section} file {file!r} is reserved: the pack writes its own "
                          f"{RESERVED_FILES[file.lower()]} (reserved map names: {', '.join(RESERVED_FILES)}). "
                          f"Give this map another file name, e.g. file = \"{file}_map\".")
    if FUNNEL_INFIX in file.lower():
        raise ConfigError(f"{path}: {section} file {file!r} contains {FUNNEL_INFIX!r}, which the pack uses for the "
                          f"funnel plots of other maps (MAP{FUNNEL_INFIX}LAYER.png). Give this map another file name, "
                          f"e.g. file = \"{file.lower().replace(FUNNEL_INFIX, '_')}\".")
    if file.lower() in seen:
        raise ConfigError(f"{path}: {section} file {file!r} is used by an earlier map; give each map its own file.")
    seen.add(file.lower())
    layers = _strings(path, section, m, "layers", '["reports_rate", "reports"]')
    overlays = _strings(path, section, m, "overlays", '["districts"]')
    bad = [o for o in overlays or () if o not in OVERLAYS]
    if bad:
        raise ConfigError(f"{path}: {section}: unknown overlays {bad}; use {list(OVERLAYS)}.")
    scheme = _typed(path, section, m, "scheme", str, 'scheme = "quantiles"', "quantiles")
    if scheme not in SCHEMES:
        raise ConfigError(f"{path}: {section}: unknown scheme {scheme!r}; use one of {list(SCHEMES)}.")
    classes = _typed(path, section, m, "classes", int, "classes = 5", 5)
    if not 2 <= classes <= 9:
        raise ConfigError(f"{path}: {section}: classes = {classes} must be between 2 and 9.")
    bins = _typed(path, section, m, "bins", list, "bins = [5, 10, 20]")
    if bins is not None and not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bins):
        raise ConfigError(f"{path}: {section}: bins should be numbers, like bins = [5, 10, 20]; got {bins!r}.")
    names = _typed(path, section, m, "names", dict, '[maps.names] reports = "Reports"', {})
    if not all(isinstance(v, str) for v in names.values()):
        raise ConfigError(f"{path}: {section}: names should map layer names to text, like reports = \"Reports\".")
    kind = _typed(path, section, m, "kind", str, 'kind = "time"', "map")
    if kind not in ("map", "time"):
        raise ConfigError(f"{path}: {section}: kind = {kind!r}; use \"map\" or \"time\" (a period slider).")
    freq = _typed(path, section, m, "freq", str, 'freq = "Q"', "Q").upper()
    if freq not in ("M", "Q"):
        raise ConfigError(f"{path}: {section}: freq = {freq!r}; use \"M\" (months) or \"Q\" (quarters).")
    return MapSpec(file=file, layers=layers or (), overlays=overlays if overlays is not None else ("districts",),
                   title=_typed(path, section, m, "title", str, 'title = "..."'),
                   subtitle=_typed(path, section, m, "subtitle", str, 'subtitle = "..."'),
                   category=_strings(path, section, m, "category", '["Weapons concern"]'),
                   period=_strings(path, section, m, "period", '["2018-03"]'), scheme=scheme, classes=classes,
                   bins=tuple(float(b) for b in bins) if bins is not None else None, names=dict(names), kind=kind,
                   freq=freq)


def _planning(path: Path, base: Path, data: Mapping) -> PlanningSpec | None:
    raw = data.get("planning")
    if raw is None:
        return None
    section = "[planning]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: [planning] must be a table (campaign = \"campaign.toml\", ...).")
    _unknown(path, section, raw, _PLANNING_KEYS)
    if "campaign" not in raw:
        raise ConfigError(f"{path}: [planning] needs campaign = \"campaign.toml\" (the current target areas).")

    def get(key, kind, example, default=None):
        return _typed(path, section, raw, key, kind, example, default)

    recommend = get("recommend", int, "recommend = 6")
    budget = get("population_budget", (int, float), "population_budget = 5000")
    capacity = get("hub_capacity", int, "hub_capacity = 47", 47)
    for key, value in (("recommend", recommend), ("new_hubs", get("new_hubs", int, "new_hubs = 1", 1)),
                       ("hub_capacity", capacity)):
        if value is not None and value < 1:
            raise ConfigError(f"{path}: [planning] {key} = {value} must be 1 or more.")
    radius = float(get("hub_radius_m", (int, float), "hub_radius_m = 6000", 6000))
    if radius <= 0:
        raise ConfigError(f"{path}: [planning] hub_radius_m = {radius:g} must be a distance in metres above 0.")
    pilot = raw.get("pilot_hub")
    return PlanningSpec(campaign=_file(base, path, section, "campaign", raw["campaign"]),
                        measure=get("measure", str, 'measure = "need_index"', "need_index"),
                        recommend=recommend, population_budget=None if budget is None else float(budget),
                        contiguous=get("contiguous", bool, "contiguous = true", False),
                        pilot_hub=None if pilot is None else _file(base, path, section, "pilot_hub", pilot),
                        new_hubs=get("new_hubs", int, "new_hubs = 1", 1), hub_radius_m=radius,
                        hub_capacity=capacity)


def load_config(path_or_dict: str | Path | Mapping | PackConfig, *, base: str | Path | None = None) -> PackConfig:
    """Read and check a pack config; every error names the file, the key and the fix.

    Parameters
    ----------
    path_or_dict : path, dict or PackConfig
        A TOML file, or the same settings as a dict (e.g. from a notebook).
    base : path, optional
        Folder that relative paths in a dict are resolved against (default:
        the current folder). Paths in a file are relative to the file.
    """
    from ..disclosure.policy import DEFAULT_MIN_RANGE, MIN_K, MIN_RANGE_LIMITS  # one home for the rules' bounds

    if isinstance(path_or_dict, PackConfig):
        return path_or_dict
    if isinstance(path_or_dict, Mapping):
        folder = Path(base or ".").expanduser().resolve()
        path, data = folder / "<pack settings>", dict(path_or_dict)
    else:
        path = Path(path_or_dict).expanduser()
        data, folder = _read(path), path.resolve().parent
    _unknown(path, "", data, _TOP)
    top = {key: _typed(path, "", data, key, str, f'{key} = "..."')
           for key in ("title", "subtitle", "marking", "attribution", "geography")}
    policy = (top_policy := _typed(path, "", data, "policy", str, 'policy = "nhs"', "nhs")).strip().lower()
    if policy not in POLICY_NAMES:
        raise ConfigError(f"{path}: policy = {top_policy!r}; use one of {', '.join(POLICY_NAMES)}.")
    k = _typed(path, "", data, "k", int, "k = 10")
    if k is not None and policy != "threshold":
        raise ConfigError(f"{path}: k = {k} only applies to policy = \"threshold\"; remove it or change the policy.")
    if k is not None and k < MIN_K:
        raise ConfigError(f"{path}: k = {k}: the threshold policy hides counts 1 to k-1, so k must be a whole number "
                          f"of at least {MIN_K}. Set k = 10 (the default) or remove the line.")
    labels = _typed(path, "", data, "labels", dict, '[labels] population = "children aged 10–17"', {})
    if not all(isinstance(v, str) for v in labels.values()):
        raise ConfigError(f"{path}: [labels] should give text for columns, like population = \"children aged 10–17\".")
    entries = data.get("maps")
    if not entries or not isinstance(entries, list):
        raise ConfigError(f"{path}: no [[maps]] entries; add at least one with file, title and layers.")
    seen: set[str] = set()
    maps = tuple(_map_spec(path, i, m, seen) for i, m in enumerate(entries, 1))
    min_range = _typed(path, "", data, "min_range", int, "min_range = 3", DEFAULT_MIN_RANGE)
    lo, hi = MIN_RANGE_LIMITS
    if not lo <= min_range <= hi:
        raise ConfigError(f"{path}: min_range = {min_range}: a hidden count must keep at least this many possible "
                          f"values, so it must be a whole number from {lo} to {hi:,} (at least {lo} possible values, "
                          "or a hidden count could be worked out). Set min_range = 3 (the default) or remove the line.")
    return PackConfig(path=path, inputs=_inputs(path, folder, data), maps=maps,
                      title=top["title"] or "Map pack", subtitle=top["subtitle"] or "", policy=policy, k=k,
                      marking=top["marking"] or "OFFICIAL-SENSITIVE", attribution=top["attribution"],
                      geography=top["geography"] or "ward", gss=_typed(path, "", data, "gss", bool, "gss = false"),
                      labels=dict(labels), planning=_planning(path, folder, data), min_range=min_range)
