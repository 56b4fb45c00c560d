"""A real JupyterLab, driven by Chromium: inline maps never come up blank (issue 13).

JupyterLab is started on a free port with its own config, data, runtime,
settings and workspace folders and a token, headless, with a kernel of this
interpreter (``sys.executable -m ipykernel_launcher``, this worktree first on
``PYTHONPATH``). Playwright drives Debian's Chromium against it. For a
notebook, :func:`check_notebook` does what an analyst does and asserts, each
time, that every map output has drawn every area (finite bounds on screen,
inside the map box, no NaN paths), that the legend and the layer control do
not overlap, and that the page asked for nothing beyond the local server:

1. Run All;
2. switch to another tab and back;
3. make the window smaller and larger again;
4. save, close and reopen the notebook, then reload the whole page;
5. change a control of the explorer: it draws a new map.

The harness is reusable: :func:`lab_server`, :func:`lab_page` and
:func:`check_notebook` take any notebook (the shipped notebooks 01-03 too,
with their parameters pointing at data). The tests here use a small notebook
written into ``tmp_path`` that builds maps through the public API on the demo
data, and a notebook whose outputs were saved elsewhere (as papermill does):
JupyterLab does not trust it, so the output must say why there is no
interactive map and show a static preview. Skipped, with the reason, when
Chromium, playwright or JupyterLab are missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser import ARGS, ARTIFACTS, CHROMIUM, MAP_STATE, assert_drawn, require_chromium, wait_for

pytestmark = [pytest.mark.jupyterlab, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[1]
KERNEL = "gangmap-test"
#: Waits (ms): generous, for two cores shared by several sessions. Nothing here asserts a time.
START_S, RUN_MS, DRAW_MS = 180, 300_000, 60_000


def require_jupyterlab() -> None:
    require_chromium()
    pytest.importorskip("jupyterlab", reason="jupyterlab not installed (pip install -e '.[test]')")
    pytest.importorskip("ipykernel", reason="ipykernel not installed")


@dataclass
class Lab:
    """A running JupyterLab: its URL, token and root folder."""

    url: str
    token: str
    root: Path
    log: Path

    def tree(self, rel: str) -> str:
        return f"{self.url}/lab/tree/{rel}?reset&token={self.token}"  # reset: no tabs from an earlier test


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lab_env(home: Path) -> dict:
    env = dict(os.environ)
    dirs = {"JUPYTER_CONFIG_DIR": "config", "JUPYTER_DATA_DIR": "data", "JUPYTER_RUNTIME_DIR": "runtime",
            "JUPYTERLAB_SETTINGS_DIR": "settings", "JUPYTERLAB_WORKSPACES_DIR": "workspaces", "IPYTHONDIR": "ipython"}
    for var, sub in dirs.items():
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / sub)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env.pop("JUPYTER_PATH", None)
    spec = home / "data" / "kernels" / KERNEL
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "gangmap (test)", "language": "python", "env": {"PYTHONPATH": env["PYTHONPATH"]}}))
    # No news, no update checks: nothing may leave the machine.
    notes = home / "settings" / "@jupyterlab" / "apputils-extension"
    notes.mkdir(parents=True, exist_ok=True)
    (notes / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false",
                                                                        "checkForUpdates": False}))
    return env


@contextlib.contextmanager
def lab_server(root: Path, home: Path):
    """Start JupyterLab on ``root`` (own dirs under ``home``) and yield a :class:`Lab`; stop it afterwards."""
    require_jupyterlab()
    port, token = _free_port(), secrets.token_hex(16)
    env = _lab_env(home)
    log = home / "jupyterlab.log"
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False",
           "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=", "--ServerApp.port_retries=0",
           "--LabApp.extension_manager=readonly",
           "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
        cmd.append("--allow-root")
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start in {START_S} s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield Lab(url, token, root, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextlib.contextmanager
def lab_page(lab: Lab, *, width: int = 1400, height: int = 900):
    """Yield ``(page, outside)``: a Chromium page on ``lab``; ``outside`` lists requests beyond the server."""
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": width, "height": height})

        def guard(route):
            u = route.request.url
            if u.startswith(lab.url) or u.startswith(("data:", "blob:", "about:")):
                route.continue_()
            else:
                outside.append(u)
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.errors = errors
        try:
            yield page, outside
        finally:
            context.close()
            browser.close()


# --------------------------------------------------------------------------- driving JupyterLab
_OPENED = """async (path) => {
    const app = window.jupyterapp;
    await app.restored;
    let w = app.shell.currentWidget;
    if (!w || !w.context || w.context.path !== path) {
        w = await app.commands.execute('docmanager:open', {path});
    }
    await w.context.ready;
    await w.sessionContext.ready;
    return true;
}"""

_RUN_ALL = """async () => {
    const app = window.jupyterapp, w = app.shell.currentWidget;
    await app.commands.execute('notebook:run-all-cells');
    const k = w.sessionContext.session.kernel;
    const t0 = Date.now();
    while (Date.now() - t0 < 600000) {
        const busy = [...w.content.widgets].some(c => c.model.type === 'code' && c.promptNode &&
                                                  c.promptNode.textContent.includes('*'));
        if (!busy && k.status === 'idle') { break; }
        await new Promise(r => setTimeout(r, 250));
    }
    return [...w.content.widgets].filter(c => c.model.type === 'code').map(c =>
        c.model.outputs.toJSON().filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue).join('; '));
}"""

_FRAMES = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output iframe"
_SCROLL = """() => {
    const n = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
    if (n) { n.scrollTop = n.scrollTop + 400 < n.scrollHeight ? n.scrollTop + 400 : 0; }
}"""


def map_states(page, expect: int | None = None, *, shots: str | None = None) -> list[dict]:
    """Scroll to every map output of the current notebook, wait until it is drawn, return its state.

    With ``expect``, first scroll through the notebook until that many map outputs exist (outputs of
    a windowed notebook, and widgets restored from the kernel, appear only when they are rendered).
    """
    frames = page.locator(_FRAMES)
    if expect is not None:
        deadline = time.monotonic() + DRAW_MS / 1000
        while frames.count() < expect and time.monotonic() < deadline:
            page.evaluate(_SCROLL)
            page.wait_for_timeout(300)
    out = []
    for i in range(frames.count()):
        el = frames.nth(i)
        el.scroll_into_view_if_needed()
        frame = el.element_handle().content_frame()
        wait_for(frame, "window.gmDrawn === true", DRAW_MS)
        state = frame.evaluate(MAP_STATE)
        state["title"] = el.get_attribute("title")
        out.append(state)
        if shots:
            ARTIFACTS.mkdir(exist_ok=True)
            el.screenshot(path=str(ARTIFACTS / f"{shots}_{i}.png"))
    return out


def _shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / name
    page.screenshot(path=str(out))
    return out


def switch_tab_and_back(page, notebook_name: str) -> None:
    """Open another tab (a Launcher), make it current, then click the notebook's own tab."""
    page.evaluate("async () => { await window.jupyterapp.commands.execute('launcher:create'); return true; }")
    page.wait_for_selector(".jp-Launcher", state="visible")
    page.wait_for_timeout(800)
    page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=notebook_name).first.click()
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden)", state="visible")
    page.wait_for_timeout(800)


def save_close_reopen(page, rel: str) -> None:
    """Save the notebook, close every tab, open the notebook again from disk."""
    page.evaluate("""async () => {
        const app = window.jupyterapp, w = app.shell.currentWidget;
        await w.context.save();
        await app.commands.execute('application:close-all');
    }""")
    page.wait_for_timeout(800)
    page.evaluate(_OPENED, rel)


def check_explorer(page) -> bool:
    """If the notebook has an explorer: change its scheme and wait for a new, drawn map. False if none."""
    box = page.locator(".gm-explorer")
    if box.count() == 0:
        return False
    box.first.scroll_into_view_if_needed()
    frame_el = box.first.locator("iframe").first
    before = frame_el.get_attribute("srcdoc")
    first = frame_el.element_handle().content_frame()
    wait_for(first, "window.gmDrawn === true", DRAW_MS)
    old = first.evaluate(MAP_STATE)
    select = box.first.locator(".widget-dropdown", has_text="Scheme").locator("select")
    options = [o for o in select.locator("option").all_inner_texts() if o != select.input_value()]
    select.select_option(label=options[-1] if "equal_interval" not in options else "equal_interval")
    page.wait_for_function("([el, old]) => el.querySelector('iframe') && el.querySelector('iframe').srcdoc !== old",
                           arg=[box.first.element_handle(), before], timeout=DRAW_MS)
    frame = box.first.locator("iframe").first.element_handle().content_frame()
    wait_for(frame, "window.gmDrawn === true", DRAW_MS)
    new = frame.evaluate(MAP_STATE)
    assert_drawn([new], "explorer after a change")
    assert new["legendText"] != old["legendText"], "the explorer did not redraw with the new classes"
    return True


def check_notebook(page, lab: Lab, rel: str, *, expect_maps: int | None = None, shots: str = "lab") -> dict:
    """The whole protocol on one notebook (path relative to the server root); returns what it saw."""
    name = Path(rel).name
    page.goto(lab.tree(rel))
    page.wait_for_function("() => !!window.jupyterapp", timeout=120_000)
    page.evaluate(_OPENED, rel)
    errors = page.evaluate(_RUN_ALL)
    assert not any(errors), f"{rel}: cells failed: {[e for e in errors if e]}"
    seen = {}
    assert_drawn(seen.setdefault("run", map_states(page, expect_maps, shots=f"{shots}_map")), "after Run All",
                 expect_maps)
    _shot(page, f"{shots}_run_all.png")
    expect_maps = expect_maps or len(seen["run"])  # every later step must find as many
    seen["explorer"] = check_explorer(page)
    switch_tab_and_back(page, name)
    assert_drawn(seen.setdefault("tabs", map_states(page, expect_maps)), "after switching tabs", expect_maps)
    _shot(page, f"{shots}_tab_back.png")
    page.set_viewport_size({"width": 900, "height": 700})
    page.wait_for_timeout(500)
    assert_drawn(seen.setdefault("small", map_states(page, expect_maps)), "in a smaller window", expect_maps)
    page.set_viewport_size({"width": 1400, "height": 900})
    save_close_reopen(page, rel)
    assert_drawn(seen.setdefault("reopen", map_states(page, expect_maps)), "after save, close and reopen",
                 expect_maps)
    _shot(page, f"{shots}_reopened.png")
    page.reload()
    page.wait_for_function("() => !!window.jupyterapp", timeout=120_000)
    page.evaluate(_OPENED, rel)
    assert_drawn(seen.setdefault("reload", map_states(page, expect_maps)), "after reloading the page", expect_maps)
    assert not page.errors, page.errors
    return seen


# --------------------------------------------------------------------------- the notebooks
MAPS_NOTEBOOK = [
    """import gangmap
from gangmap import maps
p = gangmap.demo.paths()
table, report = gangmap.join(p["wards"], reports=p["reports"])
safe = gangmap.make_safe(table, ["reports"])
frame = safe.frame""",
    """maps.choropleth(safe, "reports", title="Reports by ward")""",
    """import geopandas as gpd
points = gpd.GeoDataFrame({"name": frame["ward_name"]}, geometry=frame.geometry.centroid, crs=frame.crs).iloc[::6]
campaign = frame.iloc[:8][["geometry"]].dissolve()
layers = [maps.area_layer(safe, "reports", visible=True, k=7),
          maps.area_layer(safe, "reports", layer_id="area-reports-eq", name="Reports (equal intervals)",
                          scheme="equal_interval"),
          maps.district_outlines(safe),
          maps.outline_layer(campaign, name="Current campaign areas", color="#1b7837", weight=3.5),
          maps.outline_layer(frame.iloc[20:26], name="Recommended next wards", label="ward_name",
                             color="#762a83", dash="6 4", layer_id="outline-recommended"),
          maps.points_layer(points, name="Schools", label="name", visible=True)]
maps.make_map(safe, layers, title="Many layers: legend and layer control side by side")""",
    """maps.explorer({"All": safe}, ["reports"], k=5)""",
    """import numpy as np
rng = np.random.default_rng(1)
months = {m: gangmap.make_safe(frame.assign(reports=rng.poisson(frame["reports"].clip(lower=1) * f)), ["reports"],
                               period=m)
          for m, f in (("2018-01", 0.5), ("2018-02", 1.0), ("2018-03", 2.0))}
maps.time_map(months, "reports", title="Reports by month")""",
    """maps.choropleth(safe, "reports", title="Drawn by the canvas renderer", renderer="canvas")""",
]


def write_notebook(path: Path, cells: list[str], *, outputs: list[list[dict]] | None = None) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "gangmap (test)", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    for cell, outs in zip(nb.cells, outputs or []):
        cell.outputs = [nbformat.from_dict(o) for o in outs]
    nbformat.write(nb, path)
    return path


def prepare_notebook(src: Path, root: Path, **parameters) -> str:
    """Copy a notebook into the server root for a run: its relative input paths made absolute (they
    resolve against the notebook's own folder), ``parameters`` set in a cell after the one tagged
    ``parameters`` (as papermill does), the test kernel selected. Returns its path relative to ``root``."""
    import ast

    import nbformat

    nb = nbformat.read(src, as_version=4)
    at = next((i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])), -1)
    found = {}
    if at >= 0:
        for node in ast.parse(nb.cells[at].source).body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and \
                    isinstance(node.value.value, str) and node.value.value.startswith(".."):
                found[node.targets[0].id] = str((src.parent / node.value.value).resolve())
    values = {**found, **parameters}
    cell = nbformat.v4.new_code_cell("\n".join(f"{k} = {v!r}" for k, v in values.items()))
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(at + 1, cell)
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "gangmap (test)", "language": "python"}
    nbformat.write(nb, root / src.name)
    return src.name


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require_jupyterlab()
    root = tmp_path_factory.mktemp("lab_root")
    with lab_server(root, tmp_path_factory.mktemp("lab_home")) as server:
        yield server


def test_maps_survive_run_all_tabs_resize_reopen_and_the_explorer_redraws(lab):
    write_notebook(lab.root / "maps.ipynb", MAPS_NOTEBOOK)
    with lab_page(lab) as (page, outside):
        seen = check_notebook(page, lab, "maps.ipynb", expect_maps=5, shots="lab_maps")
        assert outside == [], outside
    assert seen["explorer"]
    # A map with time and a map drawn by the canvas renderer, through every step.
    for step in ("run", "tabs", "small", "reopen", "reload"):
        assert [s["canvas"] for s in seen[step]] == [False, False, False, False, True], step
    # The many-layers map really has both panels open (else "no overlap" would be trivially true).
    many = seen["run"][1]
    assert many["layers"] and many["legend"], many


def test_untrusted_output_says_why_and_shows_a_preview(lab):
    """A notebook whose outputs were saved outside this JupyterLab (papermill) opens untrusted."""
    import gangmap
    from gangmap import maps

    p = gangmap.demo.paths()
    table, _ = gangmap.join(p["wards"], reports=p["reports"])
    doc = maps.choropleth(gangmap.make_safe(table, ["reports"]), "reports", title="Saved elsewhere")
    output = {"output_type": "execute_result", "execution_count": 1, "metadata": {},
              "data": {"text/html": doc._repr_html_(), "text/plain": repr(doc)}}
    write_notebook(lab.root / "untrusted.ipynb", ["doc"], outputs=[[output]])
    with lab_page(lab) as (page, outside):
        page.goto(lab.tree("untrusted.ipynb"))
        page.wait_for_function("() => !!window.jupyterapp", timeout=120_000)
        page.evaluate(_OPENED, "untrusted.ipynb")
        out = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output").first
        out.wait_for(state="visible", timeout=DRAW_MS)
        out.scroll_into_view_if_needed()
        assert out.locator("iframe").count() == 0  # JupyterLab stripped the frame: no map can run
        note = out.locator(".gm-untrusted")
        assert note.is_visible() and "not trusted" in note.inner_text() and "Trust Notebook" in note.inner_text()
        img = out.locator("img")
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 300", arg=img.element_handle(),
                               timeout=DRAW_MS)
        _shot(page, "lab_untrusted.png")
        assert outside == [], outside


SHIPPED = sorted((REPO / "notebooks").glob("0*.ipynb"))


@pytest.mark.parametrize("src", SHIPPED, ids=[p.stem[:2] for p in SHIPPED])
def test_shipped_notebooks_keep_their_maps(lab, src, tmp_path):
    """notebooks/01-03 on the demo data: every map drawn after Run All, tab switches and reopening."""
    rel = prepare_notebook(src, lab.root, OUTPUT_DIR=str(tmp_path / "out"))
    with lab_page(lab) as (page, outside):
        seen = check_notebook(page, lab, rel, shots=f"lab_{src.stem[:2]}")
        assert outside == [], outside
    assert len(seen["run"]) == len(seen["reopen"]) == len(seen["reload"])
