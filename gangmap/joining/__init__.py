"""Joining: put every input row on an area, and account for each one."""

from __future__ import annotations

from .bridge import (  # noqa: F401
    GSS_RE,
    LAST_2011,
    BridgeReport,
    BridgeWarning,
    VintageGuess,
    apply_bridge,
    detect_vintage,
    interpolate_counts,
    lsoa_to_ward,
)
from .core import (  # noqa: F401
    JoinReport,
    SourceReport,
    join,
    normalise_name,
    period_label,
    place,
)
