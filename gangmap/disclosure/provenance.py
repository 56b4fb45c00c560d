"""Provenance: where a safe table came from, printed in every output's footer.

Kept apart from the policy so that exporters and maps can print the footer
without knowing how suppression works. The generation time honours
``SOURCE_DATE_EPOCH`` so that builds can be reproduced byte for byte.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["Provenance", "now", "version"]


def version() -> str:
    """The installed gangmap version (``"0+unknown"`` while the package is being assembled)."""
    try:
        from gangmap import __version__
    except Exception:  # pragma: no cover - package being assembled
        return "0+unknown"
    return str(__version__)


def now() -> str:
    """UTC time to the second, or ``SOURCE_DATE_EPOCH`` when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        t = datetime.fromtimestamp(int(epoch), tz=UTC)
    else:
        t = datetime.now(UTC)
    return t.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Provenance:
    """Where a SafeTable came from: period, policy, time, version and marking.

    Examples
    --------
    >>> p = Provenance(period="2018-03", policy="nhs", generated="2026-11-21T10:00:00Z",
    ...                version="0.1.0", marking="OFFICIAL-SENSITIVE",
    ...                summary="0 stays 0; 1–7 suppressed; others rounded to 5")
    >>> p.footer()  # doctest: +NORMALIZE_WHITESPACE
    'Data: 2018-03 · Disclosure: nhs (0 stays 0; 1–7 suppressed; others rounded to 5) ·
     Generated 2026-11-21 10:00 UTC · gangmap 0.1.0 · OFFICIAL-SENSITIVE'
    """

    period: str | None
    policy: str
    generated: str
    version: str
    marking: str
    summary: str = ""
    stamp: str | None = None
    #: What the join could not place, as published ("about 35 reports (rounded to 5)"; never the number of rows
    #: or a total the rule would hide): carried into every footer. The JoinReport keeps the exact figures.
    not_placed: str | None = None
    #: The word for an area in the footer ("ward", "LSOA").
    area: str = "area"

    def footer(self) -> str:
        """One line for map footers and table notes."""
        parts = []
        if self.period:
            parts.append(f"Data: {self.period}")
        parts.append(f"Disclosure: {self.policy}" + (f" ({self.summary})" if self.summary else ""))
        if self.not_placed:
            parts.append(f"Not placed on any {self.area}: {self.not_placed}")
        when = self.generated.replace("T", " ").rstrip("Z")
        parts.append(f"Generated {when[:16]} UTC")
        parts.append(f"gangmap {self.version}")
        if self.marking:
            parts.append(self.marking)
        return " · ".join(parts)
