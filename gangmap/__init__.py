"""gangmap: ward-level risk mapping for JupyterLab.

Join anonymised report counts and school-referral counts onto ward
boundaries, make them safe to share, compute risk measures and draw
interactive maps that open offline.

The pipeline, one module per stage::

    boundaries -> intake -> join -> measures -> planning -> disclosure -> maps / export
"""

__version__ = "0.1.0"

from . import boundaries, classify, demo, disclosure, errors, export, intake, maps, measures, pack, planning  # noqa: E402
from .boundaries import read_wards  # noqa: E402
from .disclosure import make_safe  # noqa: E402
from .errors import GangmapError  # noqa: E402
from .join import JoinReport, join  # noqa: E402

__all__ = ["__version__", "read_wards", "join", "JoinReport", "make_safe", "GangmapError", "errors",
           "boundaries", "intake", "disclosure", "measures", "maps", "export", "classify", "demo", "pack", "planning"]
