"""LSOA lookups with plain column names (``lsoa``/``ward``, ``LSOA code``/``Ward code``) are recognised.

A lookup whose columns are named as analysts name them, not as ONS does
(``LSOA21CD``/``WD23CD``), places the rows exactly as the ONS-named one; a
column of codes with an unknown name is found by its values; and a lookup
that has no usable column is an InputError naming the file, the columns found
and the fix.
"""

from __future__ import annotations

import pandas as pd
import pytest

from gangmap import io as intake
from gangmap.errors import InputError
from gangmap.joining import apply_bridge, bridge_lsoas, join

CODES = ["E05100001", "E05100002", "E05100003", "E05100004", "E05100005", "E05100006"]
#: Planted answer: LSOA i lies in ward LSOA_WARD[i].
LSOAS = ["E01000001", "E01000002", "E01000003", "E01000004"]
LSOA_WARD = [CODES[0], CODES[0], CODES[3], CODES[5]]
REPORTS = pd.DataFrame({"lsoa_code": LSOAS * 2, "count": [1, 2, 3, 4, 5, 6, 7, 8]})
EXPECTED = [1 + 2 + 5 + 6, 0, 0, 3 + 7, 0, 4 + 8]


@pytest.mark.parametrize("lsoa_col, ward_col", [
    ("LSOA21CD", "WD23CD"),            # ONS, the control
    ("lsoa", "ward"), ("LSOA", "WARD"),
    ("LSOA code", "Ward code"), ("LSOA Code", "WARD CODE"), ("lsoa_code", "ward"),
    ("LSOA_2021", "Ward_2023"),        # names gangmap does not know: found by their values
])
def test_lookup_csv_with_plain_column_names_places_rows(square_wards, tmp_path, lsoa_col, ward_col):
    path = tmp_path / "lookup.csv"
    pd.DataFrame({lsoa_col: LSOAS, "LSOA name": ["a", "b", "c", "d"], ward_col: LSOA_WARD,
                  "Ward name": ["Castle", "Castle", "Abbey", "Eastfield"]}).to_csv(path, index=False)
    table, rep = join(square_wards, reports=REPORTS, lsoa=path)
    assert table["reports"].tolist() == EXPECTED and rep.sections["reports"].matched == 8
    lookup, brep = bridge_lsoas(None, square_wards, lookup=path)
    assert lookup[["lsoa_code", "ward_code"]].values.tolist() == [list(p) for p in zip(LSOAS, LSOA_WARD)]
    assert brep.assigned == 4


def test_a_ward_column_holding_names_is_an_error_naming_file_columns_and_fix(square_wards, tmp_path):
    path = tmp_path / "my lookup.csv"
    pd.DataFrame({"lsoa": LSOAS, "ward": ["Castle", "Castle", "Abbey", "Eastfield"]}).to_csv(path, index=False)
    with pytest.raises(InputError) as ei:
        join(square_wards, reports=REPORTS, lsoa=path)
    msg = str(ei.value)
    assert "my lookup.csv" in msg and "columns are: lsoa, ward" in msg
    assert "column 'ward' should hold ward codes" in msg and "'Castle'" in msg
    assert "Name the column of ward codes 'ward_code' (or WD23CD, as ONS files do)" in msg


def test_a_lookup_without_codes_is_an_error_naming_the_columns(square_wards, tmp_path):
    path = tmp_path / "lookup.csv"
    pd.DataFrame({"from": ["a", "b"], "to": ["c", "d"]}).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"lookup.csv.*no LSOA code column found; columns are: from, to\. Name the "
                                         r"column of LSOA codes 'lsoa_code' \(or LSOA21CD, as ONS files do\), or "
                                         r"pass lsoa_code="):
        join(square_wards, reports=REPORTS, lsoa=path)


def test_two_columns_of_ward_codes_by_value_are_not_guessed(square_wards, tmp_path):
    path = tmp_path / "lookup.csv"
    pd.DataFrame({"lsoa": LSOAS, "old": LSOA_WARD, "new": LSOA_WARD}).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"several hold ward codes \(old, new\)"):
        join(square_wards, reports=REPORTS, lsoa=path)


def test_counts_by_lsoa_with_a_plain_column_name():
    lookup = pd.DataFrame({"lsoa_code": LSOAS, "ward_code": LSOA_WARD, "weight": 1.0})
    out = apply_bridge(pd.DataFrame({"LSOA": LSOAS, "count": [1, 2, 3, 4]}), lookup).frame
    assert dict(zip(out["ward_code"], out["count"])) == {CODES[0]: 3, CODES[3]: 3, CODES[5]: 4}


WARDS = "boundaries/northamptonshire_wards_2013.geojson"
LSOA_LAYER = "boundaries/northamptonshire_lsoa_2011.geojson"
POLICE = "police/2018-03-northamptonshire-street.csv"


def test_real_lookup_with_plain_names_equals_the_ons_named_one(shared_data, tmp_path):
    import gangmap

    wards = gangmap.read_wards(shared_data / WARDS)
    police = intake.read_police_csv(shared_data / POLICE)
    lookup, _ = bridge_lsoas(shared_data / LSOA_LAYER, wards)
    ons, plain = tmp_path / "ons.csv", tmp_path / "plain.csv"
    pd.DataFrame({"LSOA11CD": lookup["lsoa_code"], "WD13CD": lookup["ward_code"]}).to_csv(ons, index=False)
    pd.DataFrame({"LSOA code": lookup["lsoa_code"], "Ward": lookup["ward_code"]}).to_csv(plain, index=False)
    t_ons, r_ons = join(wards, reports=police, lsoa=ons, by="lsoa", allow_unmatched=True)
    t_plain, r_plain = join(wards, reports=police, lsoa=plain, by="lsoa", allow_unmatched=True)
    assert len(lookup) == 422 and t_ons["reports"].sum() > 6000
    assert t_plain["reports"].tolist() == t_ons["reports"].tolist()
    assert r_plain.sections["reports"].matched == r_ons.sections["reports"].matched
