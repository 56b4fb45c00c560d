"""Packaging: pyproject.toml and environment.yml agree; the console command exists."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _split(spec: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject():
    py = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(_split(s) for s in py["dependencies"] + py["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    got = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            got.update(_split(s) for s in dep["pip"])
        else:
            name, spec = _split(dep)
            if name not in ("python", "pip"):
                got[name] = spec
    assert got == wanted


def test_console_command_and_help():
    exe = Path(sys.executable).with_name("gangmap")
    assert exe.exists(), "pip install should create the gangmap console command"
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True).stdout
    for cmd in ("demo", "join", "map"):
        assert cmd in out
    for cmd in ("demo", "join", "map"):
        sub = subprocess.run([str(exe), cmd, "--help"], capture_output=True, text=True, check=True).stdout
        assert "--out" in sub


def test_layout():
    for p in ["gangmap", "notebooks", "data/boundaries", "tests", "environment.yml", "README.md",
              "pyproject.toml", "Makefile", ".ci/run"]:
        assert (ROOT / p).exists(), p
    assert "make test" in (ROOT / ".ci/run").read_text()
    assert "data/private/" in (ROOT / ".gitignore").read_text()


HEAVY = ("matplotlib", "mapclassify", "esda", "libpysal", "spopt", "pulp", "scipy", "openpyxl", "ipywidgets",
         "geopandas", "pandas", "shapely", "pyproj", "requests")


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout.split()
    return [m for m in HEAVY if m in out]


def test_import_gangmap_loads_no_heavy_library():
    assert _loaded_after("import gangmap") == []


def test_version_loads_no_plotting_or_statistics_library():
    code = ("import contextlib, io, gangmap.cli as c\n"
            "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
            "    c.main(['--version'])")
    assert [m for m in _loaded_after(code) if m not in ("requests",)] == []


def test_help_loads_no_geopandas():
    """The CLI's flags come from gangmap.io.options: reading them must not load the boundary readers."""
    code = ("import contextlib, io, gangmap.cli as c\n"
            "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
            "    c.main(['join', '--help'])")
    assert [m for m in _loaded_after(code) if m in ("geopandas", "shapely", "pyproj", "matplotlib")] == []


def test_io_names_are_all_reachable():
    import gangmap.io as io

    assert sorted(io.__all__) == sorted(io._LAZY)
    assert all(getattr(io, name) is not None for name in io.__all__)


def test_version_has_one_source():
    import gangmap
    from gangmap._version import __version__

    assert gangmap.__version__ == __version__
    assert "version =" not in (ROOT / "pyproject.toml").read_text().split("[project]")[1].split("[")[0]
    exe = Path(sys.executable).with_name("gangmap")
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"gangmap {__version__}"
