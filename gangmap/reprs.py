"""Rich notebook displays: every result shows as a small card of facts and tables, not text.

JupyterLab calls ``_repr_html_``; each result class builds its card with
:func:`card` so they all look alike. Everything shown is escaped (names in the
data can hold markup) and tables are cut to their first rows. These displays
are for the analyst at the keyboard and may show raw figures: notebooks are
stored without outputs, and nothing here reaches a file.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

__all__ = ["card"]

_STYLE = ("border:1px solid #ddd;border-radius:4px;padding:6px 10px;margin:4px 0;font-size:13px;"
          "max-width:100%;overflow:auto")


def _table(frame: Any, rows: int) -> str:
    import pandas as pd

    if frame is None or not isinstance(frame, pd.DataFrame) or frame.empty:
        return ""
    shown = frame.drop(columns="geometry", errors="ignore").head(rows)
    more = f"<div><small>… {len(frame) - rows:,} more rows</small></div>" if len(frame) > rows else ""
    return shown.to_html(index=False, border=0, escape=True, max_cols=14) + more


def card(title: str, facts: Iterable[tuple[str, Any]] = (), text: str = "",
         tables: Iterable[tuple[str, Any]] = (), rows: int = 12) -> str:
    """HTML for a result: a bold title, ``facts`` as a two-column table, a paragraph, captioned tables."""
    e = html.escape
    facts_html = "".join(f"<tr><th style='text-align:left;padding-right:12px'>{e(str(k))}</th>"
                         f"<td style='text-align:left'>{e(str(v))}</td></tr>" for k, v in facts if v is not None)
    parts = [f"<div style='{_STYLE}'><b>{e(title)}</b>"]
    if facts_html:
        parts.append(f"<table>{facts_html}</table>")
    if text:
        parts.append(f"<p>{e(text)}</p>")
    for caption, frame in tables:
        body = _table(frame, rows)
        if body:
            parts.append(f"<p style='margin:6px 0 2px'><i>{e(caption)}</i></p>{body}")
    return "".join(parts) + "</div>"
