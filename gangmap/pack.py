"""Map packs: build the set of maps and tables for a meeting in one call.

:func:`build_demo` runs the whole pipeline on the fictional demo county and
is what ``make demo`` and ``gangmap demo`` call.
"""

from __future__ import annotations

from pathlib import Path

from . import demo, maps, measures
from .disclosure import make_safe
from .export import write_table
from .join import join, period_label

DEMO_NAMES = {
    "reports_rate": "Reports per 1,000 children aged 10–17",
    "reports": "Reports (count)",
    "referrals_rate": "Early Help referrals per 1,000 children",
    "referrals": "Referrals (count)",
}


def build_demo(out_dir: str | Path, *, policy: str = "nhs") -> list[Path]:
    """Join, measure, make safe and map the demo county; return the files written.

    Examples
    --------
    >>> files = build_demo("demo-output")  # doctest: +SKIP
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    p = demo.paths()
    table, report = join(p["wards"], reports=p["reports"], referrals=p["referrals"],
                         schools=p["schools"], population=p["population"])
    (out / "join_report.txt").write_text(report.summary() + "\n", encoding="utf-8")
    table = measures.rate(table, "reports", "population")
    table = measures.rate(table, "referrals", "population")
    safe = make_safe(table, counts=["reports", "referrals"], policy=policy,
                     period=period_label(table.attrs.get("periods")))
    m = maps.choropleth(safe, ["reports_rate", "reports", "referrals_rate", "referrals"],
                        names=DEMO_NAMES, title="Wyvernshire: reports and referrals by ward",
                        subtitle=f"{demo.FICTIONAL} · {period_label(table.attrs.get('periods'))}",
                        also=["reports", "referrals"], attribution=demo.ATTRIBUTION)
    files = [m.save(out / "wyvernshire_map.html"),
             write_table(safe, out / "wyvernshire_wards.csv"),
             out / "join_report.txt"]
    return files
