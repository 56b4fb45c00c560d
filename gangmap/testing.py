"""Public testing helpers (like :mod:`geopandas.testing`): check that published outputs disclose nothing.

Use them in your own tests or CI on every pack you publish::

    from gangmap.testing import assert_no_disclosure
    assert_no_disclosure("out/pack", raw="pack.toml")          # the config names the raw inputs

The check reads back every published byte of the pack (see
:func:`gangmap.disclosure.audit_pack` for what is read and what a reader is
assumed to know) and fails, with a table of the tightest ranges, when any
hidden count narrows to fewer than ``min_range`` possible values or any
rounded count can be worked out exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["assert_no_disclosure"]


def assert_no_disclosure(pack_dir_or_artefacts: str | Path | Iterable[str | Path], raw: Any = None, *,
                         min_range: int = 3, **options: Any):
    """Raise AssertionError if a reader of the pack can narrow any hidden or rounded count too far.

    Parameters
    ----------
    pack_dir_or_artefacts : folder, file or list of files
        The published pack.
    raw : pack config or mapping, optional
        The raw inputs (a pack config, or ``{family: raw table}``), so that
        the report shows the truth beside each range.
    min_range : int
        Possible values every hidden count must keep (3).
    **options
        Passed to :func:`gangmap.disclosure.audit_pack` (``families=``,
        ``counts=``, ``population=`` ...).

    Returns
    -------
    AuditResult
        When nothing is disclosed, for further checks.
    """
    from .disclosure.packaudit import audit_pack

    path = pack_dir_or_artefacts if isinstance(pack_dir_or_artefacts, (str, Path)) else list(pack_dir_or_artefacts)
    result = audit_pack(path, raw, min_range=min_range, **options)
    if not result.ok:
        raise AssertionError("the pack discloses:\n" + str(result))
    return result
