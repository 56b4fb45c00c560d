"""``join(..., by=...)`` tells the reader how the rows will be placed, so both follow one rule.

Before, ``by`` reached only the placing step: a count file with a blank code column was read as keyed
by name and then refused with "the rows have no  column" (an empty name).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from gangmap.errors import InputError
from gangmap.joining import join


@pytest.fixture()
def two_wards():
    return gpd.GeoDataFrame({"ward_code": ["E05000001", "E05000002"], "ward_name": ["Alpha", "Beta"]},
                            geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=27700)


def test_by_code_with_blank_codes_names_the_column_and_the_fix(two_wards):
    df = pd.DataFrame({"ward_code": ["", ""], "ward_name": ["Alpha", "Beta"], "count": [3, 4]})
    with pytest.raises(InputError) as e:
        join(two_wards, reports=df, by="code")
    msg = str(e.value)
    assert "'ward_code'" in msg and "blank" in msg and "--code" in msg
    assert "no  column" not in msg


def test_by_name_reads_and_places_by_name(two_wards):
    df = pd.DataFrame({"ward_code": ["E05000002", "E05000001"], "ward_name": ["Alpha", "Beta"], "count": [3, 4]})
    by_name, _ = join(two_wards, reports=df, by="name")
    by_code, _ = join(two_wards, reports=df, by="code")
    assert by_name.frame["reports"].tolist() == [3, 4] and by_code.frame["reports"].tolist() == [4, 3]


def test_the_district_advice_is_given_only_for_names_two_areas_share():
    g = gpd.GeoDataFrame({"ward_code": ["E05000001", "E05000002", "E05000003"],
                          "ward_name": ["Castle", "Castle", "Beta"]},
                         geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)], crs=27700)
    with pytest.raises(Exception, match="district column resolves names two areas share"):
        join(g, reports=pd.DataFrame({"ward_name": ["Castle"], "count": [3]}))
    with pytest.raises(Exception) as e:
        join(g, reports=pd.DataFrame({"ward_name": ["Gamma"], "count": [3]}))
    assert "district" not in str(e.value)


def test_a_name_written_as_the_map_shows_it_finds_its_ward():
    """The maps show a name two wards share as 'Castle (Northampton)': that spelling is matched too."""
    g = gpd.GeoDataFrame({"ward_code": ["E05000001", "E05000002", "E05000003"],
                          "ward_name": ["Castle", "Castle", "Beta"],
                          "lad_code": ["E07000001", "E07000002", "E07000002"],
                          "lad_name": ["Northampton", "Wellingborough", "Wellingborough"]},
                         geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)], crs=27700)
    df = pd.DataFrame({"ward_name": ["Castle (Northampton)", "castle (Wellingborough)", "Beta (Wellingborough)"],
                       "count": [3, 4, 5]})
    table, _ = join(g, reports=df)
    assert table.frame["reports"].tolist() == [3, 4, 5]
    with pytest.raises(Exception, match="Castle"):  # a wrong district in brackets is not guessed
        join(g, reports=pd.DataFrame({"ward_name": ["Castle (Kettering)"], "count": [3]}))
