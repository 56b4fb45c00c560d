"""gangmap.notebook: the demo is one switch; own inputs are explicit; paths resolve against the notebook."""

from __future__ import annotations

import pytest

from gangmap.errors import ConfigError
from gangmap.notebook import notebook_folder, notebook_inputs


def test_demo_switch_takes_every_input_from_the_demo(demo_paths):
    nb = notebook_inputs(use_demo=True)
    assert nb.areas == demo_paths["wards"] and nb.population == demo_paths["population"]
    with pytest.raises(ConfigError, match="USE_DEMO is True but REPORTS is set"):
        notebook_inputs(use_demo=True, reports="mine.csv")


def test_own_inputs_never_fall_back_to_the_demo(tmp_path):
    (tmp_path / "w.geojson").write_text("{}")
    (tmp_path / "r.csv").write_text("x")
    nb = notebook_inputs(use_demo=False, base=tmp_path, areas="w.geojson", reports="r.csv", population=None)
    assert nb.areas == tmp_path / "w.geojson" and nb.population is None and nb.schools is None
    assert nb.output == tmp_path / "output"
    assert nb.skip("Rates", "population") is True and "POPULATION" in nb.skipped[0]
    assert nb.skip("Counts", "reports") is False
    with pytest.raises(ConfigError, match="AREAS must be set"):
        notebook_inputs(use_demo=False, base=tmp_path, reports="r.csv")


def test_relative_paths_resolve_against_the_notebook_folder(tmp_path, monkeypatch):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    (nbdir / "w.geojson").write_text("{}")
    monkeypatch.chdir(tmp_path)  # papermill run from the repository root
    monkeypatch.setenv("JPY_SESSION_NAME", str(nbdir / "01.ipynb"))  # what JupyterLab tells the kernel
    assert notebook_folder() == nbdir
    monkeypatch.delenv("JPY_SESSION_NAME")
    assert notebook_folder() == tmp_path
    with pytest.raises(ConfigError, match="--cwd notebooks"):
        notebook_inputs(use_demo=False, areas="w.geojson", reports="w.geojson")
    nb = notebook_inputs(use_demo=False, base=nbdir, areas="w.geojson", reports="w.geojson")
    assert nb.areas == nbdir / "w.geojson"
