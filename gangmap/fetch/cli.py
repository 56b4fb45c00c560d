"""The ``gangmap fetch`` command family: boundaries, police, population, schools.

Why one family? The four public inputs of a pack are fetched the same way
(one download client, cached and checksummed files with provenance
sidecars, one-line errors naming the URL and the fix), so they share one
command with one set of network options. :func:`add_cli` registers it on the
``gangmap`` parser; each subcommand prints what it wrote and the licence
attribution to carry on the maps.
"""

from __future__ import annotations

import argparse

from .options import network_args

__all__ = ["add_cli"]

EPILOG = ("Everything fetched is public (Open Government Licence v3.0). Files are written atomically "
          "with a <file>.source.json sidecar (source URL, date, SHA-256, licence); reruns reuse them "
          "when the checksums match (--refresh downloads again).")


def add_cli(subparsers) -> argparse.ArgumentParser:
    """Register ``gangmap fetch {boundaries,police,population,schools}`` on ``subparsers``.

    Sets ``func`` on the parsed arguments: ``args.func(args) -> int``.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="gangmap")
    >>> _ = add_cli(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["fetch", "police", "--force", "northamptonshire", "--from", "2017-03",
    ...                           "--to", "2019-02", "--out", "police"])
    >>> args.force, args.source, args.func.__name__
    (['northamptonshire'], 'archive', 'cmd_police')
    """
    from .boundaries import add_fetch_parser

    p = subparsers.add_parser("fetch", help="download public inputs: boundaries, police, population, schools",
                              description="Download the public inputs of a map pack.", epilog=EPILOG)
    actions = p.add_subparsers(dest="fetch_command", metavar="WHAT")
    p.set_defaults(func=lambda args: (p.print_help(), 1)[1])
    add_fetch_parser(actions, "boundaries")
    _police_parser(actions)
    _population_parser(actions)
    _schools_parser(actions)
    return p


def _police_parser(actions) -> None:
    from .police import API_URL, ARCHIVE_URL, MANUAL_PAGE

    f = actions.add_parser(
        "police", help="data.police.uk street-level crime for forces and months",
        description="Write data.police.uk street-level CSVs (YYYY-MM/YYYY-MM-<force>-street.csv, bytes as "
                    "published) and manifest.json, which lists every month a force did not publish "
                    "(no data, never 0).",
        epilog=f"Archives: {ARCHIVE_URL} (YYYY-MM.zip holds the 36 months to YYYY-MM). API: "
               f"{API_URL}crimes-street/all-crime. By hand: {MANUAL_PAGE}. Open Government Licence v3.0.")
    f.add_argument("--force", nargs="+", required=True, metavar="ID",
                   help="force ids as data.police.uk spells them, e.g. northamptonshire")
    f.add_argument("--from", dest="start", required=True, metavar="YYYY-MM", help="first month")
    f.add_argument("--to", dest="end", required=True, metavar="YYYY-MM", help="last month")
    f.add_argument("--out", required=True, metavar="DIR", help="folder to write the monthly files into")
    f.add_argument("--source", choices=["archive", "api"], default="archive",
                   help="monthly archives (default; files as published) or the API (needs --area)")
    f.add_argument("--archive", metavar="ZIP|URL|latest",
                   help="use this one archive (a zip already downloaded, a URL or 'latest')")
    f.add_argument("--area", metavar="FILE", help="for --source api: boundaries whose outline is queried")
    f.add_argument("--combined", metavar="FILE",
                   help="also write every month into one CSV (header once, rows unchanged)")
    f.add_argument("--base-url", default=ARCHIVE_URL, metavar="URL", help="archives root")
    f.add_argument("--api-url", default=API_URL, metavar="URL", help="API root")
    network_args(f, cache=True)
    f.set_defaults(func=cmd_police)


def cmd_police(args) -> int:
    """Run ``gangmap fetch police``."""
    from .police import ATTRIBUTION, combine_police, fetch_police

    res = fetch_police(args.force, args.start, args.end, args.out, source=args.source,
                       base_url=args.base_url, api_url=args.api_url, archive=args.archive, area=args.area,
                       cache_dir=args.cache, timeout=args.timeout, retries=args.retries,
                       refresh=args.refresh)
    print(res.summary())
    print(f"  manifest: {res.manifest}")
    if args.combined:
        print(f"  combined: {combine_police(res.out_dir, args.combined)}")
    print(f"  {ATTRIBUTION}")
    return 0


def _population_parser(actions) -> None:
    from .population import DATASET, DATASET_PAGE, NOMIS_URL

    f = actions.add_parser(
        "population", help="ONS small-area population by single year of age, summed per ward",
        description="Sum ONS mid-year estimates by single year of age (Nomis) over --age for each area of "
                    "--wards: ward estimates when Nomis has them for every area, else LSOA estimates "
                    "assigned through --lookup (ONS best fit) or --lsoa (gangmap's bridge). Writes "
                    "ward_code,population and a sidecar.",
        epilog=f"Dataset {DATASET}: {DATASET_PAGE}. Source: Office for National Statistics licensed under "
               "the Open Government Licence v3.0.")
    f.add_argument("--age", default="10-17", help="age or range, e.g. 10-17 (default)")
    f.add_argument("--year", type=int, required=True, help="mid-year of the estimates, e.g. 2020")
    f.add_argument("--wards", required=True, metavar="FILE", help="the boundaries the map uses")
    f.add_argument("--out", required=True, metavar="FILE", help="CSV to write (ward_code,population)")
    f.add_argument("--lsoa", metavar="FILE", help="LSOA boundaries, for the LSOA route (best-fit bridge)")
    f.add_argument("--lookup", metavar="FILE", help="ONS LSOA-to-ward best-fit lookup CSV (LSOA route)")
    f.add_argument("--bridge", choices=["best-fit", "area"], default="best-fit",
                   help="with --lsoa: each LSOA wholly to one ward (best-fit, default; a small ward may get "
                        "none) or split by overlapping area (every ward gets a share)")
    f.add_argument("--dataset", default=DATASET, help=f"Nomis dataset (default {DATASET})")
    f.add_argument("--base-url", default=NOMIS_URL, metavar="URL", help="Nomis API root")
    network_args(f)
    f.set_defaults(func=cmd_population)


def cmd_population(args) -> int:
    """Run ``gangmap fetch population``."""
    from .population import ATTRIBUTION, fetch_population

    res = fetch_population(args.wards, args.out, ages=args.age, year=args.year, lsoa=args.lsoa,
                           lookup=args.lookup, bridge=args.bridge, dataset=args.dataset, base_url=args.base_url,
                           timeout=args.timeout, retries=args.retries)
    print(res.summary())
    print(f"  {ATTRIBUTION}")
    return 0


def _schools_parser(actions) -> None:
    from .schools import GIAS_PAGE, GIAS_URL

    f = actions.add_parser(
        "schools", help="open schools of some local authorities (GIAS), with URN, location and ward",
        description="Keep the open establishments of --la from the Get Information about Schools extract "
                    "(cp1252 as published) and write them as UTF-8 CSV with GIAS column names.",
        epilog=f"Extract: {GIAS_URL}edubasealldataYYYYMMDD.csv (page {GIAS_PAGE}). Open Government "
               "Licence v3.0.")
    f.add_argument("--la", nargs="+", required=True, metavar="CODE",
                   help="DfE LA codes, e.g. 928 940 941 (Northamptonshire, North and West Northamptonshire)")
    f.add_argument("--out", required=True, metavar="FILE", help="CSV to write")
    f.add_argument("--date", metavar="YYYYMMDD", help="extract date (default: the latest of the last week)")
    f.add_argument("--extract", metavar="FILE", help="a GIAS extract already downloaded (no network)")
    f.add_argument("--phase", nargs="+", metavar="NAME", help="keep only these phases, e.g. Secondary")
    f.add_argument("--include-closed", action="store_true", help="keep closed establishments too")
    f.add_argument("--base-url", default=GIAS_URL, metavar="URL", help="GIAS downloads root")
    network_args(f, cache=True)
    f.set_defaults(func=cmd_schools)


def cmd_schools(args) -> int:
    """Run ``gangmap fetch schools``."""
    from .schools import ATTRIBUTION, fetch_schools

    res = fetch_schools(args.la, args.out, day=args.date, extract=args.extract, phases=args.phase,
                        include_closed=args.include_closed, base_url=args.base_url, cache_dir=args.cache,
                        timeout=args.timeout, retries=args.retries, refresh=args.refresh)
    print(res.summary())
    print(f"  {ATTRIBUTION}")
    return 0
