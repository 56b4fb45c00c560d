"""Map packs: every map, image and table for a meeting from one config."""

from __future__ import annotations

from .core import (  # noqa: F401
    CAVEATS,
    METHODS,
    NAMES,
    OVERLAYS,
    Funnels,
    PackConfig,
    available,
    build_demo,
    build_pack,
    counts,
    ensure,
    ensure_all,
    funnels,
    load_config,
    safe_table,
)
