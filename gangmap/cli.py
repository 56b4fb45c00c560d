"""The ``gangmap`` command: a thin layer over the package functions.

Every subcommand calls the same functions a notebook would. Errors about the
inputs are printed as one line naming the file and the fix (exit status 2),
never as a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._version import __version__
from .errors import GangmapError

EPILOG = "Outputs pass through the disclosure policy (default 'nhs'); see README 'Safe to share'."


def _policy_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("disclosure (everything written is made safe first)")
    g.add_argument("--policy", default="nhs", choices=["nhs", "threshold", "none"],
                   help="disclosure policy: nhs (default: 1-7 suppressed, others rounded to 5), "
                        "threshold (suppress below --k, with secondary suppression), none (internal only)")
    g.add_argument("--k", type=int, default=10, help="threshold for --policy threshold (default 10)")
    g.add_argument("--allow-unsafe", action="store_true",
                   help="required with --policy none; outputs are stamped UNSUPPRESSED - INTERNAL ONLY")
    g.add_argument("--marking", default="OFFICIAL-SENSITIVE", help="protective marking on outputs")


def _input_args(p: argparse.ArgumentParser, reports_required: bool = True) -> None:
    p.add_argument("--wards", required=True, metavar="FILE",
                   help="ward boundaries: GeoJSON, GeoPackage, Shapefile or zipped Shapefile (ONS columns of any vintage)")
    p.add_argument("--reports", required=reports_required, metavar="FILE",
                   help="reports: counts by ward code or name, records with coordinates, or a data.police.uk street CSV")
    p.add_argument("--referrals", metavar="FILE", help="referrals per school (URN) or by home ward")
    p.add_argument("--schools", metavar="FILE", help="schools file with GIAS columns (needed for referrals by URN)")
    p.add_argument("--population", metavar="FILE", help="population per ward (e.g. children aged 10-17)")
    p.add_argument("--lsoa", metavar="FILE",
                   help="for reports coded by LSOA: LSOA boundaries (GeoJSON...) or an ONS LSOA-to-ward lookup CSV")
    p.add_argument("--category", action="append", metavar="NAME",
                   help="keep only this category (crime type / concern); repeat for several")
    p.add_argument("--period", action="append", metavar="YYYY-MM", help="keep only this month; repeat for several")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gangmap",
        description="Ward-level risk mapping: join report and referral counts onto ward boundaries, "
                    "make them safe to share and draw offline maps.",
        epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"gangmap {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("demo", help="build the demo maps from the fictional county",
                       description="Generate the fictional demo county (Wyvernshire) and build its maps "
                                   "into DIR. Prints where they are.", epilog=EPILOG)
    p.add_argument("--out", default="demo-output", metavar="DIR", help="output folder (default demo-output)")

    p = sub.add_parser("join", help="join counts onto wards and write a safe CSV table",
                       description="Join reports (and optionally referrals and population) onto wards, print "
                                   "the JoinReport accounting for every input row, and write one row per ward "
                                   "to a CSV file after applying the disclosure policy.", epilog=EPILOG)
    _input_args(p)
    p.add_argument("--out", metavar="FILE.csv", help="write the safe ward table here (CSV or .xlsx)")
    _policy_args(p)

    p = sub.add_parser("map", help="draw an offline choropleth map (one HTML file)",
                       description="Join counts onto wards and write a self-contained HTML map that opens "
                                   "offline. Values are made safe before they reach the map.", epilog=EPILOG)
    _input_args(p)
    p.add_argument("--measure", default="reports", choices=["reports", "rate", "referrals", "referrals_rate"],
                   help="what to map: reports (count), rate (reports per 1,000 population; needs "
                        "--population), referrals, referrals_rate")
    p.add_argument("--scheme", default="quantiles",
                   choices=["quantiles", "natural_breaks", "equal_interval", "box_plot"],
                   help="classification scheme (mapclassify)")
    p.add_argument("--classes", type=int, default=5, help="number of classes (default 5)")
    p.add_argument("--title", help="map title")
    p.add_argument("--out", required=True, metavar="FILE.html", help="where to write the map")
    _policy_args(p)

    p = sub.add_parser("pack", help="build every map for a meeting from a TOML config",
                       description="Build the maps, slide images, funnel plots, safe summary tables and an "
                                   "index.html (thumbnails, summary, methods and caveats) named in CONFIG. "
                                   "See gangmap.pack for the config format; data/demo/pack.toml is an example.",
                       epilog=EPILOG)
    p.add_argument("config", metavar="CONFIG", help="pack config (TOML)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--allow-unsafe", action="store_true",
                   help="needed when the config says policy = \"none\"; outputs are stamped "
                        "UNSUPPRESSED - INTERNAL ONLY (a config file cannot turn suppression off)")

    from .fetch.boundaries import add_cli

    add_cli(sub)  # gangmap boundaries fetch
    return parser


def _safe(table, args, counts, derived=None):
    from .disclosure import make_safe
    from .joining.core import period_label

    opts = {"k": args.k} if args.policy == "threshold" else {}
    return make_safe(table, counts=counts, derived=derived, policy=args.policy,
                     allow_unsafe=args.allow_unsafe, marking=args.marking,
                     period=period_label(table.attrs.get("periods")), **opts)


def _join(args):
    from .joining.core import join

    table, report = join(args.wards, reports=args.reports, referrals=args.referrals,
                         population=args.population, schools=args.schools,
                         category=args.category, period=args.period, lsoa=args.lsoa)
    print(report.summary())
    return table


def _counts(table) -> list[str]:
    return [c for c in ("reports", "referrals") if c in table]


def cmd_join(args) -> int:
    from .export import write_table

    table = _join(args)
    if args.out:
        safe = _safe(table, args, _counts(table))
        path = write_table(safe, args.out)
        print(f"wrote {path} ({len(table)} wards, policy {safe.policy.name})")
    return 0


def cmd_map(args) -> int:
    from . import maps, measures

    table = _join(args)
    column = {"rate": "reports_rate"}.get(args.measure, args.measure)
    if column.endswith("_rate"):
        base = column[: -len("_rate")]
        if "population" not in table:
            raise GangmapError(f"--measure {args.measure} needs --population FILE (people per ward).")
        if base not in table:
            raise GangmapError(f"--measure {args.measure} needs --{base} FILE.")
        table = measures.rate(table, base, "population")
    elif column not in table:
        raise GangmapError(f"--measure {args.measure} needs --{column} FILE.")
    safe = _safe(table, args, _counts(table))
    title = args.title or _title(column, args)
    also = [c for c in _counts(table) if c != column]
    m = maps.choropleth(safe, column, title=title, subtitle=_subtitle(table, args),
                        scheme=args.scheme, k=args.classes, names=_NAMES, also=also)
    path = m.save(args.out)
    print(f"wrote {path} ({m.size / 1024:,.0f} KB, opens offline)")
    return 0


_NAMES = {"reports": "Reports", "referrals": "Referrals", "reports_rate": "Reports per 1,000",
          "referrals_rate": "Referrals per 1,000"}


def _title(column, args) -> str:
    what = _NAMES.get(column, column)
    if args.category:
        what += " – " + ", ".join(args.category)
    return f"{what} by ward"


def _subtitle(table, args) -> str:
    from .joining.core import period_label

    return f"{len(table)} wards · {period_label(table.attrs.get('periods'))}"


def cmd_demo(args) -> int:
    from .pack import build_demo

    out = Path(args.out)
    files = build_demo(out)
    print("Demo map pack (fictional county of Wyvernshire) written to:")
    for f in files:
        if f.suffix == ".html":
            print(f"  {f.resolve()}")
    print(f"  (+ {sum(f.suffix != '.html' for f in files)} images and tables in {out.resolve()})")
    print(f"Start with {files[0].resolve()}; every file opens offline.")
    return 0


def cmd_pack(args) -> int:
    from .pack import build_pack

    def show(name, report):
        print(f"[{name}]\n{report.summary()}")

    files = build_pack(args.config, args.out, allow_unsafe=args.allow_unsafe, on_report=show)
    print(f"Map pack written ({len(files)} files); open {files[0].resolve()}")
    return 0


COMMANDS = {"demo": cmd_demo, "join": cmd_join, "map": cmd_map, "pack": cmd_pack}


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 1
    try:
        return (getattr(args, "func", None) or COMMANDS[args.command])(args)
    except GangmapError as exc:
        print(f"gangmap {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
