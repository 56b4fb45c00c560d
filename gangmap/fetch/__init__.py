"""Downloads of public data: ward boundaries (ONS), police.uk crime, ONS population, GIAS schools.

Every fetcher goes through one :class:`DownloadClient` (timeouts, retries with
backoff, one-line errors naming the manual download page), writes files
atomically with a ``<file>.source.json`` sidecar (source URL, date, SHA-256,
licence) and reuses them when their checksum still matches. The ``gangmap
fetch`` command family is registered by :func:`add_cli`.
"""

from __future__ import annotations

from . import boundaries  # noqa: F401
from .boundaries import (  # noqa: F401
    DEFAULT_BASE_URL,
    KNOWN_SERVICES,
    LICENCE,
    LICENCE_URL,
    PORTAL_URL,
    RESOLUTIONS,
    USER_AGENT,
    attribution,
    cmd_fetch,
    fetch_wards,
    layer_url,
    normalise_lad_codes,
    output_path,
    read_source,
    service_name,
    sidecar_path,
)
from .cli import add_cli  # noqa: F401
from .client import DownloadClient, cached, default_cache_dir, sha256_file  # noqa: F401
from .police import PoliceFetch, combine_police, fetch_police, months_between, read_manifest  # noqa: F401
from .population import PopulationFetch, fetch_population  # noqa: F401
from .schools import SchoolsFetch, fetch_schools  # noqa: F401

__all__ = ["add_cli", "DownloadClient", "cached", "default_cache_dir", "sha256_file", "sidecar_path",
           "fetch_wards", "read_source", "attribution", "layer_url", "service_name", "output_path",
           "normalise_lad_codes", "fetch_police", "PoliceFetch", "months_between", "read_manifest",
           "combine_police", "fetch_population", "PopulationFetch", "fetch_schools", "SchoolsFetch",
           "DEFAULT_BASE_URL", "KNOWN_SERVICES", "LICENCE", "LICENCE_URL", "PORTAL_URL", "RESOLUTIONS",
           "USER_AGENT", "cmd_fetch"]
