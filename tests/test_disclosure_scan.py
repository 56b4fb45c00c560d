"""The scanner: export every artefact gangmap can make and read back every byte.

Demo wards are given reports seeded with many small counts. Every exported
file (HTML maps and their embedded JSON, CSV, XLSX, PNG metadata) is parsed,
and no raw count that the policy suppresses may appear for its ward, nor any
record-level detail (crime IDs, coordinates, free text) anywhere.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gangmap
from gangmap.cli import main

MARKER = "*"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """Demo wards, with reports rich in small counts, as record-level rows with crime IDs."""
    d = tmp_path_factory.mktemp("seeded")
    p = gangmap.demo.paths()
    wards = gangmap.read_wards(p["wards"])
    rng = np.random.default_rng(7)
    raw = rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 14, 23], size=len(wards))
    rows = []
    for code, n, geom in zip(wards["ward_code"], raw, wards.geometry):
        pt = geom.representative_point()
        for i in range(int(n)):
            rows.append({"Crime ID": f"SECRETID{code}{i:03d}", "easting": round(pt.x + i, 1),
                         "northing": round(pt.y, 1), "Location": f"On or near Secret Street {code}",
                         "category": "Weapons concern" if i % 2 else "Going missing", "period": "2018-04"})
    records = pd.DataFrame(rows)
    records.to_csv(d / "records.csv", index=False)
    counts = pd.DataFrame({"ward_code": wards["ward_code"], "count": raw})
    counts.to_csv(d / "counts.csv", index=False)
    return {"dir": d, "wards": p["wards"], "population": p["population"], "records": d / "records.csv",
            "counts": d / "counts.csv", "raw": dict(zip(wards["ward_code"], raw)),
            "secrets": ["SECRETID", "Secret Street"] + [f"{x:.1f}" for x in records["easting"].head(50)]}


def _exports(seeded, policy_args):
    out = seeded["dir"] / ("out_" + "_".join(policy_args).replace("-", ""))
    out.mkdir(exist_ok=True)
    base = ["--wards", str(seeded["wards"])]
    files = []
    for name, reports in (("records", seeded["records"]), ("counts", seeded["counts"])):
        for suffix in ("csv", "xlsx"):
            f = out / f"join_{name}.{suffix}"
            assert main(["join", *base, "--reports", str(reports), "--out", str(f), *policy_args]) == 0
            files.append(f)
        for measure in ("reports", "rate"):
            f = out / f"map_{name}_{measure}.html"
            assert main(["map", *base, "--reports", str(reports), "--population", str(seeded["population"]),
                         "--measure", measure, "--out", str(f), *policy_args]) == 0
            files.append(f)
    return files


def _rows_html(path: Path) -> dict[str, list[str]]:
    html = path.read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script type="application/json" id="gm-data">(.*?)</script>', html, re.S).group(1))
    codes = data["areas"]["codes"]
    rows = {c: [] for c in codes}
    for ly in data["layers"]:
        for key in ("values",):
            if key in ly:
                for c, v in zip(codes, ly[key]):
                    rows[c].append(v)
        for extra in ly.get("extra", []):
            for c, v in zip(codes, extra["values"]):
                rows[c].append(v)
    return rows


def _rows_table(path: Path) -> dict[str, list[str]]:
    if path.suffix == ".csv":
        df = pd.read_csv(path, comment="#", dtype=str, keep_default_na=False)
    else:
        df = pd.read_excel(path, sheet_name="wards", dtype=str, keep_default_na=False)
    ids = ["ward_code", "ward_name", "lad_code", "lad_name"]
    return {r["ward_code"]: [r[c] for c in df.columns if c not in ids] for _, r in df.iterrows()}


def _all_text(path: Path) -> str:
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    return path.read_text(encoding="utf-8", errors="replace")


def _numbers(values) -> list[float]:
    out = []
    for v in values:
        try:
            out.append(float(str(v).replace(",", "")))
        except ValueError:
            pass
    return out


@pytest.mark.parametrize("policy_args,small", [([], range(1, 8)),
                                               (["--policy", "threshold"], range(1, 10)),
                                               (["--policy", "threshold", "--k", "5"], range(1, 5))])
def test_no_suppressed_raw_count_in_any_exported_byte(seeded, policy_args, small):
    files = _exports(seeded, policy_args)
    assert len(files) == 8
    suppressed_seen = 0
    for f in files:
        text = _all_text(f)
        for secret in seeded["secrets"]:
            assert secret not in text, f"{f.name} leaks record-level detail {secret!r}"
        assert "OFFICIAL-SENSITIVE" in text, f"{f.name} has no protective marking"
        assert "Disclosure:" in text, f"{f.name} has no provenance footer"
        rows = _rows_html(f) if f.suffix == ".html" else _rows_table(f)
        assert set(rows) == set(seeded["raw"]), f.name
        for code, values in rows.items():
            raw = int(seeded["raw"][code])
            if raw in small:
                suppressed_seen += 1
                # The ward's own count, and everything derived from it, shows the marker.
                assert MARKER in values, (f.name, code, values)
                assert raw not in _numbers(values), (f.name, code, raw, values)
            # No safe count anywhere is a small number.
            counts_only = values[:1] if f.suffix != ".html" else []
            for v in _numbers(counts_only):
                assert not (0 < v < max(small) + 1), (f.name, code, v)
    assert suppressed_seen > 50  # the seeding really produced many small counts


def test_unsafe_policy_is_stamped_everywhere(seeded):
    files = _exports(seeded, ["--policy", "none", "--allow-unsafe"])
    for f in files:
        assert "UNSUPPRESSED – INTERNAL ONLY" in _all_text(f), f.name


def test_exporters_refuse_raw_tables(tmp_path):
    p = gangmap.demo.paths()
    table, _ = gangmap.join(p["wards"], reports=p["reports"])
    for call in (lambda: gangmap.export.to_csv(table, tmp_path / "x.csv"),
                 lambda: gangmap.export.to_xlsx(table, tmp_path / "x.xlsx"),
                 lambda: gangmap.maps.choropleth(table, "reports")):
        with pytest.raises(gangmap.errors.DisclosureError):
            call()
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "x.xlsx").exists()


@pytest.fixture(scope="module")
def seeded_pack(seeded):
    """A map pack (with planning) built from the seeded small counts."""
    p = gangmap.demo.paths()
    records = pd.read_csv(seeded["records"])
    months = [str(m) for m in pd.period_range("2017-09", "2018-08", freq="M")]
    records["period"] = [months[i % len(months)] for i in range(len(records))]
    records.to_csv(seeded["dir"] / "records_periods.csv", index=False)
    cfg = seeded["dir"] / "pack.toml"
    cfg.write_text(f'''
title = "Seeded"
policy = "nhs"
[inputs]
wards = "{p['wards']}"
reports = "{seeded['dir'] / 'records_periods.csv'}"
referrals = "{p['referrals']}"
schools = "{p['schools']}"
population = "{p['population']}"
[planning]
campaign = "{p['campaign']}"
recommend = 6
pilot_hub = "{p['pilot_hub']}"
[[maps]]
file = "overview"
layers = ["need_index", "reports_rate", "reports_eb", "reports_rate_lisa", "reports"]
overlays = ["districts", "campaign", "recommended", "hubs", "schools"]
''')
    out = seeded["dir"] / "pack"
    assert main(["pack", str(cfg), "--out", str(out)]) == 0
    return out


def test_pack_outputs_leak_nothing(seeded, seeded_pack):
    from gangmap.outputs import MANIFEST

    manifest = json.loads((seeded_pack / MANIFEST).read_text(encoding="utf-8"))
    assert set(manifest) == {"files"}, "the pack manifest lists file names and nothing else"
    files = sorted(f for f in seeded_pack.iterdir() if f.is_file() and f.name != MANIFEST)
    assert sorted(manifest["files"]) == [f.name for f in files]
    kinds = {f.suffix for f in files}
    assert {".html", ".csv", ".xlsx", ".png"} <= kinds
    assert kinds <= {".html", ".csv", ".xlsx", ".png"}, "only safe artefacts in the pack (no join reports)"
    checked = 0
    for f in files:
        text = _all_text(f) if f.suffix != ".png" else f.read_bytes().decode("latin-1")
        for secret in seeded["secrets"]:
            assert secret not in text, f"{f.name} leaks record-level detail {secret!r}"
        if f.suffix == ".png":
            continue
        assert "OFFICIAL-SENSITIVE" in text, f"{f.name} has no protective marking"
        if f.name == "overview.html":
            rows = _rows_html(f)
        elif f.suffix in (".csv", ".xlsx") and "ward_code" in text[:2000] and f.stem in ("summary",):
            rows = _rows_table(f)
        else:
            continue
        for code, values in rows.items():
            raw = int(seeded["raw"][code])
            if 1 <= raw <= 7:
                checked += 1
                assert MARKER in values and raw not in _numbers(values), (f.name, code, raw, values)
    assert checked > 40
