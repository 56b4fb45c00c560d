"""Command-line options every ``gangmap fetch`` subcommand shares (one home for their wording)."""

from __future__ import annotations

import argparse


def network_args(p: argparse.ArgumentParser, *, cache: bool = False) -> None:
    """Add ``--timeout``, ``--retries``, ``--refresh`` (and ``--cache DIR`` when asked) to ``p``."""
    p.add_argument("--timeout", type=float, default=30, metavar="SECONDS",
                   help="seconds to wait for each answer (default 30)")
    p.add_argument("--retries", type=int, default=3,
                   help="extra attempts after network errors, timeouts and server errors (default 3)")
    p.add_argument("--refresh", action="store_true", help="download again even if a copy exists")
    if cache:
        p.add_argument("--cache", metavar="DIR",
                       help="folder for large downloads kept between runs (default $GANGMAP_CACHE, "
                            "else ~/.cache/gangmap)")
