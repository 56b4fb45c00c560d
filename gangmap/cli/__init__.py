"""The ``gangmap`` command: a thin layer over the package's functions.

Every subcommand calls the functions a notebook would; this package only
parses arguments, prints reports and turns errors into one line naming the
file and the fix (exit status 2), never a traceback. ``gangmap --version``
answers before anything else is imported.

Modules: :mod:`.args` (argument groups shared by the commands),
:mod:`.commands` (one function per command).
"""

from __future__ import annotations

import sys

from .._version import __version__

__all__ = ["main", "build_parser"]


def build_parser():
    from .args import build_parser as build

    return build()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv in (["--version"], ["-V"]):
        print(f"gangmap {__version__}")
        return 0
    from .commands import run

    return run(build_parser(), argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
