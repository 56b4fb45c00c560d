"""The explorer: a small ipywidgets control that redraws a choropleth in a notebook.

It redraws the map in place (an HTML widget holding the map's frame, no
``Output`` widget), so it also runs unattended under papermill and nbclient.
Under the map a line says what the classification did: fewer classes than
the slider asks for come with the reason (too few distinct values, tied
quantiles), never silently.
"""

from __future__ import annotations

import html

from ..disclosure import require_safe
from ..errors import GangmapError
from .document import choropleth
from .layers import AreaLayer
from .naming import layer_title

__all__ = ["explorer", "SCHEMES_OFFERED"]

SCHEMES_OFFERED = ("quantiles", "natural_breaks", "equal_interval", "box_plot")


def _note(doc) -> str:
    area = next((ly for ly in doc.items if isinstance(ly, AreaLayer)), None)
    text = area.classes.note if area is not None else None
    return f'<span class="gm-explorer-note">{html.escape(text)}</span>' if text else ""


def explorer(tables, measures, *, schemes=SCHEMES_OFFERED, k: int = 5, names: dict | None = None, also=(),
             title: str = ""):
    """An ipywidgets control that redraws a choropleth: category, measure, scheme and classes.

    Parameters
    ----------
    tables : dict of {label: SafeTable}
        One safe table per category choice (e.g. ``{"All": safe, "Weapons concern": safe_w}``).
    measures : sequence of str
        Value columns to offer; those missing from a table are not offered for it.
    schemes, k, names, also, title
        Classification schemes offered, initial number of classes, display
        names, tooltip columns and title.

    Returns
    -------
    ipywidgets.VBox
        ``.children[2]`` is the HTML widget holding the map, ``.children[3]`` the note under it.

    Examples
    --------
    >>> maps.explorer({"All": safe}, ["reports_rate", "reports"])  # doctest: +SKIP
    """
    import ipywidgets as widgets

    if not tables:
        raise GangmapError("explorer needs at least one SafeTable, e.g. {'All': safe}.")
    for label, safe in tables.items():
        require_safe(safe, f"the explorer ({label})")
    names = dict(names or {})

    def offered(label):
        safe = tables[label]
        return [(layer_title(m, safe, names), m) for m in measures if m in safe.frame.columns]

    first = next(iter(tables))
    if not offered(first):
        raise GangmapError(f"none of {list(measures)} is a value column of the {first!r} table.")
    category = widgets.Dropdown(options=list(tables), value=first, description="Category")
    measure = widgets.Dropdown(options=offered(first), description="Measure")
    scheme = widgets.Dropdown(options=list(schemes), value=schemes[0], description="Scheme")
    classes = widgets.IntSlider(value=k, min=3, max=7, description="Classes")
    note = widgets.HTML()
    out = widgets.HTML()
    busy = [False]

    def draw(*_):
        if busy[0]:
            return
        busy[0] = True
        try:
            opts = offered(category.value)
            if measure.value not in [v for _, v in opts]:
                measure.options = opts
            safe = tables[category.value]
            doc = choropleth(safe, measure.value, scheme=scheme.value, k=classes.value, names=names,
                             also=[a for a in also if a in safe.frame.columns],
                             title=title or layer_title(measure.value, safe, names), subtitle=str(category.value))
            out.value = doc.iframe(preview=False)
            note.value = _note(doc)
        except GangmapError as exc:
            note.value = f"<b>Cannot draw this map:</b> {html.escape(str(exc))}"
        finally:
            busy[0] = False

    for w in (category, measure, scheme, classes):
        w.observe(draw, names="value")
    draw()
    box = widgets.VBox([widgets.HBox([category, measure]), widgets.HBox([scheme, classes]), out, note])
    box.add_class("gm-explorer")
    return box
