"""Planning on LSOAs of real Northamptonshire with police.uk counts: the words and columns follow the geography.

The LSOA table is built here from the boundaries and the police file (counts per ``LSOA code``), so
the test does not depend on how the join reads LSOAs; it checks that targeting, recommendations,
hubs and the evaluation speak of LSOAs and use ``lsoa_code``, and that their safe tables come out.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from gangmap import export, planning
from gangmap.errors import ConfigError
from gangmap.table import from_frame

pytestmark = pytest.mark.realdata
CATEGORIES = ["Drugs", "Possession of weapons", "Robbery"]


@pytest.fixture(scope="module")
def lsoa_table():
    from pathlib import Path

    data = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not (data / "boundaries" / "northamptonshire_lsoa_2011.geojson").exists():
        pytest.skip("../shared/data is not here (real LSOA boundaries and police.uk data)")
    g = gpd.read_file(data / "boundaries" / "northamptonshire_lsoa_2011.geojson").to_crs(27700)
    g = g.rename(columns={"LSOA11CD": "lsoa_code", "LSOA11NM": "lsoa_name", "LAD11CD": "lad_code",
                          "LAD11NM": "lad_name"})
    police = pd.read_csv(data / "police" / "2018-03-northamptonshire-street.csv")
    police = police[police["Crime type"].isin(CATEGORIES)]
    g["reports"] = g["lsoa_code"].map(police.groupby("LSOA code").size()).fillna(0).astype(int)
    return from_frame(g[["lsoa_code", "lsoa_name", "lad_code", "lad_name", "reports", "geometry"]],
                      counts=["reports"], geography="lsoa")


def test_lsoa_targets_and_recommendation_speak_of_lsoas(lsoa_table, tmp_path):
    t = lsoa_table
    targets = planning.read_targets({"campaign": {"districts": ["Wellingborough"], "lsoa_names": ["Corby 001A"],
                                                  "launch": "2018-03"}}, t)
    wellingborough = set(t.frame.loc[t["lad_name"] == "Wellingborough", "lsoa_code"])
    assert targets.codes == wellingborough | {"E01026971"} and targets.geography.level == "lsoa"
    assert targets.summary().startswith(f"campaign: {len(wellingborough) + 1} target LSOAs")
    assert set(targets.matched["kind"]) == {"district", "LSOA name"}
    with pytest.raises(ConfigError, match="'Corby 999Z' is not an LSOA name"):
        planning.read_targets({"lsoa_names": ["Corby 999Z"]}, t)
    with pytest.raises(ConfigError, match="did you mean 'lsoa_names'"):
        planning.read_targets({"campaign": {"lsoa_name": ["Corby 001A"]}}, t)
    rec = planning.recommend(t, targets, "reports", k=8, contiguous=True)
    assert rec.message.startswith("adding these 8 LSOAs lifts coverage of reports from ")
    assert "ward" not in rec.message + rec.rule and "an LSOA elsewhere" in rec.rule
    assert not set(rec.codes) & targets.codes and rec.after > rec.before
    assert rec.after == pytest.approx(planning.coverage(t, set(targets.codes) | set(rec.codes), "reports"))
    assert "lsoa_code" in rec.areas and rec.areas.geography.level == "lsoa"
    assert rec.uncertainty is not None and rec.areas["chosen_share"].between(0, 1).all()
    safe = rec.safe()
    # robustness is published now: a label of the share of resamples of the *published* counts (to 10%)
    assert "lsoa_code" in safe.frame.columns and set(safe.frame["robustness"]) <= {"robust", "likely", "coin-flip"}
    assert safe.geography.level == "lsoa" and "LSOA" in rec.published_message(safe)
    export.write_table(safe, tmp_path / "next_lsoas.csv")
    ranked = planning.rank_untargeted(t, targets, "reports")
    assert ranked.geography.level == "lsoa" and ranked["reports"].is_monotonic_decreasing


def test_lsoa_hubs_and_evaluation(lsoa_table):
    t = lsoa_table
    # schools placed on LSOAs by their coordinates (no LSOA code in a GIAS ward column)
    cent = t.frame.geometry.representative_point()
    pick = np.arange(0, len(t), 10)
    schools = pd.DataFrame({"URN": [str(500000 + i) for i in pick], "EstablishmentName": t["lsoa_name"].iloc[pick],
                            "Easting": cent.x.iloc[pick].to_numpy(), "Northing": cent.y.iloc[pick].to_numpy(),
                            "AdministrativeWard (code)": ["E05000000"] * len(pick)})
    need = planning.school_need(schools, t, "reports")
    assert need.geography.level == "lsoa"
    assert need.frame["lsoa_code"].tolist() == t["lsoa_code"].iloc[pick].tolist()
    assert need.frame["need"].tolist() == t["reports"].iloc[pick].astype(float).tolist()
    plan = planning.plan_hubs(schools, need, p=2, radius_m=5000, capacity=10, area=t)
    assert "lsoa_code" in plan.assignment and plan.geography.level == "lsoa"
    assert plan.areas_table().geography.level == "lsoa"
    # a monthly series on LSOAs (one real month and planted ones round it) speaks of LSOAs
    rng = np.random.default_rng(2018)
    months = [str(m) for m in pd.period_range("2017-09", "2018-08", freq="M")]
    lam = np.outer(t["reports"].to_numpy(float) + 0.5, np.ones(len(months)))
    s = pd.DataFrame(rng.poisson(lam).astype(float), index=t["lsoa_code"], columns=months)
    s["2018-03"] = t["reports"].to_numpy(float)
    targets = planning.Targets(codes=frozenset(t.frame.loc[t["lad_name"] == "Wellingborough", "lsoa_code"]),
                               launch="2018-03", geography=t.geography)
    e = planning.evaluate(s, targets)
    assert "targeted LSOAs" in e.message and "LSOA" in e.method and "ward" not in e.message
