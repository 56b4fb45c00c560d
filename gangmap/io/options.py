"""Reader options: each keyword a reader takes, its ``gangmap`` command-line flag, and the hint both spell.

Why one table? An error that says "Pass sheet='NAME'" helps a notebook user and
leaves a command-line user stuck, and a flag added to the command but not to
the messages (or the other way round) is found only by the user. Here each
option is declared once: :mod:`gangmap.cli.args` builds its flags from
:data:`OPTIONS`, and messages name the option with :func:`pass_hint`, which
gives the Python keyword and, where the command has one, the flag.

Examples
--------
>>> pass_hint("reports", "count", "Total")
"count='Total' (command line: --count Total)"
>>> pass_hint("population", "sheet", "NAME")
"sheet='NAME' (command line: --population-sheet NAME)"
>>> pass_hint("reports", "lat", "Y")
"lat='Y'"
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from ..geography import GEOGRAPHIES

__all__ = ["Option", "OPTIONS", "INPUTS", "pass_hint", "cli_flag", "options_of"]

#: The inputs of ``gangmap join`` / ``gangmap map`` whose reading can be steered.
INPUTS = ("areas", "reports", "referrals", "population", "schools")
# What the readers call their input in messages (``load_table(what=...)``), by input.
_WHAT = {"reports": "reports", "police.uk CSV": "reports", "police.uk street CSV": "reports",
         "referrals": "referrals", "population": "population", "population table": "population",
         "schools": "schools", "schools file": "schools", "areas": "areas", "boundaries": "areas"}


@dataclass(frozen=True)
class Option:
    """One reader keyword and its command-line flag.

    ``value`` is what a switch (a flag without ``metavar``) passes:
    ``--count-rows`` is ``count=False``, ``--no-gss`` is ``gss=False``.
    ``extra`` holds further :meth:`argparse.ArgumentParser.add_argument`
    settings (choices, default).
    """

    input: str
    param: str
    flag: str
    metavar: str | None
    help: str
    value: Any = None
    extra: dict = field(default_factory=dict)

    @property
    def dest(self) -> str:
        """The attribute of the parsed arguments: ``reports_count`` (``--count`` and ``--count-rows`` share it)."""
        return f"{self.input}_{self.param}"


OPTIONS: tuple[Option, ...] = (
    Option("areas", "level", "--geography", None,
           "what the areas are (default ward); words on maps and reports follow it",
           extra={"choices": tuple(GEOGRAPHIES), "default": "ward"}),
    Option("areas", "gss", "--no-gss", None,
           "accept area codes that are not ONS GSS codes (police neighbourhoods, your own areas)", value=False),
    Option("areas", "code", "--area-code", "COLUMN", "the areas' code column, when not detected (WD24CD ...)"),
    Option("areas", "name", "--area-name", "COLUMN", "the areas' name column, when not detected"),
    Option("areas", "parent_code", "--parent-code", "COLUMN",
           "the areas' district code column, when not detected (LAD24CD ...)"),
    Option("areas", "crs", "--crs", "EPSG", "the CRS of a boundary file that has none (27700 or 4326)"),
    Option("areas", "allow_overlaps", "--allow-overlaps", None,
           "accept areas that overlap (a warning instead of an error)", value=True),
    Option("reports", "count", "--count", "COLUMN", "the reports' count column, when not detected"),
    Option("reports", "count", "--count-rows", None,
           "each row of the reports is one report (a numeric column is not a count)", value=False),
    Option("reports", "code", "--code", "COLUMN", "the reports' area code column, when not detected"),
    Option("reports", "name", "--name", "COLUMN", "the reports' area name column, when not detected"),
    Option("reports", "period", "--period-column", "COLUMN", "the reports' month column, when not detected"),
    Option("reports", "dayfirst", "--day-first", None,
           "the reports' dates like 01/03/2018 are day/month/year (the default when no date shows the order)",
           value=True),
    Option("reports", "dayfirst", "--month-first", None,
           "the reports' dates like 03/01/2018 are month/day/year (US)", value=False),
    Option("reports", "sheet", "--sheet", "NAME", "the worksheet of a reports workbook with several sheets"),
    Option("referrals", "count", "--referrals-count", "COLUMN", "the referrals' count column, when not detected"),
    Option("referrals", "count", "--referrals-count-rows", None,
           "each row of the referrals is one referral", value=False),
    Option("referrals", "sheet", "--referrals-sheet", "NAME", "the worksheet of a referrals workbook"),
    Option("population", "population", "--population-column", "COLUMN",
           "the population column, when not detected"),
    Option("population", "sheet", "--population-sheet", "NAME", "the worksheet of a population workbook"),
    Option("schools", "sheet", "--schools-sheet", "NAME", "the worksheet of a schools workbook"),
)


def _input(kind: str) -> str:
    return _WHAT.get(kind, kind)


def cli_flag(kind: str, param: str, value: Any = None) -> str | None:
    """The command-line spelling of ``param=value`` for the input ``kind`` (``"--count Total"``), or None."""
    for o in OPTIONS:
        if o.input == _input(kind) and o.param == param:
            if o.metavar is None and value is not None and value == o.value:
                return o.flag
            if o.metavar is not None and value is not False:
                return f"{o.flag} {shlex.quote(str(value if value is not None else o.metavar))}"
    return None


def pass_hint(kind: str, param: str, value: Any = None) -> str:
    """``param=value`` as Python, followed by the command-line flag when there is one."""
    shown = f"{param}={value!r}" if value is not None else f"{param}="
    flag = cli_flag(kind, param, value)
    return f"{shown} (command line: {flag})" if flag else shown


def options_of(args: Any, kind: str) -> dict:
    """The reader keywords given on the command line for the input ``kind`` (parsed ``args``)."""
    out: dict = {}
    for o in OPTIONS:
        value = getattr(args, o.dest, None) if o.input == kind else None
        if value is not None:
            out[o.param] = value
    return out
