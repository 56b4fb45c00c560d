"""Where the reports come from: one file, or many police.uk files at once.

An analyst may pass one counts file, one police.uk month, several months,
a folder of them, a glob or the archive zip as published. One file is read
by :func:`~gangmap.io.read_reports` (which recognises police.uk columns);
anything naming several files is police.uk data, read together by
:func:`~gangmap.io.read_police`, so that no file is silently dropped (the
first release kept only the last of a repeated ``--reports``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["reports_input"]


def _many(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return len(value) > 1 or (len(value) == 1 and _many(value[0]))
    if isinstance(value, (str, Path)):
        p = Path(value)
        return p.is_dir() or p.suffix.lower() == ".zip" or any(c in str(value) for c in "*?[")
    return False


def reports_input(value: Any) -> Any:
    """``value`` as a reports input for :func:`gangmap.join`: several files become one police.uk Intake."""
    from .police import read_police

    if _many(value):
        items = value if isinstance(value, (list, tuple)) else [value]
        return read_police([str(v) for v in items] if len(items) > 1 else str(items[0]))
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value
