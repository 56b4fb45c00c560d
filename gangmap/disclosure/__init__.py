"""Disclosure control: the only way a table becomes safe to share."""

from __future__ import annotations

from .core import (  # noqa: F401
    UNSAFE_STAMP,
    IDENTIFIERS,
    Policy,
    POLICIES,
    get_policy,
    Provenance,
    SafeTable,
    is_safe,
    require_safe,
    make_safe,
    audit,
)
