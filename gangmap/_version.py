"""The one source of gangmap's version (pyproject.toml reads it; so does ``gangmap --version``)."""

__version__ = "0.2.0"
