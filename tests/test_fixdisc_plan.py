"""A pack whose data cannot support the campaign evaluation is built without it, and says so.

:func:`gangmap.planning.evaluate` raises ``InputError`` when the months, the
groups or the fit cannot support an estimate. The pack used to fail as a
whole; it now skips the evaluation with a note on the index page that quotes
no count, and warns the person building it with the full reason.
"""

from __future__ import annotations

import shutil
import warnings

import pytest

import gangmap
from gangmap.errors import InputError


def _demo_copy(tmp_path, launch: str):
    src = gangmap.demo.paths()["pack"].parent
    folder = tmp_path / "demo"
    shutil.copytree(src, folder)
    camp = folder / "campaign.toml"
    camp.write_text(camp.read_text(encoding="utf-8").replace('launch = "2018-03"', f'launch = "{launch}"'),
                    encoding="utf-8")
    assert f'launch = "{launch}"' in camp.read_text(encoding="utf-8")
    return folder / "pack.toml"


def test_a_launch_with_no_month_before_it_skips_the_evaluation(tmp_path):
    """The demo's reports start in 2017-03: a campaign launched then leaves no month before the launch."""
    cfg = _demo_copy(tmp_path, "2017-03")
    out = tmp_path / "pack"
    with pytest.warns(UserWarning, match="campaign evaluation was skipped: planning.evaluate"):
        result = gangmap.pack.build_pack(cfg, out)
    assert not (out / "campaign_effect.csv").exists() and not (out / "campaign_effect.png").exists()
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "Is the campaign working?" in page and "Not evaluated" in page
    assert "2017-03 to" not in page.split("Is the campaign working?")[1][:400]  # the reason is not published
    assert result.audit is not None and result.audit.ok
    assert (out / "recommendation.csv").exists()  # the rest of the planning is there


def test_a_fit_that_fails_skips_the_evaluation_without_publishing_its_reason(tmp_path, monkeypatch):
    """Whatever evaluate's reason (a non-converged fit here), the index quotes none of it."""
    def failing(*args, **kwargs):
        raise InputError("planning.evaluate (estimate): the fit did not converge; targeted 2018-04 had 3 reports")

    monkeypatch.setattr(gangmap.planning, "evaluate", failing)
    out = tmp_path / "pack"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gangmap.pack.build_demo(out)
    assert any("did not converge" in str(w.message) for w in caught)
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "Not evaluated" in page and "did not converge" not in page and "3 reports" not in page
    assert not (out / "campaign_effect.csv").exists()
