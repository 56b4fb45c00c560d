"""Where the reports come from: one file, several files of counts, or many police.uk files at once.

An analyst may pass one counts file, several counts files (one a month, one a
team ...), one police.uk month, several months, a folder of them, a glob or
the archive zip as published. One file is read by
:func:`~gangmap.io.read_reports` (which recognises police.uk columns); several
police.uk files are read together by :func:`~gangmap.io.read_police` (so the
same force and month given twice is caught); several files of any other kind
are each read by their reader and combined into one Intake whose rows are
numbered on across the files, so every row of every file is accounted for
(the first release kept only the last of a repeated ``--reports``, and a
later one read every list as police.uk files).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputError
from .police import read_police
from .readers import Intake, combine_intakes, read_population, read_referrals, read_reports, read_schools
from .stream import is_police_source

__all__ = ["reports_input", "read_inputs"]

_READERS: dict[str, Callable[..., Intake]] = {"reports": read_reports, "referrals": read_referrals,
                                              "population": read_population, "schools": read_schools}


def _items(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _many(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return len(value) > 1 or (len(value) == 1 and _many(value[0]))
    if isinstance(value, (str, Path)):
        p = Path(value)
        return p.is_dir() or p.suffix.lower() == ".zip" or any(c in str(value) for c in "*?[")
    return False


def read_inputs(value: Any, kind: str = "reports", **options) -> Intake:
    """Read one input or several files of one kind as one :class:`Intake`.

    Parameters
    ----------
    value : path, DataFrame, Intake, or a list of paths
        Police.uk street files (any mix of CSVs, folders, globs and zips) are
        read together by :func:`~gangmap.io.read_police`; other files each by
        the reader of ``kind`` with ``options``, then combined (see
        :func:`~gangmap.io.readers.combine_intakes`).
    kind : str
        ``"reports"``, ``"referrals"``, ``"population"`` or ``"schools"``.
    options :
        Keywords of the reader (``count=``, ``sheet=``, ``code=``,
        ``geography=``, ``by=`` ...). Police.uk files take ``by=`` only.

    Raises
    ------
    InputError
        Police.uk street files mixed with files of counts, or files whose
        rows are placed differently.
    ConfigError
        A reader option that police.uk files cannot take.
    """
    if isinstance(value, Intake):
        return value
    items = _items(value)
    if kind not in _READERS or not items:
        raise ConfigError(f"read_inputs: kind must be one of {', '.join(_READERS)} and at least one file given.")
    police = [is_police_source(i) for i in items]
    if all(police) and kind == "reports":
        extra = sorted(set(options) - {"by", "geography"})
        if extra:
            raise ConfigError(f"{', '.join(map(str, items))}: data.police.uk street files are read as published (one "
                              f"row = one crime); {', '.join(extra)} cannot apply to them.")
        return read_police([str(i) for i in items] if len(items) > 1 else str(items[0]), by=options.get("by"))
    if any(police) and kind == "reports":
        raise InputError(f"{items[police.index(True)]} is data.police.uk street data but "
                         f"{items[police.index(False)]} is not; read them separately (gangmap.join takes one "
                         "reports input): police.uk files together, or the counts files together.")
    reader = _READERS[kind]
    if len(items) == 1:
        return reader(items[0], **options)
    parts = [(str(i), reader(i, **options)) for i in items]
    combined = combine_intakes(parts, ", ".join(map(str, items)))
    head = f"{len(parts)} files read: " + ", ".join(f"{label} ({it.rows_read:,} rows)" for label, it in parts)
    combined.notes = (head, *combined.notes)
    return combined


def reports_input(value: Any, **options) -> Any:
    """``value`` as a reports input for :func:`gangmap.join`.

    One file without options is passed on as it is (police.uk files are then
    streamed by the join); several files, or reader options, make one Intake
    (:func:`read_inputs`).
    """
    if options or _many(value) or (isinstance(value, (list, tuple)) and len(value) > 1):
        return read_inputs(value, "reports", **options)
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value
