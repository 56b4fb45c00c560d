"""Arguments of the ``gangmap`` command, shared by its subcommands."""

from __future__ import annotations

import argparse

from .._version import __version__

EPILOG = ("Outputs pass through the disclosure policy (default 'nhs'); see README 'Safe to share'. "
          "Every file is written whole or not at all, and never over an input.")


def policy_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("disclosure (everything written is made safe first)")
    g.add_argument("--policy", default="nhs", choices=["nhs", "threshold", "none"],
                   help="nhs (default: 1-7 hidden, others rounded to 5), threshold (hide below --k, with secondary "
                        "suppression), none (internal only)")
    g.add_argument("--k", type=int, default=None, help="threshold for --policy threshold (default 10)")
    g.add_argument("--allow-unsafe", action="store_true",
                   help="required with --policy none; outputs are stamped UNSUPPRESSED - INTERNAL ONLY")
    g.add_argument("--marking", default="OFFICIAL-SENSITIVE", help="protective marking on outputs")


def input_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("inputs")
    g.add_argument("--areas", "--wards", dest="areas", required=True, metavar="FILE",
                   help="area boundaries: GeoJSON, GeoPackage, Shapefile or zipped Shapefile (ONS columns of any "
                        "vintage); wards unless --geography says otherwise")
    g.add_argument("--reports", required=True, nargs="+", action="extend", metavar="FILE",
                   help="reports: counts by area code or name, records with coordinates, or data.police.uk street "
                        "data (one CSV, several, a folder, a glob or the archive zip); several files of counts "
                        "are read as one (rows numbered on, each file named); repeat to add files")
    g.add_argument("--referrals", metavar="FILE", help="referrals per school (URN) or by home area")
    g.add_argument("--schools", metavar="FILE", help="schools file with GIAS columns (needed for referrals by URN)")
    g.add_argument("--population", metavar="FILE", help="population per area (e.g. children aged 10-17)")
    g.add_argument("--population-label", default=None, metavar="TEXT",
                   help="what the population is, for legends (e.g. 'children aged 10-17')")
    g.add_argument("--lsoa", metavar="FILE",
                   help="for reports coded by LSOA: LSOA boundaries or an ONS LSOA-to-area lookup CSV")
    g.add_argument("--by", choices=["point", "lsoa", "code", "name"], default=None,
                   help="how to place the reports: police.uk rows by their point (default) or their LSOA code "
                        "(needs --lsoa; rows without coordinates are then kept), counts by area code or name")
    g.add_argument("--category", action="append", metavar="NAME",
                   help="keep only this category (crime type / concern); repeat for several")
    g.add_argument("--period", action="append", metavar="YYYY-MM", help="keep only this month; repeat for several")
    g.add_argument("--allow-unmatched", action="store_true",
                   help="go on when rows cannot be placed on an area; outputs then say how many were not placed")
    reading_args(p)


def reading_args(p: argparse.ArgumentParser) -> None:
    """The reader options (:data:`gangmap.io.OPTIONS`): one flag per keyword of the readers, declared once there."""
    from ..io.options import OPTIONS

    g = p.add_argument_group("reading the inputs (when a column or sheet is not detected)")
    for o in OPTIONS:
        if o.metavar is None and "choices" not in o.extra:  # a switch: --no-gss, --count-rows, --month-first
            g.add_argument(o.flag, dest=o.dest, action="store_const", const=o.value, default=None, help=o.help)
        else:
            g.add_argument(o.flag, dest=o.dest, metavar=o.metavar, help=o.help, **{"default": None, **o.extra})


def _join_parser(sub) -> None:
    p = sub.add_parser("join", help="join counts onto areas and write a safe table (CSV or XLSX)",
                       description="Join reports (and optionally referrals and population) onto areas, print the "
                                   "JoinReport accounting for every input row, and write one row per area after "
                                   "applying the disclosure policy.", epilog=EPILOG)
    input_args(p)
    p.add_argument("--out", metavar="FILE", help="write the safe table here (.csv or .xlsx)")
    policy_args(p)


def _map_parser(sub) -> None:
    p = sub.add_parser("map", help="draw an offline choropleth map (one HTML file)",
                       description="Join counts onto areas and write a self-contained HTML map that opens offline. "
                                   "Values are made safe before they reach the map.", epilog=EPILOG)
    input_args(p)
    p.add_argument("--measure", action="append", metavar="LAYER",
                   help="what to map: a count (reports), a measure (reports_rate, reports_eb, reports_rate_lisa, "
                        "need_index ...; an unknown name lists the valid ones); repeat for switchable layers. "
                        "'rate' is short for reports_rate")
    p.add_argument("--scheme", default="quantiles",
                   choices=["quantiles", "natural_breaks", "equal_interval", "box_plot"],
                   help="classification scheme (mapclassify)")
    p.add_argument("--classes", type=int, default=5, help="number of classes (default 5)")
    p.add_argument("--title", help="map title")
    p.add_argument("--labels", action="store_true", help="show area names on the map")
    p.add_argument("--out", required=True, metavar="FILE.html", help="where to write the map")
    p.add_argument("--png", metavar="FILE.png", help="also write a slide image with the same layers")
    policy_args(p)


def _pack_parser(sub) -> None:
    p = sub.add_parser("pack", help="build every map for a meeting from a TOML config",
                       description="Build the maps, slide images, funnel plots, safe tables and an index.html "
                                   "named in CONFIG (see gangmap.pack.config; data/demo/pack.toml is an example). "
                                   "The whole pack is checked as one before it replaces OUT.", epilog=EPILOG)
    p.add_argument("config", metavar="CONFIG", help="pack config (TOML)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (new, empty, or a previous pack)")
    p.add_argument("--allow-unsafe", action="store_true",
                   help="needed when the config says policy = \"none\" (a config file cannot turn suppression off)")
    p.add_argument("--allow-unmatched", action="store_true",
                   help="go on when input rows cannot be placed; every output then says how many were not placed")


def _audit_parser(sub) -> None:
    p = sub.add_parser("audit", help="check a pack as an attacker would: what can be worked out from it",
                       description="Read back every published file of PACK_DIR (CSV, XLSX cells, the data in HTML "
                                   "maps, the index) and, given the raw inputs (--config), report the tightest range "
                                   "a reader gets for every hidden or rounded count. Exit status 1 when any range "
                                   "falls short.", epilog=EPILOG)
    p.add_argument("pack_dir", metavar="PACK_DIR", help="the pack folder as published")
    p.add_argument("--config", metavar="CONFIG", help="the pack config, to compare with the raw inputs")
    p.add_argument("--min-range", type=int, default=3, help="possible values every hidden count must keep (3)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gangmap", epilog=EPILOG,
        description="Small-area risk mapping: join report and referral counts onto areas, make them safe to "
                    "share and draw offline maps.")
    parser.add_argument("--version", action="version", version=f"gangmap {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("demo", help="build the demo map pack from the fictional county",
                       description="Build the demo meeting pack of the fictional county (Wyvernshire) into DIR.",
                       epilog=EPILOG)
    p.add_argument("--out", default="demo-output", metavar="DIR", help="output folder (default demo-output)")
    _join_parser(sub)
    _map_parser(sub)
    _pack_parser(sub)
    _audit_parser(sub)
    from ..fetch import add_cli

    add_cli(sub)
    return parser
