"""Joining: put every input row on an area, and account for each one."""

from __future__ import annotations

from .core import (  # noqa: F401
    SourceReport,
    JoinReport,
    normalise_name,
    place,
    join,
    period_label,
)
from .bridge import (  # noqa: F401
    GSS_RE,
    LAST_2011,
    BridgeWarning,
    VintageGuess,
    detect_vintage,
    BridgeReport,
    lsoa_to_ward,
    apply_bridge,
    interpolate_counts,
)
