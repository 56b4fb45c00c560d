"""gangmap: small-area risk mapping for JupyterLab.

Join anonymised report counts and school-referral counts onto area
boundaries (wards by default), make them safe to share, compute risk
measures and draw interactive maps that open offline.

The pipeline, one subpackage per concern::

    io -> joining -> measures -> planning -> disclosure -> maps / export
"""

__version__ = "0.1.0"

from . import demo, disclosure, errors, export, io, maps, measures, pack, planning  # noqa: E402
from .disclosure import make_safe  # noqa: E402
from .errors import GangmapError  # noqa: E402
from .io import intake  # noqa: E402
from .io.boundaries import read_wards  # noqa: E402
from .joining import JoinReport, join  # noqa: E402

__all__ = ["__version__", "read_wards", "join", "JoinReport", "make_safe", "GangmapError", "errors",
           "io", "intake", "disclosure", "measures", "maps", "export", "demo", "pack", "planning"]
