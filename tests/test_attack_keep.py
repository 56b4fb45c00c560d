"""Attack: a hidden count smuggled out through a kept text column in forms the number check misses.

``make_safe(..., keep=[col])`` refuses an undeclared text column holding a
digit (of any script) or an English number word (README "Safe to share",
guarantee 1: "text with a digit or a number word ... is refused"). The check
reads the characters as they are stored, so text that *reads* as a number
word once displayed passes: a zero-width space or soft hyphen inside the word
(both invisible in a browser, Excel and most terminals, and common in text
pasted from Word or the web), a Cyrillic letter that looks Latin, full-width
letters (NFKC: plain letters), Roman numerals, the word spelled out with
hyphens or spaces, a compound without its hyphen, a plural. Each case below
publishes the hidden count 7 of ward W1 (shown as ``*``) beside it, in the CSV
that gangmap writes.

The safe behaviour these tests ask for: each of these is refused like "seven"
(normalise the text, NFKC and without format characters, before matching;
match Roman numerals and spelled-out forms).
"""

from __future__ import annotations

import pandas as pd
import pytest

from gangmap import export
from gangmap.disclosure import make_safe
from gangmap.errors import DisclosureError

RAW = [7, 30, 40, 25]  # W1's 7 is hidden under nhs (1-7)


def _table(note: str) -> pd.DataFrame:
    return pd.DataFrame({"ward_code": ["W1", "W2", "W3", "W4"], "lad_code": ["D1"] * 4, "reports": RAW,
                         "note": [note, "targeted", "targeted", "next"]})


@pytest.mark.parametrize("text, reads_as", [
    ("se\u200bven referrals", "seven (a zero-width space inside the word, invisible when shown)"),
    ("sev\u00aden referrals", "seven (a soft hyphen inside the word, invisible when shown)"),
    ("\uff53\uff45\uff56\uff45\uff4e referrals", "seven (full-width letters; NFKC gives 'seven')"),
    ("s\u0435ven referrals", "seven (a Cyrillic 'е' that looks Latin)"),
    ("VII referrals", "7 (Roman numerals)"),
    ("s-e-v-e-n referrals", "seven (spelled out with hyphens)"),
    ("s e v e n referrals", "seven (spelled out with spaces)"),
    ("sevenfold", "seven (a number word with a suffix)"),
], ids=["zero-width-space", "soft-hyphen", "full-width", "cyrillic-e", "roman", "hyphens", "spaces", "suffix"])
def test_a_count_written_so_the_number_check_misses_it_is_refused(tmp_path, text, reads_as):
    df = _table(text)
    try:
        safe = make_safe(df, ["reports"], keep=["note"])
    except DisclosureError:
        return  # the safe behaviour
    path = export.to_csv(safe, tmp_path / "summary.csv")
    row = next(line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("W1,"))
    assert safe.display["reports"].iloc[0] == "*"  # the policy hid the count ...
    pytest.fail(f"... but the published CSV row {row!r} carries it as {reads_as}: raw count {RAW[0]}, "
                "recovered 7 by reading the kept text")


@pytest.mark.parametrize("text", ["Secondary School", "tenant support", "Northamptonshire CC", "often missing",
                                  "I think so", "Civil parish", "Mix of groups", "St Crispin & Kingsthorpe"])
def test_ordinary_words_that_contain_a_number_word_or_numeral_letters_still_pass(text):
    """Control: whole words only, capital Roman numerals with I, V or X only, the pronoun 'I' allowed."""
    safe = make_safe(_table(text), ["reports"], keep=["note"])
    assert safe.frame["note"].iloc[0] == text
