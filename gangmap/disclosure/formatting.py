"""How safe values are written as text: counts with thousands separators, other figures to 3 significant figures.

One home for number formatting so that a CSV, a tooltip and a spreadsheet
show the same text for the same cell, and so that the auditor can tell how
precise a published figure is from the text alone (``"8.33"`` carries three
significant figures, nothing more).

Examples
--------
>>> fmt_number(8.333333, 3), fmt_number(1234.5, 3), fmt_count(1234.0)
('8.33', '1,230', '1,234')
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["round_sig", "fmt_count", "fmt_number", "fmt_plain"]


def round_sig(values: np.ndarray, sig: int | None) -> np.ndarray:
    """``values`` rounded to ``sig`` significant figures (None: unchanged)."""
    if sig is None:
        return values
    out = values.astype(float).copy()
    for i, v in enumerate(out):
        if np.isfinite(v) and v != 0:
            out[i] = float(f"{v:.{sig}g}")
    return out


def fmt_count(v: float) -> str:
    """A whole number with thousands separators."""
    return f"{int(v):,}"


def fmt_number(v: Any, sig: int | None) -> str:
    """A derived figure as text, to ``sig`` significant figures (trailing zeros kept: ``'4.80'``)."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    v = float(v)
    if not np.isfinite(v):
        return str(v)
    if sig is not None and v != 0:
        v = float(f"{v:.{sig}g}")
        digits = max(0, sig - 1 - int(math.floor(math.log10(abs(v)))))
        return f"{v:,.{digits}f}"
    if v.is_integer():
        return f"{int(v):,}"
    return f"{v:,.6g}"


def fmt_plain(s: pd.Series, nodata: str) -> list[str]:
    """A column published unchanged (identifiers, public context) as text."""
    numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    out = []
    for v in s.tolist():
        if v is None or (not isinstance(v, str) and pd.isna(v) is True):
            out.append(nodata if numeric else "")
        elif numeric:
            out.append(fmt_number(v, None))
        else:
            out.append(str(v))
    return out
