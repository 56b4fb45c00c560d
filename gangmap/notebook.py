"""Notebook parameters: one switch for the demo, explicit inputs otherwise, paths that resolve.

The first release let an unset parameter fall back quietly to the fictional
demo file, so a notebook run on real wards printed new hubs at fictional
schools; and paths resolved against the working directory, so the README's
papermill command failed from the repository root. The rules now:

* ``use_demo=True`` takes every input from the shipped fictional county, and
  an input also set by hand is an error (which did you mean?);
* ``use_demo=False`` takes only what is given: the required inputs must be
  set, each optional input left ``None`` makes the sections that need it
  skip with a visible note (:meth:`NotebookInputs.skip`);
* relative paths resolve against ``base`` if given, else the notebook's own
  folder (JupyterLab tells the kernel through ``JPY_SESSION_NAME``), else the
  working directory (papermill: run it with ``--cwd notebooks``);
* outputs go to a folder beside the notebook (``output/`` by default), which
  JupyterLab's file browser shows and git ignores.

Examples
--------
>>> nb = notebook_inputs(use_demo=True, required=("areas", "reports"))
>>> nb.demo, nb.areas.name
(True, 'wards.geojson')
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

__all__ = ["NotebookInputs", "notebook_inputs", "notebook_folder"]

#: Inputs a notebook may name, and the demo file for each.
_DEMO_KEYS = {"areas": "wards", "reports": "reports", "referrals": "referrals", "schools": "schools",
              "population": "population", "campaign": "campaign", "pilot_hub": "pilot_hub"}


def notebook_folder(base: str | Path | None = None) -> Path:
    """The folder relative paths resolve against (see the module docstring)."""
    if base is not None:
        return Path(base).expanduser().resolve()
    session = os.environ.get("JPY_SESSION_NAME")
    if session and Path(session).suffix == ".ipynb" and Path(session).is_absolute():
        return Path(session).parent
    return Path.cwd()


@dataclass(frozen=True)
class NotebookInputs:
    """The resolved inputs of a notebook run: ``nb.reports`` is a Path, or None when not given."""

    base: Path
    demo: bool
    paths: Mapping[str, Path | None]
    output: Path
    skipped: list[str] = field(default_factory=list)

    def __getattr__(self, name: str) -> Path | None:
        paths = object.__getattribute__(self, "paths")
        if name in paths:
            return paths[name]
        raise AttributeError(name)

    def _repr_html_(self) -> str:  # notebooks
        from .reprs import card

        facts = [("data", "demo (synthetic)" if self.demo else str(self.base)), ("output folder", self.output),
                 *((name, path if path is not None else "not given") for name, path in self.paths.items())]
        return card("Notebook inputs", facts, " ".join(self.skipped))

    def pack_inputs(self) -> dict[str, str]:
        """The data inputs as a pack config's ``[inputs]`` (campaign and hubs belong to ``[planning]``)."""
        keys = ("areas", "reports", "referrals", "schools", "population")
        return {k: str(self.paths[k]) for k in keys if self.paths.get(k) is not None}

    def has(self, *names: str) -> bool:
        return all(self.paths.get(n) is not None for n in names)

    def skip(self, section: str, *needs: str) -> bool:
        """True (and a visible note) when ``section`` needs an input that was not given."""
        missing = [n for n in needs if self.paths.get(n) is None]
        if not missing:
            return False
        params = ", ".join(n.upper() for n in missing)
        note = f"Skipped: {section} needs {params}. Set {params} in the parameters cell to include it."
        self.skipped.append(note)
        _show_note(note)
        return True

    def skip_if(self, condition: bool, section: str, why: str) -> bool:
        """True (and a visible note) when ``condition`` holds: ``section`` cannot run on these inputs, ``why``."""
        if condition:
            note = f"Skipped: {section} needs {why}."
            self.skipped.append(note)
            _show_note(note)
        return bool(condition)

    def measure(self, table: Any, wanted: str, *fallbacks: str) -> str:
        """``wanted`` if ``table`` has it, else the first of ``fallbacks`` it has, said in a visible note.

        A measure such as ``need_index`` needs referrals and a population; with
        only areas and reports the notebook carries on with a measure the
        inputs allow, and says so, rather than stopping.
        """
        if wanted in table:
            return wanted
        for alt in fallbacks:
            if alt in table:
                note = (f"Skipped: {wanted} cannot be worked out from the inputs given (it needs an input that "
                        f"was not set); this notebook uses {alt} instead. Set the missing inputs to use {wanted}.")
                self.skipped.append(note)
                _show_note(note)
                return alt
        raise ConfigError(f"{wanted!r} is not in the table and neither is any of {list(fallbacks)}; the table has "
                          f"{[c for c in getattr(table, 'columns', []) if c != 'geometry']}. Choose one of those.")

    def __repr__(self) -> str:
        given = ", ".join(f"{k}={v.name}" for k, v in self.paths.items() if v is not None)
        return f"<NotebookInputs {'demo' if self.demo else 'own files'}: {given}; output {self.output}>"


def _show_note(text: str) -> None:
    try:
        from IPython.display import Markdown, display
    except ImportError:  # plain Python: print it
        print(text)
        return
    display(Markdown(f"> **{text}**"))


def _resolve(base: Path, name: str, value: str | Path) -> Path:
    p = Path(value).expanduser()
    p = p if p.is_absolute() else base / p
    if not p.exists():
        raise ConfigError(f"{name.upper()} = {str(value)!r}: no such file ({p}). Relative paths are read from "
                          f"{base} (the notebook's folder; with papermill run `papermill --cwd notebooks ...` "
                          "or pass -p BASE_DIR /path).")
    return p


def notebook_inputs(*, use_demo: bool, base: str | Path | None = None, output: str | Path | None = None,
                    required: Iterable[str] = ("areas", "reports"), **given: str | Path | None) -> NotebookInputs:
    """Resolve a notebook's parameters (see the module docstring).

    Parameters
    ----------
    use_demo : bool
        True: the fictional demo county for every input.
    base : path, optional
        Folder for relative paths (default: the notebook's folder).
    output : path, optional
        Output folder, relative to ``base`` (default ``output``).
    required : names
        Inputs the notebook cannot run without (when ``use_demo`` is False).
    **given
        The inputs by name: ``areas=``, ``reports=``, ``population=`` ...
        (None: not available).
    """
    unknown = [k for k in given if k not in _DEMO_KEYS]
    if unknown:
        raise ConfigError(f"unknown notebook input {unknown[0]!r}; inputs are {', '.join(_DEMO_KEYS)}.")
    folder = notebook_folder(base)
    if use_demo:
        clash = [k.upper() for k, v in given.items() if v is not None]
        if clash:
            raise ConfigError(f"USE_DEMO is True but {', '.join(clash)} is set too: set USE_DEMO = False to use "
                              "your own files, or clear them to run the fictional demo.")
        from .demo import paths as demo_paths

        demo = demo_paths()
        resolved: dict[str, Path | None] = {k: demo[v] for k, v in _DEMO_KEYS.items()}
    else:
        missing = [r.upper() for r in required if given.get(r) is None]
        if missing:
            raise ConfigError(f"{', '.join(missing)} must be set (or set USE_DEMO = True for the fictional demo).")
        resolved = {k: None for k in _DEMO_KEYS}
        resolved.update({k: _resolve(folder, k, v) for k, v in given.items() if v is not None})
    out = Path(output or "output").expanduser()
    out = out if out.is_absolute() else folder / out
    return NotebookInputs(base=folder, demo=bool(use_demo), paths=resolved, output=out)
