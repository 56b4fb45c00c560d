"""The pack's ``index.html``: thumbnails, the highest rates, where next, methods and caveats.

The page is static HTML under a Content-Security-Policy that allows no script
and no request at all: thumbnails are inline PNGs. Every figure on it comes
from the pack's SafeTables; the ranked table lists only areas whose values
are shown (a hidden area's place in a ranking would narrow its count), and
the notes say where protecting the pack as a whole cost information.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Card", "index_html", "methods_for", "METHODS", "CAVEATS"]

#: The pack's methods, each with the words of the layer names it explains (none: always said).
METHODS = [
    ("Rates", "Counts per 1,000 of the population given (for example children aged 10–17), with 95% and 99.8% "
              "confidence intervals: exact Poisson below 10 events, Byar's method from 10 (OHID Fingertips). "
              "Published rates and intervals are worked out from the published (rounded) counts.", ("_rate",)),
    ("Smoothing", "Empirical Bayes (Marshall) pulls rates of small areas towards the overall rate; the "
                  "between-area variance is clamped at 0 as in GeoDa. Spatial EB pulls towards the "
                  "neighbours' rate. Areas whose counts are hidden take no part in a published estimate.",
     ("_eb", "_seb")),
    ("Hotspots", "Local Moran's I (HH/LL/HL/LH) and Getis-Ord Gi* (binary weights, star) on queen "
                 "contiguity, 999 permutations with a fixed seed, two-sided p < 0.05; where many areas are "
                 "tested with a false discovery rate, permutations are raised until they do not decide. Areas "
                 "with no neighbour are labelled 'island' and never significant.", ("_lisa", "_gi")),
    ("Trends", "Mann–Kendall test (with tie correction) and Sen's slope on each area's monthly counts, and a "
               "quasi-Poisson log-linear slope; a month with no data stays a gap, never a zero.", ("_trend", "time")),
    ("Emerging hot spots", "Gi* in every period, then Mann–Kendall on each area's Gi* z-scores, named with ArcGIS "
                           "Pro's categories (new, consecutive, intensifying, persistent ...); periods in which an "
                           "area could not be tested are left out, not read as 'not hot'.", ("_ehsa",)),
    ("Need index", "Each component is scaled 0–1 (min-max), weighted and summed to 0–100; the weights "
                   "are in gangmap.measures.DEFAULT_INDEX_WEIGHTS.", ("need_index",)),
    ("Funnel plots", "Exact Poisson control limits (Spiegelhalter 2005; as the OHID Fingertips tools): an area is "
                     "flagged only when its count is unlikely under the overall rate.", ("funnel",)),
    ("Campaign effect", "A Poisson event study with area and month effects and area-clustered intervals, with a "
                        "pre-trend test and placebo launch dates; the verdict says when the evidence is weak.",
     ("campaign_effect",)),
    ("Disclosure", "Every figure in the pack is checked as one system: together, the maps and tables cannot "
                   "narrow a hidden count to fewer than the configured number of possible values.", ()),
]


def methods_for(used: Iterable[str] | None) -> list[tuple[str, str]]:
    """The methods behind what a pack shows (``used``: its layer and file names; None: every method)."""
    names = None if used is None else list(used)
    return [(title, text) for title, text, words in METHODS
            if names is None or not words or any(w in n for w in words for n in names)]


CAVEATS = [
    "Reporting campaigns raise reports at first: a rise after a launch can mean people are reporting, "
    "not that harm has grown.",
    "Counts are what reached the police and schools, not all that happened.",
    "Small areas swing: read rates with their intervals, the smoothed rates and the funnel plot.",
    "Hotspot labels describe patterns in these figures; they are not proof of a cause.",
]
_STYLE = """
body { font: 14px/1.4 system-ui, Arial, sans-serif; margin: 0; color: #222; }
.marking { background: #222; color: #fff; text-align: center; font-weight: 700; letter-spacing: .08em;
  padding: 2px; }
.unsafe { background: #b00020; }
main { max-width: 1100px; margin: 0 auto; padding: 8px 16px; }
.cards { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; width: 330px; } figure img { width: 330px; border: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 13px; }
td, th { border: 1px solid #ddd; padding: 3px 6px; text-align: left; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 4px 8px; }
footer { font-size: 11px; color: #555; margin-top: 16px; }
@media print { @page { size: A4 landscape; margin: 10mm; }
  .marking { print-color-adjust: exact; -webkit-print-color-adjust: exact; } }
"""


@dataclass(frozen=True)
class Card:
    """One map on the index page."""

    title: str
    subtitle: str
    html_file: str
    png: Path
    size: int


def thumbnail(png: Path, width: int = 330) -> str:
    """A small copy of a PNG as a data: URI."""
    from PIL import Image

    img = Image.open(png)
    img.thumbnail((width * 2, width * 2))
    buf = io.BytesIO()
    img.convert("P", palette=Image.Palette.ADAPTIVE, colors=64).save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _cards(cards: Iterable[Card]) -> str:
    e = html.escape
    return "".join(
        f'<figure><a href="{e(c.html_file)}"><img alt="{e(c.title)}" src="{thumbnail(c.png)}"></a>'
        f'<figcaption><a href="{e(c.html_file)}">{e(c.title)}</a><br><small>{e(c.subtitle)} · '
        f"{c.size / 1024:,.0f} KB · opens offline</small></figcaption></figure>" for c in cards)


def ranked_rows(safe: Any, column: str, n: int = 10) -> list:
    """Index labels of the ``n`` highest *shown* values of ``column`` (hidden areas never ranked)."""
    frame = safe.frame
    shown = ~safe.suppressed[column] & frame[column].notna() if column in safe.suppressed else frame[column].notna()
    for c in safe.counts:
        shown &= ~safe.suppressed[c]
    return frame.loc[shown.to_numpy(), column].astype(float).sort_values(ascending=False).index[:n].tolist()


def _ranked(safe: Any, title_of) -> str:
    e = html.escape
    first = next((c for c in safe.columns if c.endswith("_rate")), None)
    if first is None:
        return ""
    geo = safe.geography
    cols = [c for c in (geo.name, geo.parent_name) if c in safe.display] + [*safe.counts, first]
    rows = "".join("<tr>" + "".join(f"<td>{e(str(safe.display.loc[i, c]))}</td>" for c in cols) + "</tr>"
                   for i in ranked_rows(safe, first))
    head = "".join(f"<th>{e(title_of(c))}</th>" for c in cols)
    return (f"<h2>Highest rates (safe values; {e(geo.plural)} with a hidden count are not ranked)</h2>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")


def index_html(*, title: str, subtitle: str, cards: Sequence[Card], safe: Any, title_of, notes: Sequence[str] = (),
               plan: Any = None, attribution: str, files: Sequence[str] = (), used: Iterable[str] | None = None
               ) -> str:
    """The whole index page (Methods: only those behind ``used``, the pack's layer and file names)."""
    e = html.escape
    prov = safe.provenance
    unsafe = " unsafe" if prov.stamp else ""
    where = "".join(f"<dt>{e(a)}</dt><dd>{e(b)}</dd>" for a, b in plan.statements()) if plan else ""
    where = f"<h2>Where next</h2><dl>{where}</dl>" if where else ""
    note_html = "".join(f'<p class="note">{e(n)}</p>' for n in notes)
    methods = "".join(f"<dt>{e(a)}</dt><dd>{e(b)}</dd>" for a, b in methods_for(used))
    caveats = "".join(f"<li>{e(c)}</li>" for c in CAVEATS)
    listing = ", ".join(e(f) for f in files)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
base-uri 'none'; form-action 'none'">
<title>{e(title)}</title>
<style>{_STYLE}</style></head><body>
<div class="marking{unsafe}">{e(prov.marking)}</div>
<main>
<h1>{e(title)}</h1>
<p>{e(subtitle)}</p>
{note_html}
<h2>Maps</h2><div class="cards">{_cards(cards)}</div>
{_ranked(safe, title_of)}
<p><small>Tables: {listing}. {e(safe.policy.describe())}</small></p>
{where}
<h2>Methods</h2><dl>{methods}</dl>
<h2>Caveats</h2><ul>{caveats}</ul>
<footer>{e(prov.footer())}<br>{e(attribution)}</footer>
</main>
<div class="marking{unsafe}">{e(prov.marking)}</div>
</body></html>
"""
