"""Kept text columns carry no number: a count cannot be smuggled out in words (review of issue 11/12)."""

from __future__ import annotations

import pandas as pd
import pytest

from gangmap.disclosure import make_safe
from gangmap.errors import DisclosureError


def _table(note):
    return pd.DataFrame({"ward_code": ["W1", "W2", "W3", "W4"], "reports": [3, 20, 40, 12], "note": note})


@pytest.mark.parametrize("value, why", [
    ("3 referrals", "the digit '3'"),
    ("seen twice", "the number word 'twice'"),
    ("Twelve reports", "the number word 'Twelve'"),
    ("twenty-one", "the number word 'twenty-one'"),
    ("third visit", "the number word 'third'"),
    ("dozens of calls", "the number word 'dozens'"),
    ("½ of them", "the digit '½'"),
    ("٣ reports", "the digit '٣'"),   # Arabic-Indic three: a digit of another script
    ("true", "True/False"),
])
def test_a_kept_text_column_with_a_number_is_refused_naming_the_row(value, why):
    # The hidden count (3 in W1) written in a free-text column would be published as it is.
    df = _table(["targeted", None, value, "next"])
    with pytest.raises(DisclosureError) as err:
        make_safe(df, ["reports"], keep=["note"])
    msg = str(err.value)
    assert "keep lists 'note', whose role is not declared" in msg
    assert "row 2 (ward W3)" in msg and why in msg        # the first offending row, not row 0 or 1
    assert "context=['note']" in msg and "leave 'note' out of keep=" in msg  # the fix


def test_the_count_itself_cannot_leave_in_words():
    df = _table(["3 reports", "20 reports", "40 reports", "12 reports"])
    with pytest.raises(DisclosureError, match=r"row 0 \(ward W1\) holds '3 reports', with the digit '3'"):
        make_safe(df, ["reports"], keep=["note"])


def test_plain_words_still_pass_and_words_containing_number_words_are_not_numbers():
    # "someone", "phone", "tone", "often", "nonetheless" contain number words only inside other words.
    words = ["targeted", "phone someone", "often nonetheless", None]
    safe = make_safe(_table(words), ["reports"], keep=["note"])
    assert safe.display["note"].tolist() == ["targeted", "phone someone", "often nonetheless", ""]
    assert safe.display["reports"].tolist()[0] == "*"


def test_a_declared_public_column_with_numbers_is_still_kept():
    # The fix the message names: a public figure is declared context and passes unchanged.
    safe = make_safe(_table(["Route 7", "A", "B", "C"]), ["reports"], context=["note"])
    assert safe.display["note"].tolist() == ["Route 7", "A", "B", "C"]
