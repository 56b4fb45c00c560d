"""Map packs: built once from one cube, safe as a whole, written whole into --out and nowhere else."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import gangmap
from gangmap import pack, planning
from gangmap.errors import ConfigError, InputError
from gangmap.outputs import MANIFEST
from gangmap.pack.views import View, links_of, views_of

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo_pack(tmp_path_factory):
    out = tmp_path_factory.mktemp("pack") / "demo"
    return out, pack.build_demo(out)


def _snapshot(folder: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_demo_pack_writes_every_artefact_and_an_audit(demo_pack):
    out, result = demo_pack
    names = sorted(p.name for p in out.iterdir())
    for f in ["index.html", "overview.html", "overview.png", "hubs.html", "weapons_hotspots.html", "summary.csv",
              "summary.xlsx", "recommendation.csv", "sensitivity.csv", "hubs.csv", "campaign_effect.csv",
              "campaign_effect.png", MANIFEST]:
        assert f in names, f
    assert result.index == out / "index.html" and result.audit is not None and result.audit.ok
    manifest = json.loads((out / MANIFEST).read_text())
    assert sorted(manifest["files"]) == sorted(n for n in names if n != MANIFEST)


def test_pack_reads_and_joins_each_input_once(demo_paths, tmp_path, monkeypatch):
    from gangmap import joining

    calls = {"build_cube": 0, "join": 0}
    real_cube, real_join = joining.build_cube, joining.join

    def count(name, fn):
        def wrapped(*a, **k):
            calls[name] += 1
            return fn(*a, **k)
        return wrapped

    monkeypatch.setattr(joining, "build_cube", count("build_cube", real_cube))
    monkeypatch.setattr(joining, "join", count("join", real_join))
    pack.build_demo(tmp_path / "p")
    # five maps, a category filter and seven quarters: one read, one join (the self-audit reuses them)
    assert calls == {"build_cube": 1, "join": 0}


def test_views_and_links_follow_the_filters():
    cfg = pack.load_config(gangmap.demo.paths()["pack"])
    views = views_of(cfg)
    assert list(views) == ["all", "Weapons concern · all periods"]
    a, b, c = View("all"), View("w", ("A",)), View("d", ("B",))
    links = links_of({"all": a, "w": b, "d": c}, ["A", "B"], [])
    assert len(links) == 1 and set(links[0].parts) == {"w", "d"} and links[0].complete
    links = links_of({"all": a, "w": b}, ["A", "B"], [])
    assert len(links) == 1 and not links[0].complete
    nested = links_of({"all": a, "ab": View("ab", ("A", "B")), "w": b}, ["A", "B", "C"], [])
    assert {(lk.whole, lk.parts) for lk in nested} == {("all", ("ab",)), ("ab", ("w",))}


def test_failed_build_leaves_the_previous_pack(demo_paths, tmp_path):
    out = tmp_path / "pack"
    cfg = {"inputs": {"wards": str(demo_paths["wards"]), "reports": str(demo_paths["reports"])},
           "maps": [{"file": "m", "layers": ["reports"]}]}
    pack.build_pack(cfg, out)
    before = (out / "m.html").read_bytes()
    bad = {**cfg, "maps": [{"file": "m", "layers": ["reports_rate"]}]}  # needs a population
    with pytest.raises(ConfigError, match="population"):
        pack.build_pack(bad, out)
    assert (out / "m.html").read_bytes() == before and not list(tmp_path.glob(".pack.*"))


def test_dropped_map_files_go_on_rebuild(demo_paths, tmp_path):
    out = tmp_path / "pack"
    cfg = {"inputs": {"wards": str(demo_paths["wards"]), "reports": str(demo_paths["reports"])},
           "maps": [{"file": "a", "layers": ["reports"]}, {"file": "b", "layers": ["reports"]}]}
    pack.build_pack(cfg, out)
    pack.build_pack({**cfg, "maps": cfg["maps"][:1]}, out)
    assert not (out / "b.html").exists() and (out / "a.html").exists()


def test_nothing_is_written_outside_out_and_inputs_are_never_replaced(demo_paths, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    for k in ("wards", "reports", "population"):
        (work / demo_paths[k].name).write_bytes(demo_paths[k].read_bytes())
    cfg = work / "pack.toml"
    cfg.write_text('[inputs]\nwards = "wards.geojson"\nreports = "reports.csv"\npopulation = "population.csv"\n'
                   '[[maps]]\nfile = "reports"\nlayers = ["reports_rate", "reports"]\n', encoding="utf-8")
    before = _snapshot(tmp_path)
    pack.build_pack(cfg, tmp_path / "out")
    after = _snapshot(tmp_path)
    changed = {p for p in after if before.get(p) != after[p]}
    assert changed and all(Path(p).is_relative_to(tmp_path / "out") for p in changed)
    with pytest.raises(ConfigError, match="inside the output folder"):
        pack.build_pack(cfg, work)  # --out holding the inputs would replace them
    assert _snapshot(work) == {p: t for p, t in after.items() if Path(p).is_relative_to(work)}
    escape = work / "escape.toml"
    escape.write_text(cfg.read_text().replace('file = "reports"', 'file = "../../x"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="inside the output folder"):
        pack.build_pack(escape, tmp_path / "out2")
    assert not (tmp_path / "out2").exists() and not (tmp_path.parent / "x.html").exists()


def test_killed_pack_leaves_the_previous_pack(demo_paths, tmp_path):
    out = tmp_path / "pack"
    cfg = {"inputs": {"wards": str(demo_paths["wards"]), "reports": str(demo_paths["reports"])},
           "maps": [{"file": "m", "layers": ["reports"]}]}
    pack.build_pack(cfg, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(REPO)!r})
        import gangmap.export as export
        real = export.write_table
        def die(*a, **k):
            os.kill(os.getpid(), signal.SIGKILL)
        export.write_table = die
        from gangmap import pack
        pack.build_pack({cfg!r}, {str(out)!r})
    """)
    res = subprocess.run([sys.executable, "-c", script], capture_output=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert res.returncode == -signal.SIGKILL
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_read_hubs_and_points(demo_paths):
    hubs = planning.read_hubs(demo_paths["pilot_hub"])
    assert list(hubs) == ["Castleford East pilot"] and len(hubs["Castleford East pilot"]) == 47
    with pytest.raises(InputError, match="URN"):
        planning.read_hubs(pd.DataFrame({"school": ["x"]}))
    pts = gangmap.io.read_schools(demo_paths["schools"]).to_points()
    assert len(pts) == 146 and pts.crs.to_epsg() == 27700 and "x" not in pts


def test_explorer_redraws_on_every_control(demo_paths):
    pytest.importorskip("ipywidgets")
    table, _ = gangmap.join(demo_paths["wards"], reports=demo_paths["reports"], population=demo_paths["population"])
    table = gangmap.measures.ensure_all(table, ["reports_rate"])
    safe = gangmap.make_safe(table)
    w = gangmap.maps.explorer({"All": safe}, ["reports_rate", "reports", "not_a_column"])
    measure, scheme = w.children[0].children[1], w.children[1].children[0]
    out = w.children[2]
    assert [v for _, v in measure.options] == ["reports_rate", "reports"]
    first = out.value
    assert "<iframe" in first and "srcdoc" in first
    measure.value = "reports"
    assert out.value != first
    before = out.value
    scheme.value = "equal_interval"
    assert out.value != before
    with pytest.raises(gangmap.errors.DisclosureError):
        gangmap.maps.explorer({"All": table}, ["reports"])


def test_demo_maps_carry_the_fictional_attribution(demo_pack):
    out, _ = demo_pack
    html = (out / "overview.html").read_text(encoding="utf-8")
    assert gangmap.demo.ATTRIBUTION in html and "Crown copyright" not in html
