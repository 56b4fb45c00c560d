"""The notebooks: stored clean, thin, parameterised, and they run top to bottom.

* The stored notebooks have no outputs, no execution counts and no volatile
  metadata (``tools/nbstrip.py --check`` would change nothing), exactly one
  cell tagged ``parameters`` whose defaults read the shipped demo data and
  write outside the repository, and no logic (no ``def``, ``class``, ``for``,
  ``while`` or ``lambda`` in code cells).
* Each notebook runs top to bottom on the demo data with papermill, on a
  kernel started from this interpreter (``sys.executable -m
  ipykernel_launcher``, so no kernelspec needs installing), with
  ``OUTPUT_DIR`` in a pytest temporary folder; the run must write nothing
  into the repository, and its maps must render inline (``text/html`` with a
  sandboxed iframe).
* Notebook 01 also runs on the real Northamptonshire data in
  ``../shared/data`` (no population, referrals or schools), when present.
* ``python tools/nbstrip.py`` and the pre-commit hook (driven with a stub
  ``git``, so no repository is touched).
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import nbstrip  # noqa: E402  (tools/nbstrip.py: a developer tool, not part of the package)

pytestmark = pytest.mark.notebook

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = [
    "01_explore_reports_and_referrals.ipynb",
    "02_campaign_targeting.ipynb",
    "03_pilot_hub_expansion.ipynb",
]
#: Per-cell limit for the runs: a stalled cell fails the test instead of hanging the suite.
CELL_TIMEOUT = 60
#: No demo cell should take this long (each takes a few seconds at most on two cores). nbclient can
#: stall on a cell until CELL_TIMEOUT and then carry on without an error, for example when an
#: ``ipywidgets.interact`` output widget captures a large display (a map): catch that here.
SLOW_CELL = 30
#: Folders of the repository a test run may change (caches, other tests' artifacts).
IGNORED_DIRS = {".git", ".venv", "test-artifacts", "__pycache__", ".pytest_cache", ".hypothesis",
                ".ipynb_checkpoints", "gangmap.egg-info"}
LOGIC = re.compile(r"^\s*(?:async\s+def|def|class|for|while)\b|\blambda\b", re.MULTILINE)


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def _read(name: str):
    path = NOTEBOOK_DIR / name
    assert path.exists(), f"{path} is missing"
    return nbformat.read(path, as_version=4)


def _parameters(nb) -> dict:
    """The defaults of the ``parameters`` cell (it holds literals only)."""
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    tree = ast.parse(cell.source)
    values = {}
    for node in tree.body:
        assert isinstance(node, ast.Assign) and len(node.targets) == 1, \
            f"the parameters cell should only assign literals, found: {ast.unparse(node)}"
        values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


# --------------------------------------------------------------------------- stored notebooks
def test_the_three_notebooks_exist():
    missing = [n for n in NOTEBOOKS if not (NOTEBOOK_DIR / n).exists()]
    assert not missing, f"missing notebooks: {missing}"


@pytest.mark.parametrize("path", sorted(NOTEBOOK_DIR.glob("*.ipynb")), ids=lambda p: p.name)
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, (f"{path.name}: cells {dirty} have outputs or execution counts; run "
                       "`make strip-notebooks` (and `make hooks` once) before committing")
    text = path.read_text(encoding="utf-8")
    assert nbstrip.strip_text(text, path.name) == text, \
        f"{path.name} has volatile metadata or papermill's injected cell; run `make strip-notebooks`"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_one_parameters_cell_and_no_logic(name):
    nb = _read(name)
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{name}: {len(tagged)} cells tagged 'parameters' (want exactly 1)"
    assert nb.cells[tagged[0]].cell_type == "code"
    for i, cell in enumerate(_code_cells(nb)):
        m = LOGIC.search(cell.source)
        assert m is None, (f"{name}: code cell {i} defines logic ({m.group(0).strip()!r}); notebooks "
                           "only call gangmap: move it into the package")
    assert sum(c.cell_type == "markdown" for c in nb.cells) >= len(_code_cells(nb)) // 2, \
        f"{name}: the story is told in markdown; too few markdown cells"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_parameters_one_demo_switch_and_an_ignored_output_folder_beside_the_notebook(name):
    """USE_DEMO is the only way to the demo: every own input defaults to None (never a demo file)."""
    params = _parameters(_read(name))
    assert params.get("USE_DEMO") is True, f"{name}: USE_DEMO = True should be the one switch for the demo"
    inputs = {k: v for k, v in params.items() if k in ("AREAS", "REPORTS", "REFERRALS", "SCHOOLS", "POPULATION",
                                                       "CAMPAIGN", "PILOT_HUB")}
    assert inputs and all(v is None for v in inputs.values()), f"{name}: own inputs must default to None: {inputs}"
    assert not any(isinstance(v, str) and "data/demo" in v for v in params.values()), f"{name}: a demo path default"
    out = Path(params["OUTPUT_DIR"])
    assert not out.is_absolute() and not str(out).startswith(("~", "..")), f"{name}: OUTPUT_DIR {out}"
    folder = (NOTEBOOK_DIR / out).resolve()
    assert NOTEBOOK_DIR in folder.parents, f"{name}: output should sit beside the notebook (the file browser shows it)"
    if shutil.which("git") and (REPO / ".git").exists():
        res = subprocess.run(["git", "check-ignore", "-q", str(folder / "x.html")], cwd=REPO)
        assert res.returncode == 0, f"{name}: {folder} is not git-ignored"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_papermill_reads_every_parameter(name, caplog):
    """``papermill --help-notebook`` (inspect_notebook) lists every parameter, and parses each line."""
    import papermill

    with caplog.at_level("WARNING"):
        found = papermill.inspect_notebook(str(NOTEBOOK_DIR / name))
    assert set(found) == set(_parameters(_read(name))), f"{name}: papermill sees {sorted(found)}"
    unparsed = [r.getMessage() for r in caplog.records if "Unable to parse" in r.getMessage()]
    assert not unparsed, f"{name}: papermill cannot parse {unparsed}"


# --------------------------------------------------------------------------- running them
def _kernel_manager():
    """A kernel manager that starts ``sys.executable -m ipykernel_launcher``: this interpreter's kernel."""
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    class ThisInterpreter(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                              display_name=f"Python ({sys.executable})", language="python",
                              resource_dir=str(REPO))

    return AsyncKernelManager(kernel_name="python3", kernel_spec_manager=ThisInterpreter())


def _snapshot() -> dict:
    """What a run could change in the repository: ``git status`` and every file's size and mtime."""
    files = {}
    for root, dirs, names in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in IGNORED_DIRS]
        for n in names:
            p = Path(root, n)
            try:
                st = p.lstat()
            except FileNotFoundError:  # pragma: no cover - removed while walking
                continue
            files[str(p.relative_to(REPO))] = (st.st_size, st.st_mtime_ns)
    status = None
    if shutil.which("git") and (REPO / ".git").exists():
        res = subprocess.run(["git", "--no-optional-locks", "status", "--porcelain=v1", "--untracked-files=all"],
                             cwd=REPO, capture_output=True, text=True, timeout=60)
        if res.returncode == 0:
            status = sorted(line for line in res.stdout.splitlines() if "test-artifacts/" not in line)
    return {"git": status, "files": files}


def _assert_nothing_written(before: dict, after: dict, what: str):
    assert after["git"] == before["git"], (
        f"{what} changed `git status`: new {sorted(set(after['git'] or []) - set(before['git'] or []))}")
    changed = sorted(k for k in set(before["files"]) | set(after["files"])
                     if before["files"].get(k) != after["files"].get(k))
    assert not changed, f"{what} wrote into the repository: {changed}"


def _run(name: str, tmp_path: Path, **parameters):
    import papermill

    return papermill.execute_notebook(
        str(NOTEBOOK_DIR / name), str(tmp_path / f"executed_{name}"), parameters=parameters,
        kernel_name="python3", km=_kernel_manager(), cwd=str(NOTEBOOK_DIR), progress_bar=False,
        execution_timeout=CELL_TIMEOUT)


def _slow_cells(nb) -> list[tuple[int, float]]:
    return [(i, c.metadata["papermill"]["duration"]) for i, c in enumerate(nb.cells)
            if (c.metadata.get("papermill", {}).get("duration") or 0) > SLOW_CELL]


def _outputs(nb):
    return [o for c in _code_cells(nb) for o in c.get("outputs", [])]


def _iframes(nb) -> list[str]:
    return [o["data"]["text/html"] for o in _outputs(nb)
            if "text/html" in o.get("data", {}) and "<iframe" in o["data"]["text/html"]]


def _text(nb) -> str:
    """What the outputs say: printed text, plain reprs and rich (HTML) reprs such as the JoinReport's."""
    parts = []
    for o in _outputs(nb):
        data = o.get("data", {})
        parts += [o.get("text", ""), data.get("text/plain", ""), data.get("text/markdown", ""),
                  data.get("text/html", "") if "<iframe" not in data.get("text/html", "") else ""]
    return "\n".join(p for p in parts if p)


def test_kernel_is_this_interpreter(tmp_path):
    """The kernel the runs use is started from this interpreter (the project's .venv), not a kernelspec's."""
    import papermill

    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell("import sys\nprint(sys.executable)")]
    nbformat.write(nb, tmp_path / "which.ipynb")
    out = papermill.execute_notebook(str(tmp_path / "which.ipynb"), str(tmp_path / "which_out.ipynb"),
                                     kernel_name="python3", km=_kernel_manager(), progress_bar=False,
                                     execution_timeout=CELL_TIMEOUT)
    assert out.cells[0].outputs[0]["text"].strip() == sys.executable


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_runs_on_demo_data(name, tmp_path):
    out_dir = tmp_path / "output"
    before = _snapshot()
    nb = _run(name, tmp_path, OUTPUT_DIR=str(out_dir))
    after = _snapshot()
    errors = [o for o in _outputs(nb) if o.get("output_type") == "error"]
    assert not errors, f"{name}: {errors[0].get('ename')}: {errors[0].get('evalue')}"
    maps = _iframes(nb)
    assert maps, f"{name}: no map rendered inline (text/html with an iframe)"
    assert all('sandbox="allow-scripts"' in m for m in maps), f"{name}: a map iframe is not sandboxed"
    assert out_dir.is_dir() and any(out_dir.rglob("*.html")), f"{name}: wrote no map into OUTPUT_DIR"
    assert not _slow_cells(nb), (f"{name}: cells (index, seconds) {_slow_cells(nb)} took over {SLOW_CELL} s: "
                                 "a stalled widget or a regression")
    _assert_nothing_written(before, after, name)


@pytest.mark.realdata
def test_notebook_01_on_northamptonshire_without_population(shared_data, tmp_path):
    """The real police.uk CSV and 2013 wards, with no population, referrals or schools."""
    out_dir = tmp_path / "output"
    before = _snapshot()
    nb = _run("01_explore_reports_and_referrals.ipynb", tmp_path, USE_DEMO=False,
              AREAS=str(shared_data / "boundaries" / "northamptonshire_wards_2013.geojson"),
              REPORTS=str(shared_data / "police" / "2018-03-northamptonshire-street.csv"),
              HOTSPOT_MEASURE="reports", ALLOW_UNMATCHED=True,
              CATEGORY="Violence and sexual offences", PERIOD="2018-03",
              OUTPUT_DIR=str(out_dir))
    after = _snapshot()
    text = _text(nb)
    assert "146 wards" in text and ("6,370 rows read" in text or "<td>6370</td>" in text)
    assert "outside" in text  # police.uk points beyond the county are accounted for
    assert len(_iframes(nb)) >= 3, "overview, category and hotspot maps should render inline"
    assert not any("image/png" in o.get("data", {}) for o in _outputs(nb)), \
        "no population: the funnel plot should have been skipped"
    assert {p.name for p in out_dir.iterdir()} >= {"overview.html", "hotspots.html", "wards.csv"}
    assert "Skipped: The funnel plot needs POPULATION" in _text(nb)
    _assert_nothing_written(before, after, "notebook 01 on ../shared/data")


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["02_campaign_targeting.ipynb", "03_pilot_hub_expansion.ipynb"])
def test_notebooks_02_and_03_on_northamptonshire_with_only_wards_and_police(name, shared_data, tmp_path):
    """Issue 13: with only AREAS and REPORTS set (one month of police.uk), every section that needs another
    input, or more than one period, is skipped with a visible note; nothing fails."""
    out_dir = tmp_path / "output"
    before = _snapshot()
    nb = _run(name, tmp_path, USE_DEMO=False,
              AREAS=str(shared_data / "boundaries" / "northamptonshire_wards_2013.geojson"),
              REPORTS=str(shared_data / "police" / "2018-03-northamptonshire-street.csv"),
              ALLOW_UNMATCHED=True, OUTPUT_DIR=str(out_dir))
    after = _snapshot()
    errors = [o for o in _outputs(nb) if o.get("output_type") == "error"]
    assert not errors, f"{name}: {errors[0].get('ename')}: {errors[0].get('evalue')}"
    text = _text(nb)
    assert "Skipped" in text and "146 wards" in text
    assert _iframes(nb), f"{name}: no map drawn from the wards and police data"
    _assert_nothing_written(before, after, f"{name} on ../shared/data")


def test_readme_papermill_command_runs_from_the_repository_root(tmp_path):
    """The README's command, as typed from the repository root (paths resolve against notebooks/)."""
    exe = Path(sys.executable).with_name("papermill")
    if not exe.exists():
        pytest.skip("papermill is not installed beside this interpreter")
    before = _snapshot()
    res = subprocess.run([str(exe), "--cwd", "notebooks", "notebooks/01_explore_reports_and_referrals.ipynb",
                          str(tmp_path / "01.ipynb"), "-p", "OUTPUT_DIR", str(tmp_path / "out"),
                          "--execution-timeout", str(CELL_TIMEOUT)],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert (tmp_path / "out" / "overview.html").exists()
    _assert_nothing_written(before, _snapshot(), "the README's papermill command")


# --------------------------------------------------------------------------- nbstrip and the hook
def _dirty_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata.update({"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                        "language_info": {"name": "python", "version": "3.11.7"},
                        "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {"x": "WARD DATA"}}},
                        "papermill": {"parameters": {"REPORTS": "/private/reports.csv"}}})
    params = nbformat.v4.new_code_cell('REPORTS = "../data/demo/reports.csv"', id="params")
    params.metadata["tags"] = ["parameters"]
    injected = nbformat.v4.new_code_cell('REPORTS = "/private/reports.csv"', id="injected")
    injected.metadata["tags"] = ["injected-parameters"]
    run = nbformat.v4.new_code_cell("print(1)", id="run", execution_count=3,
                                    outputs=[nbformat.v4.new_output("stream", name="stdout", text="Abbeygate 7\n")])
    run.metadata.update({"execution": {"iopub.status.busy": "2024-01-01T00:00:00Z"}, "scrolled": True,
                         "collapsed": False, "jupyter": {"outputs_hidden": True, "source_hidden": True}})
    nb.cells = [nbformat.v4.new_markdown_cell("# Title", id="md"), params, injected, run]
    return nb


def test_nbstrip_strips_outputs_private_parameters_and_volatile_metadata(tmp_path):
    path = tmp_path / "dirty.ipynb"
    nbformat.write(_dirty_notebook(), path)
    assert nbstrip.main(["--check", str(path)]) == 1
    assert nbstrip.main([str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    for secret in ("Abbeygate 7", "WARD DATA", "/private/reports.csv", "3.11.7", "iopub", "outputs_hidden"):
        assert secret not in text
    nb = nbformat.read(path, as_version=4)
    assert [c.id for c in nb.cells] == ["md", "params", "run"]
    assert nb.cells[1].metadata["tags"] == ["parameters"]
    assert nb.cells[2].outputs == [] and nb.cells[2].execution_count is None
    assert nb.cells[2].metadata == {"jupyter": {"source_hidden": True}}
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nbstrip.main(["--check", str(path)]) == 0
    assert nbstrip.main([str(path)]) == 0 and path.read_text(encoding="utf-8") == text  # idempotent


def test_nbstrip_command_line(tmp_path):
    clean, dirty = tmp_path / "clean.ipynb", tmp_path / "dirty.ipynb"
    nbformat.write(_dirty_notebook(), dirty)
    clean.write_text(nbstrip.strip_text(dirty.read_text(encoding="utf-8")), encoding="utf-8")
    run = [sys.executable, str(REPO / "tools" / "nbstrip.py")]
    res = subprocess.run([*run, "--check", str(clean), str(dirty)], capture_output=True, text=True)
    assert res.returncode == 1 and "would strip" in res.stdout and "dirty.ipynb" in res.stdout
    assert "clean.ipynb" not in res.stdout
    (tmp_path / "notes.ipynb").write_text("not json", encoding="utf-8")
    res = subprocess.run([*run, str(tmp_path / "missing.ipynb"), str(tmp_path / "notes.ipynb")],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "missing.ipynb" in res.stderr
    assert "notes.ipynb: not a Jupyter notebook" in res.stderr


def test_pre_commit_hook_strips_staged_notebooks_and_restages_them(tmp_path):
    hook = REPO / ".githooks" / "pre-commit"
    assert hook.exists() and hook.stat().st_mode & stat.S_IXUSR, f"{hook} is missing or not executable"
    work = tmp_path / "clone"
    (work / "notebooks").mkdir(parents=True)
    staged = work / "notebooks" / "my analysis.ipynb"
    nbformat.write(_dirty_notebook(), staged)
    # A stub git: the hook asks for the top folder and the staged notebooks, then re-adds them.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "git.log"
    (bin_dir / "git").write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> "{log}"\n'
        'case "$1" in\n'
        f'  rev-parse) echo "{work}" ;;\n'
        "  diff) printf 'notebooks/my analysis.ipynb\\0' ;;\n"
        "esac\n", encoding="utf-8")
    (bin_dir / "git").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "GANGMAP_PYTHON": sys.executable,
           "PYTHONPATH": str(REPO)}
    res = subprocess.run([str(hook)], cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert nbstrip.main(["--check", str(staged)]) == 0, "the hook did not strip the staged notebook"
    assert "add -- notebooks/my analysis.ipynb" in log.read_text(encoding="utf-8")
