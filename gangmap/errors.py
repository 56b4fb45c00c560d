"""Exception types raised by gangmap.

Every error gangmap raises on bad input is a :class:`GangmapError`, so a caller
(or the CLI) can catch one type. Each message names the file, the row or
column involved, and what to do next.
"""

from __future__ import annotations


class GangmapError(ValueError):
    """Base class for every error gangmap raises about its inputs or settings."""


class BoundaryError(GangmapError):
    """Ward boundaries cannot be used (no CRS, duplicate codes, bad codes...)."""


class InputError(GangmapError):
    """A counts, records, schools or population input cannot be read."""


class DisclosureError(GangmapError):
    """An export was attempted on a table that has not been made safe."""


class ConfigError(GangmapError):
    """A configuration file or argument is wrong."""


class DownloadError(GangmapError):
    """Public data (boundaries, police data, population, schools) could not be downloaded."""


class OutputError(GangmapError):
    """An output could not be written (disk full, read-only folder, permission): nothing was left half-written."""


class SchemaError(GangmapError):
    """A table's column roles are missing, contradictory or undeclared (see gangmap.table)."""


def where(source: str | None) -> str:
    """Return ``"<source>: "`` for message prefixes, or ``""`` when unknown."""
    return f"{source}: " if source else ""
