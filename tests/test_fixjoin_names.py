"""Names are matched as README says: case, punctuation, accents, "&"/"and" and "St"/"Saint" folded.

Two areas whose names fold to one key stay ambiguous (an error naming both),
resolved only by a district column that tells them apart.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from gangmap.joining import NotPlacedError, join, normalise_name

NAMES = ["Saint Crispin", "Bryn-côch", "Tŷ-du", "Queen Eleanor & Buccleuch", "St. Peter's", "Abbey"]


def _wards(square_wards_factory, names=NAMES, lads=None):
    kw = {"lads": lads} if lads is not None else {}
    return square_wards_factory(names=names, **kw)


@pytest.mark.parametrize("given, ward", [
    ("St. Crispin", 0), ("ST CRISPIN", 0), ("saint-crispin", 0),
    ("Bryn-coch", 1), ("BRYN COCH", 1), (unicodedata.normalize("NFD", "Bryn-côch"), 1),
    ("Ty Du", 2), ("tŷ du", 2),
    ("Queen Eleanor and Buccleuch", 3), ("queen eleanor&buccleuch", 3),
    ("Saint Peters", 4), ("St Peter’s", 4), ("st.peter's", 4),
])
def test_spellings_of_one_name_match_it(square_wards_factory, given, ward):
    table, rep = join(_wards(square_wards_factory), reports=pd.DataFrame({"ward_name": [given], "count": [3]}))
    expected = [0] * 6
    expected[ward] = 3
    assert table["reports"].tolist() == expected and rep.sections["reports"].matched == 1


def test_folding_does_not_join_different_names():
    keys = {normalise_name(n) for n in ["Stanion", "Saint Anion", "Castle", "Castle Saint", "Bryn", "Brynn",
                                        "Standens", "St Andrews", "Saints", "All Saints"]}
    assert len(keys) == 10


def test_two_areas_folding_to_one_name_are_ambiguous_and_both_named(square_wards_factory):
    names = ["St Mary's", "Saint Marys", "Castle", "Abbey", "Delapre", "Eastfield"]
    lads = [("E07000001", "Northwold"), ("E07000002", "Southmere")] * 3
    wards = _wards(square_wards_factory, names, lads)
    df = pd.DataFrame({"ward_name": ["ST. MARYS"], "count": [4]})
    with pytest.raises(NotPlacedError) as ei:
        join(wards, reports=df)
    msg = str(ei.value)
    assert "ambiguous: St Mary's (Northwold), Saint Marys (Southmere)" in msg and "add a district column" in msg
    table, _ = join(wards, reports=df.assign(district=["Southmere"]))
    assert table["reports"].tolist() == [0, 4, 0, 0, 0, 0]


def test_a_district_that_holds_both_leaves_it_ambiguous(square_wards_factory):
    names = ["St Mary's", "Saint Marys", "Castle", "Abbey", "Delapre", "Eastfield"]
    lads = [("E07000001", "Northwold")] * 6
    df = pd.DataFrame({"ward_name": ["St Marys"], "count": [4], "district": ["Northwold"]})
    with pytest.raises(NotPlacedError, match="St Mary's .Northwold., Saint Marys .Northwold.; the district given "
                                             "does not tell them apart"):
        join(_wards(square_wards_factory, names, lads), reports=df)


WARDS_2013 = Path("boundaries/northamptonshire_wards_2013.geojson")


def _respell(name: str) -> str:
    """Another analyst's spelling: Saint for St, & for and, no apostrophes, capitals, accents (decomposed)."""
    text = name.replace("St ", "Saint ").replace(" and ", " & ").replace("'", "").upper()
    return unicodedata.normalize("NFD", text.replace("A", "Á").replace("E", "È"))


def test_real_ward_names_respelt_all_match_their_ward(shared_data):
    wards = gpd.read_file(shared_data / WARDS_2013)
    df = pd.DataFrame({"ward_name": wards["WD13NM"].map(_respell), "district": wards["LAD13NM"].str.upper(),
                       "count": range(1, len(wards) + 1)})
    assert (df["ward_name"] != wards["WD13NM"]).all()
    table, rep = join(wards, reports=df)
    assert rep.sections["reports"].matched == len(wards) == 146
    assert table["reports"].tolist() == list(range(1, 147))  # each row on its own ward


def test_real_names_shared_by_two_districts_stay_ambiguous(shared_data):
    wards = gpd.read_file(shared_data / WARDS_2013)
    df = pd.DataFrame({"ward_name": wards["WD13NM"].map(_respell), "count": 1})
    with pytest.raises(NotPlacedError) as ei:
        join(wards, reports=df)
    msg = str(ei.value)
    assert "ambiguous: Woodford (Daventry), Woodford (East Northamptonshire)" in msg
    assert "ambiguous: Castle (Northampton), Castle (Wellingborough)" in msg
    assert ei.value.report.sections["reports"].unmatched == 4
