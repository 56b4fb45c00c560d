"""Downloads of public data (ONS boundaries)."""

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
    add_cli,
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
