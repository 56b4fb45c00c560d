"""Fictional demo data: the county of Wyvernshire.

Everything here is **fictional demo data**, generated deterministically by
:func:`generate` so that the files in ``data/demo/`` can be rebuilt byte for
byte. The county lies in the North Sea off the Lincolnshire coast so that it
can never be mistaken for a real place.

Wyvernshire has 60 wards in 3 districts:

* **Castleford** (the city; its east is a current campaign target and holds
  the pilot hub),
* **Wellmere** (a current campaign target, like Wellingborough),
* **Rushby Vale** (its town of Rushby is a current target, like Rushden).

Planted answers, used by tests of the planner: a cluster of high-need wards
in south-west Rushby Vale (around Kingsford) lies outside every current
target, and its schools lie far from the pilot hub.

Examples
--------
>>> from gangmap import demo
>>> sorted(demo.paths())  # doctest: +NORMALIZE_WHITESPACE
['campaign', 'pilot_hub', 'population', 'readme', 'referrals', 'reports', 'schools', 'wards']
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Polygon
from shapely.ops import split

from .boundaries import WORK_CRS

FICTIONAL = "FICTIONAL DEMO DATA - Wyvernshire does not exist"
SEED = 20180301
LAUNCH = "2018-03"  # campaign launch month in the demo
MONTHS = [str(p) for p in pd.period_range("2017-03", "2019-02", freq="M")]
CONCERNS = ["Going missing", "Unexplained money or phones", "Older controlling contacts",
            "Falling school performance", "Drugs concern", "Weapons concern"]

DISTRICTS = [  # code, name, number of wards
    ("E07900001", "Castleford", 26),
    ("E07900002", "Wellmere", 16),
    ("E07900003", "Rushby Vale", 18),
]
NAMES = {
    "Castleford": ["Abbeygate", "Brindle Park", "Castle", "Delapre Fields", "Eastfield", "Farrowby",
                   "Greywell", "Hartsmoor", "Ironstone", "Jubilee", "Kestrel Rise", "Lumbertubs",
                   "Millway", "Nenebrook", "Oakhollow", "Parklands East", "Queensway",
                   "Riverside & Wharf", "St. Crispin", "Talavera", "Upper Ashby", "Vernon Hill",
                   "Westone", "Yardley Gate", "Thorplands", "Blackthorn"],
    "Wellmere": ["Wellmere Central", "Croyland", "Hemmingwell", "Queensbury", "Redwell", "Swanspool",
                 "Brickhill", "Hatton", "Isebrook", "Finedon Rise", "Irchester Vale", "Earls Barton",
                 "Wollaston Green", "Bozeat", "Great Doddington", "Harrowden"],
    "Rushby Vale": ["Rushby North", "Rushby South", "Rushby Bates", "Rushby Pemberton",
                    "Higham Ferrers", "Irthling", "Raunds", "Stanwick", "Ringstead", "Thrapston",
                    "Kingsford", "Kingsford West", "Oundle Marsh", "Barnwell", "Lower Nene",
                    "Woodford Halse", "Kingsford Mill", "Titchmarsh"],
}
# Current campaign targets: all of Wellmere, the east of Castleford and Rushby town.
TARGET_WARDS_CASTLEFORD_EAST = ["Eastfield", "Lumbertubs", "Thorplands", "Parklands East",
                                "Blackthorn", "Talavera"]
TARGET_WARDS_RUSHBY = ["Rushby North", "Rushby South", "Rushby Bates", "Rushby Pemberton"]
HOTSPOT_KINGSFORD = ["Kingsford", "Kingsford West", "Kingsford Mill", "Barnwell"]

_DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"
_FILES = {
    "wards": "wards.geojson", "reports": "reports.csv", "referrals": "referrals.csv",
    "schools": "schools.csv", "population": "population.csv", "campaign": "campaign.toml",
    "pilot_hub": "pilot_hub.csv", "readme": "README.md",
}


def paths(folder: str | Path | None = None) -> dict[str, Path]:
    """Paths of the demo files (shipped in ``data/demo/`` or in ``folder``).

    If the shipped folder is missing (an installed package without the
    repository) the files are generated into ``folder`` or a cache folder.
    """
    base = Path(folder) if folder else _DATA_DIR
    if not (base / _FILES["wards"]).exists():
        if folder is None:
            base = Path.home() / ".cache" / "gangmap" / "demo"
        generate(base)
    return {k: base / v for k, v in _FILES.items()}


def _county() -> Polygon:
    rng = np.random.default_rng(SEED)
    t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    r = 1 + 0.12 * np.sin(3 * t + 0.5) + 0.06 * rng.standard_normal(t.size)
    cx, cy = 560_000, 380_000  # North Sea, off Lincolnshire: clearly not a real county
    return Polygon(np.c_[cx + 21_000 * r * np.cos(t), cy + 16_000 * r * np.sin(t)]).buffer(0)


def _districts(county: Polygon) -> list[Polygon]:
    cx, cy = county.centroid.x, county.centroid.y
    # Castleford in the west half; Wellmere north-east; Rushby Vale south-east.
    west, east = split(county, LineString([(cx + 2_000, cy - 40_000), (cx - 1_000, cy + 40_000)])).geoms
    if west.centroid.x > east.centroid.x:
        west, east = east, west
    ne, se = split(east, LineString([(cx - 5_000, cy - 3_000), (cx + 40_000, cy + 1_000)])).geoms
    if ne.centroid.y < se.centroid.y:
        ne, se = se, ne
    return [west, ne, se]


def _wards() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(SEED + 1)
    county = _county()
    rows = []
    for (lad_code, lad_name, n), area in zip(DISTRICTS, _districts(county)):
        minx, miny, maxx, maxy = area.bounds
        pts = []
        while len(pts) < n:
            p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            # City wards are denser towards the centre of the district.
            if area.buffer(-800).contains(p) and all(p.distance(q) > 1_500 for q in pts):
                pts.append(p)
        cells = shapely.voronoi_polygons(shapely.MultiPoint(pts), extend_to=area)
        cells = [c.intersection(area) for c in cells.geoms]
        # Order cells by their seed so names land deterministically.
        ordered = [next(c for c in cells if c.contains(p)) for p in pts]
        names = NAMES[lad_name]
        order = np.lexsort(([c.centroid.x for c in ordered], [-round(c.centroid.y, -3) for c in ordered]))
        for k, idx in enumerate(order):
            rows.append((lad_code, lad_name, names[k], shapely.set_precision(ordered[idx], 1.0)))
    gdf = gpd.GeoDataFrame(rows, columns=["lad_code", "lad_name", "ward_name", "geometry"], crs=WORK_CRS)
    gdf.insert(0, "ward_code", [f"E05{900001 + i}" for i in range(len(gdf))])
    return gdf[["ward_code", "ward_name", "lad_code", "lad_name", "geometry"]]


def _need(wards: gpd.GeoDataFrame) -> np.ndarray:
    """Latent relative risk per ward (planted pattern)."""
    rng = np.random.default_rng(SEED + 2)
    c = wards.geometry.centroid
    risk = np.exp(0.25 * rng.standard_normal(len(wards)))
    names = wards["ward_name"]
    risk[names.isin(TARGET_WARDS_CASTLEFORD_EAST).to_numpy()] *= 2.6
    risk[names.isin(TARGET_WARDS_RUSHBY).to_numpy()] *= 1.8
    risk[(wards["lad_name"] == "Wellmere").to_numpy()] *= 1.5
    risk[names.isin(HOTSPOT_KINGSFORD).to_numpy()] *= 3.2  # planted: high need, not targeted
    risk[(c.x > c.x.quantile(0.85)).to_numpy() & ~names.isin(HOTSPOT_KINGSFORD).to_numpy()] *= 0.8
    return risk


def _tables(wards: gpd.GeoDataFrame):
    rng = np.random.default_rng(SEED + 3)
    n = len(wards)
    urban = (wards["lad_name"] == "Castleford").to_numpy()
    pop = np.round(rng.uniform(500, 1300, n) * np.where(urban, 1.25, 1.0), -1).astype(int)
    population = pd.DataFrame({"ward_code": wards["ward_code"], "ward_name": wards["ward_name"],
                               "population": pop})
    risk = _need(wards)
    targeted = wards["ward_name"].isin(TARGET_WARDS_CASTLEFORD_EAST + TARGET_WARDS_RUSHBY).to_numpy() | \
        (wards["lad_name"] == "Wellmere").to_numpy()
    weights = np.array([0.25, 0.2, 0.15, 0.2, 0.12, 0.08])
    rows = []
    for mi, month in enumerate(MONTHS):
        after = month >= LAUNCH
        # Campaign effect: reporting rises in targeted wards after launch.
        uplift = np.where(targeted & after, 1.35, 1.0) * (1 + 0.004 * mi)
        lam = pop / 1000 * 0.45 * risk * uplift
        for k, concern in enumerate(CONCERNS):
            counts = rng.poisson(lam * weights[k] * 6)
            rows += [(wards["ward_code"].iloc[i], month, concern, int(counts[i])) for i in range(n) if counts[i]]
    reports = pd.DataFrame(rows, columns=["ward_code", "period", "category", "count"])

    # Schools: about two per ward, placed inside their ward.
    schools, k = [], 0
    for i, (code, name, geom) in enumerate(zip(wards["ward_code"], wards["ward_name"], wards.geometry)):
        m = 3 if urban[i] else 2
        minx, miny, maxx, maxy = geom.bounds
        placed = 0
        while placed < m:
            p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if geom.buffer(-150).contains(p):
                k += 1
                kind = "Secondary" if placed == 0 and i % 2 == 0 else "Primary"
                schools.append((str(190000 + k), f"{name.replace('&', 'and')} {kind} Academy" if placed == 0
                                else f"{name.replace('&', 'and')} {['St Mary', 'Oak', 'Brook'][placed]} School",
                                int(p.x), int(p.y), code, kind))
                placed += 1
    schools = pd.DataFrame(schools, columns=["URN", "EstablishmentName", "Easting", "Northing",
                                             "AdministrativeWard (code)", "PhaseOfEducation (name)"])
    ward_risk = dict(zip(wards["ward_code"], risk))
    ref_rows = []
    for half in ["2017-09", "2018-03", "2018-09"]:
        lam = schools["AdministrativeWard (code)"].map(ward_risk).to_numpy() * 1.4
        cnt = rng.poisson(lam)
        ref_rows += [(u, half, int(c)) for u, c in zip(schools["URN"], cnt)]
    referrals = pd.DataFrame(ref_rows, columns=["URN", "period", "referrals"])

    # Pilot hub: the 47 schools nearest the centre of east Castleford.
    east = wards[wards["ward_name"].isin(TARGET_WARDS_CASTLEFORD_EAST)].geometry.union_all().centroid
    d = np.hypot(schools["Easting"] - east.x, schools["Northing"] - east.y)
    hub = schools.loc[np.argsort(d.to_numpy())[:47], ["URN", "EstablishmentName"]].copy()
    hub.insert(0, "hub", "Castleford East pilot")
    return population, reports, schools, referrals, hub


_CAMPAIGN = f"""# {FICTIONAL}
# Current #gangsruinlives-style campaign target areas in the demo county.
# Targets may be given by district name, ward name or ward code.
[campaign]
name = "Demo campaign (launched {LAUNCH})"
launch = "{LAUNCH}"
districts = ["Wellmere"]
ward_names = {json.dumps(TARGET_WARDS_CASTLEFORD_EAST + TARGET_WARDS_RUSHBY)}
ward_codes = []
"""

_README = f"""# Wyvernshire: {FICTIONAL}

Every name, code, boundary and count in this folder is invented. It is generated by
`gangmap.demo.generate()` (seed {SEED}) and shipped so the notebooks, `make demo` and the
tests have data to run on. Do not use it for decisions.

| file | what |
|---|---|
| `wards.geojson` | 60 fictional wards in 3 districts (codes E05900001-E05900060, E07900001-3; EPSG:4326) |
| `reports.csv` | monthly report counts per ward and concern, {MONTHS[0]} to {MONTHS[-1]} |
| `schools.csv` | schools with GIAS column names |
| `referrals.csv` | Early Help referrals per school and half-year |
| `population.csv` | children aged 10-17 per ward |
| `campaign.toml` | current campaign target areas (launch {LAUNCH}) |
| `pilot_hub.csv` | the 47 schools of the pilot hub |
"""


def generate(out_dir: str | Path) -> dict[str, Path]:
    """Write the fictional demo county into ``out_dir``; return the file paths.

    The output is identical on every run (fixed seeds, fixed precision).

    Examples
    --------
    >>> import tempfile
    >>> files = generate(tempfile.mkdtemp())
    >>> sorted(files)[:3]
    ['campaign', 'pilot_hub', 'population']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    wards = _wards()
    population, reports, schools, referrals, hub = _tables(wards)
    fc = json.loads(wards.to_crs("EPSG:4326").to_json(drop_id=True))
    for f in fc["features"]:
        f["geometry"] = _round_coords(f["geometry"], 6)
    fc = {"type": "FeatureCollection", "name": "wyvernshire_wards_fictional",
          "description": FICTIONAL, **{"features": fc["features"]}}
    (out / _FILES["wards"]).write_text(json.dumps(fc, separators=(",", ":")) + "\n")
    for key, frame in [("population", population), ("reports", reports), ("schools", schools),
                       ("referrals", referrals), ("pilot_hub", hub)]:
        frame.to_csv(out / _FILES[key], index=False, lineterminator="\n")
    (out / _FILES["campaign"]).write_text(_CAMPAIGN)
    (out / _FILES["readme"]).write_text(_README)
    return {k: out / v for k, v in _FILES.items()}


def _round_coords(geom: dict, nd: int) -> dict:
    def r(c):
        return [round(v, nd) for v in c] if isinstance(c[0], float) else [r(x) for x in c]
    return {"type": geom["type"], "coordinates": r(geom["coordinates"])}
