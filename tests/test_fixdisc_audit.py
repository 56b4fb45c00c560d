"""The pack auditor reads each file under the rule it was published with, and says what it cannot model.

A CSV carries its disclosure rule in its metadata sidecar
(``<file>.csv-metadata.json``), not in a footer. The auditor once read every
CSV under ``nhs`` whatever its real rule (and the sidecar as latin-1, which
mangles the rule's en dash): a CSV of a ``threshold`` pack showing a count
its own rule hides passed.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

import gangmap
from gangmap.disclosure import audit_pack
from gangmap.disclosure.artefacts import read_artefact


def _config(folder: Path, policy: str, k: int = 20) -> Path:
    """The demo's inputs under ``policy`` (``threshold``: 1 to k-1 hidden, others exact): the unfiltered map
    and the quarterly map."""
    demo = gangmap.demo.paths()
    cfg = folder / "pack.toml"
    cfg.write_text(f'''
title = "Wyvernshire under {policy}"
policy = "{policy}"
k = {k}
[inputs]
wards = "{demo['wards']}"
reports = "{demo['reports']}"
population = "{demo['population']}"
[[maps]]
file = "overview"
layers = ["reports_rate", "reports"]
[[maps]]
file = "over_time"
kind = "time"
freq = "Q"
layers = ["reports"]
''', encoding="utf-8")
    return cfg


@pytest.fixture(scope="module")
def threshold_cfg(tmp_path_factory):
    return _config(tmp_path_factory.mktemp("threshold"), "threshold")


@pytest.fixture(scope="module")
def threshold_pack(threshold_cfg):
    folder = threshold_cfg.parent / "pack"
    gangmap.pack.build_pack(threshold_cfg, folder)
    return folder


def _copy(pack: Path, tmp_path: Path) -> Path:
    out = tmp_path / "pack"
    shutil.copytree(pack, out)
    return out


def _rows(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def _write(path: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def test_a_csv_is_read_under_the_rule_in_its_sidecar(threshold_pack):
    art = read_artefact(threshold_pack / "summary.csv")
    assert art.disclosure is not None and art.disclosure[0] == "threshold"
    assert "1–19 suppressed" in art.disclosure[1]  # the en dash survives: the sidecar is read as UTF-8
    side = read_artefact(threshold_pack / "summary.csv-metadata.json")
    assert "1–19 suppressed" in side.text


def test_the_threshold_pack_passes_its_audit(threshold_pack, threshold_cfg):
    result = audit_pack(threshold_pack, raw=threshold_cfg)
    assert result.problems == [], result.problems
    assert result.ok


def test_a_csv_showing_a_count_its_rule_hides_is_flagged(threshold_pack, threshold_cfg, tmp_path):
    """A hidden count of 8 to 19 written into summary.csv: under threshold with k = 20 (1–19 hidden) that is
    a leak; read as nhs (1–7 hidden, others rounded to 5) it looked like a rounded count and passed."""
    pack = _copy(threshold_pack, tmp_path)
    raw = threshold_cfg
    truth = audit_pack(threshold_pack, raw=raw).cells
    cand = truth[(truth["status"] == "hidden") & (truth["level"] == "area") & (truth["family"] == "all")
                 & truth["truth"].between(8, 19)]
    assert len(cand), "no hidden count of 8 to 19 in the threshold demo pack"
    row = cand.iloc[0]
    rows = _rows(pack / "summary.csv")
    target = next(r for r in rows if r["ward_code"] == row["code"])
    assert target[row["column"]] == "*"
    target[row["column"]] = str(int(row["truth"]))
    _write(pack / "summary.csv", rows)
    result = audit_pack(pack, raw=raw)
    assert not result.ok
    assert any("summary.csv" in p and row["code"] in p and "threshold" in p for p in result.problems), \
        result.problems


def test_a_csv_without_its_rule_fails_the_audit_loudly(threshold_pack, threshold_cfg, tmp_path):
    pack = _copy(threshold_pack, tmp_path)
    (pack / "summary.csv-metadata.json").unlink()
    result = audit_pack(pack, raw=threshold_cfg)
    assert not result.ok
    assert any(p.startswith("summary.csv: no disclosure rule found") for p in result.problems), result.problems


def test_a_sidecar_that_is_not_utf8_is_a_problem(threshold_pack, threshold_cfg, tmp_path):
    pack = _copy(threshold_pack, tmp_path)
    side = pack / "summary.csv-metadata.json"
    side.write_bytes(side.read_text(encoding="utf-8").encode("cp1252"))
    result = audit_pack(pack, raw=threshold_cfg)
    assert not result.ok
    assert any("summary.csv" in p and "not UTF-8" in p for p in result.problems), result.problems
    assert pd.notna(result.cells["low"]).all()


def test_headers_are_read_without_the_pack_module():
    """The aliases once tried ``gangmap.pack.NAMES`` (which does not exist) under a bare except: now they are
    the geography titles only, and count and rate headers are read by pattern."""
    from gangmap.disclosure.packaudit import aliases, column_of

    assert aliases()["ward"] == "ward_name" and aliases()["lsoa"] == "lsoa_name"
    assert column_of("Reports (count)") == "reports"
    assert column_of("Referrals per 1,000 children aged 10–17") == "referrals_rate"
    assert column_of("District") == "lad_name"
