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
