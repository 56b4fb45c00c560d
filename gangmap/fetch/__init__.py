"""Downloads of public data (ONS boundaries)."""

from __future__ import annotations

from .boundaries import (  # noqa: F401
    DEFAULT_BASE_URL,
    PORTAL_URL,
    RESOLUTIONS,
    KNOWN_SERVICES,
    LICENCE,
    LICENCE_URL,
    USER_AGENT,
    attribution,
    service_name,
    layer_url,
    normalise_lad_codes,
    output_path,
    sidecar_path,
    read_source,
    fetch_wards,
    add_cli,
    cmd_fetch,
)
from . import boundaries  # noqa: F401
