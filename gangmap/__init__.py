"""gangmap: small-area risk mapping for JupyterLab.

Join anonymised report counts and school-referral counts onto area boundaries
(wards by default; LSOAs, MSOAs, output areas, police neighbourhoods or any
polygon layer with a code), compute risk measures over space and time, make
everything safe to share, and draw interactive maps that open offline.

The pipeline, one subpackage per concern::

    io -> joining -> measures -> planning -> disclosure -> maps / export
                      (over AreaTable: a frame plus a schema of column roles)

``import gangmap`` loads nothing heavy: the names below are imported on first
use (PEP 562), so ``gangmap --version`` and a notebook's first cell are quick.

Examples
--------
>>> import gangmap
>>> gangmap.__version__ == gangmap._version.__version__
True
>>> "read_areas" in dir(gangmap)
True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

# name -> (module, attribute or None for the module itself)
_LAZY: dict[str, tuple[str, str | None]] = {
    # the pipeline, in order
    "read_areas": ("gangmap.io", "read_areas"),
    "read_wards": ("gangmap.io", "read_wards"),
    "read_reports": ("gangmap.io", "read_reports"),
    "join": ("gangmap.joining", "join"),
    "build_cube": ("gangmap.joining", "build_cube"),
    "JoinReport": ("gangmap.joining", "JoinReport"),
    "make_safe": ("gangmap.disclosure", "make_safe"),
    "SafeTable": ("gangmap.disclosure", "SafeTable"),
    # the table model
    "AreaTable": ("gangmap.table", "AreaTable"),
    "Schema": ("gangmap.table", "Schema"),
    "from_frame": ("gangmap.table", "from_frame"),
    "Geography": ("gangmap.geography", "Geography"),
    "GangmapError": ("gangmap.errors", "GangmapError"),
    # subpackages and modules
    "io": ("gangmap.io", None),
    "joining": ("gangmap.joining", None),
    "measures": ("gangmap.measures", None),
    "disclosure": ("gangmap.disclosure", None),
    "planning": ("gangmap.planning", None),
    "maps": ("gangmap.maps", None),
    "export": ("gangmap.export", None),
    "pack": ("gangmap.pack", None),
    "fetch": ("gangmap.fetch", None),
    "demo": ("gangmap.demo", None),
    "testing": ("gangmap.testing", None),
    "notebook": ("gangmap.notebook", None),
    "outputs": ("gangmap.outputs", None),
    "errors": ("gangmap.errors", None),
    "geography": ("gangmap.geography", None),
    "table": ("gangmap.table", None),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'gangmap' has no attribute {name!r}") from None
    value = importlib.import_module(module)
    if attr is not None:
        value = getattr(value, attr)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, eagerly
    from . import (
        demo,
        disclosure,
        errors,
        export,
        fetch,
        geography,
        io,
        joining,
        maps,
        measures,
        pack,
        planning,
        table,
        testing,
    )
    from .disclosure import SafeTable, make_safe
    from .errors import GangmapError
    from .geography import Geography
    from .io import read_areas, read_reports, read_wards
    from .joining import JoinReport, build_cube, join
    from .table import AreaTable, Schema, from_frame
