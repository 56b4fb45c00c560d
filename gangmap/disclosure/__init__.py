"""Disclosure control: the only way a table becomes safe to share."""

from __future__ import annotations

from .core import (  # noqa: F401
    IDENTIFIERS,
    POLICIES,
    UNSAFE_STAMP,
    Policy,
    Provenance,
    SafeTable,
    audit,
    get_policy,
    is_safe,
    make_safe,
    require_safe,
)
