"""One function per ``gangmap`` command; each calls the package's public functions."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from ..errors import GangmapError

__all__ = ["run", "COMMANDS"]


def _safe_options(args) -> dict:
    opts = {"policy": args.policy, "allow_unsafe": args.allow_unsafe, "marking": args.marking}
    if args.policy == "threshold" and args.k is not None:
        opts["k"] = args.k
    return opts


def _inputs(args) -> list:
    return [args.areas, *args.reports, args.referrals, args.schools, args.population, args.lsoa]


def _read_options(args, kind: str, geography) -> dict:
    """The reader keywords given for one input (``--count``, ``--sheet`` ...), with the areas' geography."""
    from ..io.options import options_of

    opts = options_of(args, kind)  # --by goes to the join, which tells the reader (and streams police.uk files)
    if opts and kind != "schools":
        opts["geography"] = geography
    return opts


def _input(args, kind: str, geography):
    """One input as given, or read with its reader options (a thin layer over :func:`gangmap.io.read_inputs`)."""
    from .. import io

    value = args.reports if kind == "reports" else getattr(args, kind)
    opts = _read_options(args, kind, geography)
    if kind == "reports":
        return io.reports_input(value, **opts)
    return io.read_inputs(value, kind, **opts) if value is not None and opts else value


def _areas(args):
    """The areas, read with ``read_areas`` keywords from the command line (``--geography``, ``--area-code`` ...)."""
    from .. import io
    from ..io.options import options_of

    opts = options_of(args, "areas")
    crs = opts.get("crs")
    if isinstance(crs, str) and crs.strip().isdigit():
        opts["crs"] = int(crs)
    return io.read_areas(args.areas, **opts)


def _join(args):
    """Read and join the inputs; print the JoinReport; return the table."""
    from ..joining import join

    areas = _areas(args)
    geo = areas.geography
    table, report = join(areas, reports=_input(args, "reports", geo), referrals=_input(args, "referrals", geo),
                         population=_input(args, "population", geo), schools=_input(args, "schools", geo),
                         category=args.category, period=args.period, lsoa=args.lsoa, by=args.by,
                         allow_unmatched=args.allow_unmatched)
    print(report.summary())
    if args.population_label and "population" in table:
        table = table.with_schema(labels={**table.schema.labels, "population": args.population_label})
    return table, report


def _checked_out(args, suffixes: tuple[str, ...]) -> Path:
    from ..outputs import check_not_input

    out = Path(args.out)
    if out.is_dir():
        raise GangmapError(f"--out {out} is a folder; give a file name ending {' or '.join(suffixes)}.")
    if out.suffix.lower() not in suffixes:
        raise GangmapError(f"--out {out}: give a file name ending {' or '.join(suffixes)}.")
    check_not_input(out, _inputs(args), what="--out")
    return out


def cmd_join(args) -> int:
    from ..disclosure import make_safe
    from ..export import write_table

    out = _checked_out(args, (".csv", ".xlsx")) if args.out else None
    table, _ = _join(args)
    if out is not None:
        safe = make_safe(table, **_safe_options(args))
        path = write_table(safe, out)
        print(f"wrote {path} ({table.geography.count_of(len(table))}, policy {safe.policy.name})")
    return 0


def _layers(args, table) -> list[str]:
    from .. import measures

    wanted = args.measure or [table.counts[0]]
    names = [{"rate": "reports_rate"}.get(m, m) for m in wanted]
    return [c for c in names if c in measures.ensure_all(table, names).columns]


def cmd_map(args) -> int:
    from .. import maps, measures
    from ..disclosure import make_safe

    out = _checked_out(args, (".html",))
    table, _ = _join(args)
    layers = _layers(args, table)
    table = measures.ensure_all(table, layers)
    safe = make_safe(table, **_safe_options(args))
    missing = [c for c in layers if c not in safe.columns]
    if missing:
        raise GangmapError(f"--measure {missing[0]} cannot be published: {safe.withheld.get(missing[0], 'withheld')}.")
    title = args.title or measures.title(layers[0], table)
    doc = maps.choropleth(safe, layers, title=title, subtitle=f"{table.geography.count_of(len(table))} · "
                          f"{table.schema.period_label}", scheme=args.scheme, k=args.classes,
                          also=list(safe.counts), labels=args.labels)
    path = doc.save(out)
    print(f"wrote {path} ({doc.size / 1024:,.0f} KB, opens offline)")
    if args.png:
        print(f"wrote {doc.to_png(args.png)}")
    return 0


def cmd_demo(args) -> int:
    from ..pack import build_demo

    result = build_demo(Path(args.out))
    out = Path(args.out).resolve()
    print("Demo map pack (fictional county of Wyvernshire) written to:")
    for f in result.files:
        if f.suffix == ".html":
            print(f"  {Path(f).resolve()}")
    print(f"  (+ {sum(Path(f).suffix != '.html' for f in result.files)} images, tables and their metadata in {out})")
    print(f"Start with {Path(result.index).resolve()}; every file opens offline.")
    return 0


def cmd_pack(args) -> int:
    from ..pack import build_pack

    def show(name, report):
        print(f"[{name}]\n{report.summary()}")

    result = build_pack(args.config, args.out, allow_unsafe=args.allow_unsafe, allow_unmatched=args.allow_unmatched,
                        on_report=show)
    for note in result.notes:
        print(f"note: {note}")
    print(f"Map pack written ({len(result.files)} files); open {Path(result.index).resolve()}")
    return 0


def cmd_audit(args) -> int:
    from ..disclosure import audit_pack

    result = audit_pack(args.pack_dir, raw=args.config, min_range=args.min_range)
    print(result)
    return 0 if result.ok else 1


COMMANDS = {"demo": cmd_demo, "join": cmd_join, "map": cmd_map, "pack": cmd_pack, "audit": cmd_audit}


@contextlib.contextmanager
def _warnings_as_notes(command: str):
    """Warnings (a repaired boundary) print as one line each, once, not as Python's file, line and source."""
    import warnings

    seen: set[str] = set()

    def note(message, category, filename, lineno, file=None, line=None):  # noqa: ARG001 (showwarning's signature)
        text = str(message)
        if text not in seen:
            seen.add(text)
            print(f"gangmap {command}: note: {text}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = note
        yield


def run(parser: argparse.ArgumentParser, argv: list[str]) -> int:
    """Parse ``argv`` and run the command: errors are one line, Ctrl-C says what was left."""
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 1
    try:
        with _warnings_as_notes(args.command):
            return (getattr(args, "func", None) or COMMANDS[args.command])(args)
    except GangmapError as exc:
        print(f"gangmap {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gangmap {args.command}: interrupted; nothing half-written was left (files are written whole or "
              "not at all, and a pack folder is only replaced when it is complete).", file=sys.stderr)
        return 130
