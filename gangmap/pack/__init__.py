"""Map packs: every map, image and table for a meeting from one config."""

from __future__ import annotations

from .core import (  # noqa: F401
    NAMES,
    OVERLAYS,
    METHODS,
    CAVEATS,
    PackConfig,
    load_config,
    ensure,
    ensure_all,
    available,
    counts,
    safe_table,
    Funnels,
    funnels,
    build_pack,
    build_demo,
)
