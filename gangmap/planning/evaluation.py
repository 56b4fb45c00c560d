"""Is the campaign working? An evaluation of monthly counts that says when its evidence is weak.

:func:`evaluate` takes a *series frame* (monthly counts per area, NaN = no
data; see :mod:`.series`) or an ``AreaCube`` of the join, the target areas
and the launch month. Its headline is a robust estimate:

* **Model.** An interrupted time series with a comparison group (a
  difference in differences on monthly counts): Poisson regression with an
  effect for every area and every month, and one rate ratio for targeted
  areas after the launch (:mod:`.fepoisson`). Over-dispersion and
  correlation within an area are allowed for by area-clustered intervals
  (cluster jackknife, Student t with areas - 1 degrees of freedom). The
  95% intervals cover the truth 94.5-95.5% of the time in simulated Poisson,
  negative binomial and area-clustered panels
  (``benchmarks/validate_campaign_effect.py``).
* **Event study.** The same model with one rate ratio per quarter around the
  launch (the quarter before the launch is the reference): pre-launch
  ratios far from 1 warn that the areas were already drifting apart.
* **Pre-trend test.** On the months before the launch only: do targeted
  areas trend differently (a linear difference in trend, per year)?
  ``p < 0.1`` makes the evidence weak.
* **Placebo launches.** The model refitted on the months before the launch
  only, with a pretend launch inside them (three dates by default). A
  placebo whose interval excludes 1, or (when the estimate shows a change)
  one at least as far from 1 as the estimate, makes the evidence weak.
* **No estimate, no verdict.** A group with no counts before or from the
  launch, or a model that does not converge, is refused with an
  :class:`InputError` that names the group and months; a placebo, pre-trend
  or event-study period that cannot be fitted is left blank and says why.
* **Months with no data** (NaN) are left out, never read as 0: the model
  uses the area-months with data; in the monthly table a group's month is
  blank when any of its areas has no data, and the totals leave such months
  out for both groups (a note names them).
* **Verdict.** Plain words: a clear change, no clear change, or weak
  evidence (with the reasons). A reporting campaign usually *raises*
  reports, so a rise is not harm growing (see :data:`CAVEAT`).

:func:`did` keeps the first release's simple 2x2 difference in
differences (equal windows, Poisson interval) and :func:`did_chart` its
chart, for continuity; their intervals ignore over-dispersion and are not
the headline.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError, GangmapError, InputError
from ..figures import literal_text
from ..geography import WARD, Geography, custom
from ..table import AreaTable, from_frame
from . import fepoisson
from .common import article, as_codes, month, months, publish, some
from .publishing import RECIPE, published_values
from .series import check_series, series_from_reports

__all__ = ["CAVEAT", "CampaignEffect", "DiD", "evaluate", "evaluate_reports", "did", "did_chart",
           "did_table_safe"]

#: What every campaign evaluation must be read with.
CAVEAT = (
    "Read with care. (1) A reporting campaign asks people to report, so reports usually RISE at first: "
    "a rise in targeted areas can mean the campaign is working (people are noticing and reporting), "
    "not that harm has grown. Judge success with other outcomes too (referrals, admissions, offences). "
    "(2) Regression to the mean: areas chosen because their counts were high tend to fall back anyway. "
    "(3) Spill-over: publicity reaches untargeted areas too, which shrinks the measured difference. "
    "(4) Other changes at the same time (policing operations, recording rules, school terms, other "
    "services) can cause or hide a difference.")

#: A pre-trend test with p below this makes the evidence weak.
PRETREND_ALPHA = 0.1
#: Fewer areas than this in either group makes the clustered interval unreliable.
MIN_AREAS = 10

MONTH = custom("month", code="period", name="period", plural="months")
GROUP = custom("group", code="group", name="group", plural="groups")


# =========================================================================== results
@dataclass(frozen=True)
class Estimate:
    """A rate ratio with its interval and p-value (from a :class:`fepoisson.Fit`)."""

    ratio: float
    lo: float
    hi: float
    p_value: float

    @classmethod
    def of(cls, fit: fepoisson.Fit, j: int = 0, level: float = 0.95) -> Estimate:
        lo, hi = fit.ci(j, level)
        return cls(float(np.exp(fit.coef[j])), float(np.exp(lo)), float(np.exp(hi)), fit.p_value(j))

    @property
    def excludes_one(self) -> bool:
        return self.lo > 1 or self.hi < 1

    def text(self, level: float = 0.95) -> str:
        return f"{self.ratio:.2f} ({100 * level:g}% CI {self.lo:.2f} to {self.hi:.2f}; p = {self.p_value:.3g})"


@dataclass
class CampaignEffect:
    """The evaluation of a campaign (see :func:`evaluate`).

    Attributes
    ----------
    estimate : Estimate
        **The headline**: rate ratio of targeted vs other areas after vs
        before the launch, with an area-clustered interval.
    pretrend : Estimate or None
        Ratio per year of the pre-launch trend of targeted vs other areas
        (None with fewer than 4 months before the launch, or when it cannot be
        fitted; a weakness then says why).
    placebos : DataFrame
        ``launch``, ``rate_ratio``, ``ratio_lo``, ``ratio_hi``, ``p_value``,
        ``as_large`` (at least as far from 1 as the estimate) and
        ``significant`` (its interval excludes 1); NaN for a placebo that
        could not be fitted (a weakness says why).
    events : DataFrame
        Event study: ``quarter`` (the step since the launch, each
        ``bin_months`` months long, quarters by default: 0 = the step that
        starts at the launch), ``first``, ``last``, ``rate_ratio``,
        ``ratio_lo``, ``ratio_hi`` (the reference step -1 has ratio 1; NaN
        for a step that could not be fitted, with a note).
    evidence : str
        ``"clear"``, ``"no clear change"`` or ``"weak"``.
    weaknesses : list of str
        Why the evidence is weak (empty otherwise).
    verdict, message, caveat, method : str
    dispersion : float
        Pearson dispersion of the counts (1 for Poisson).
    areas : dict
        ``{"targeted": n, "other": n}`` areas that contribute.
    totals : dict
        Counts of targeted/other areas before/after the launch: the sums of
        :attr:`monthly` over the months in which both groups have data (a
        month blank for either group is left out of all four; a note names
        it). The model itself uses every area-month with data.
    monthly : AreaTable
        ``period``, ``window``, ``targeted``, ``other`` (**counts** per month;
        NaN = no data: a group's month is blank when any of its areas has no
        data that month, so a gap never shows as a fall).
    did : DiD or None
        The simple 2x2 difference in differences (equal windows), for continuity.
    bin_months : int
        Months per step of the event study.
    """

    estimate: Estimate
    pretrend: Estimate | None
    placebos: pd.DataFrame
    events: pd.DataFrame
    evidence: str
    weaknesses: list
    verdict: str
    message: str
    method: str
    launch: str
    level: float
    dispersion: float
    areas: dict
    totals: dict
    monthly: AreaTable
    geography: Geography = WARD
    did: Any = None
    caveat: str = CAVEAT
    notes: list = field(default_factory=list)
    bin_months: int = 3

    def _repr_html_(self) -> str:  # notebooks
        from ..reprs import card

        facts = [("launch", self.launch), ("period", self.period), ("method", self.method),
                 ("verdict", self.verdict), ("evidence", self.evidence)]
        return card("Campaign effect", facts, " ".join([self.message, *self.weaknesses, *self.notes]),
                    [("Placebo launches", self.placebos), (event_caption(self.bin_months), self.events)])

    @property
    def period(self) -> str:
        p = self.monthly["period"]
        return f"{p.iloc[0]} to {p.iloc[-1]}"

    def result_table(self) -> AreaTable:
        """One row: the four totals (**counts**) and the estimate, its interval, the pre-trend and largest
        placebo p-values (derived from all four), ready for make_safe."""
        srcs = ["targeted_before", "targeted_after", "other_before", "other_after"]
        row = {"group": "targeted vs other", **{k: int(self.totals[k]) for k in srcs},
               "rate_ratio": self.estimate.ratio, "ratio_lo": self.estimate.lo, "ratio_hi": self.estimate.hi,
               "p_value": self.estimate.p_value,
               "pretrend_p": self.pretrend.p_value if self.pretrend is not None else np.nan,
               "evidence": self.evidence}
        derived = ["rate_ratio", "ratio_lo", "ratio_hi", "p_value", "pretrend_p"]
        table = from_frame(pd.DataFrame([row]), counts=srcs, derived={c: srcs for c in derived}, geography=GROUP)
        notes = {c: {"recipe": model_figure(c, row[c], srcs)} for c in derived}
        return table.with_schema(notes={**table.schema.notes, **notes})

    def published_message(self, safe: Any) -> str | None:
        """The message in the words and figures of the published (safe) result, or None when withheld.

        The full :attr:`message` quotes the model's figures to three significant
        figures; a file that leaves the machine quotes only what ``safe`` (from
        :meth:`result_safe`) shows, and the reasons for a weak verdict in words.
        """
        f = safe.frame
        if any(bool(safe.suppressed[c].iloc[0]) for c in safe.suppressed) or "rate_ratio" not in f or \
                not np.isfinite(f["rate_ratio"].iloc[0]):
            return None
        geo = self.geography
        rr, lo, hi = (f"{f[c].iloc[0]:g}" for c in ("rate_ratio", "ratio_lo", "ratio_hi"))
        text = (f"After the launch ({self.launch}) reports in targeted {geo.plural} changed by a factor of about {rr} "
                f"({100 * self.level:g}% CI {lo} to {hi}) relative to other {geo.plural}.")
        reasons = []
        if self.pretrend is None:
            reasons.append(f"the pre-launch trends of targeted and other {geo.plural} could not be compared")
        elif self.pretrend.p_value < PRETREND_ALPHA:
            reasons.append(f"targeted {geo.plural} were already trending differently before the launch")
        reasons += [f"a placebo launch in {r['launch']}, when nothing happened, also shows a change"
                    for _, r in self.placebos.iterrows() if r["significant"] or (r["as_large"] and
                                                                                self.estimate.excludes_one)]
        fitted = self.placebos["rate_ratio"].notna()
        reasons += [f"the placebo launch in {p} could not be fitted" for p in self.placebos.loc[~fitted, "launch"]
                    if fitted.any()] + (["no placebo launch could be fitted"] if not fitted.any() else [])
        verdict = {"weak": "The evidence is weak: " + "; ".join(reasons or ["see the caveats"]) + ".",
                   "clear": "This is evidence of a change: no pre-launch difference and no placebo as large.",
                   "no clear change": "The interval includes 1: no clear change."}[self.evidence]
        return f"{text} {verdict}"

    def result_safe(self, policy: Any = "nhs", **options):
        """The one-row result made safe."""
        return publish(self.result_table(), policy=policy, keep=["evidence"], period=self.period, what="result",
                       **options)

    def monthly_safe(self, policy: Any = "nhs", **options):
        """The monthly counts made safe: what :func:`did_chart` draws."""
        return publish(self.monthly, policy=policy, keep=["window"], period=self.period, what="monthly table",
                       **options)

    def safe(self, policy: Any = "nhs", **options):
        """Same as :meth:`result_safe`."""
        return self.result_safe(policy=policy, **options)

    def __str__(self) -> str:
        return self.message


def event_caption(bin_months: int) -> str:
    """The caption of the event-study table: its rows are steps of ``bin_months`` months, not months."""
    step = {1: "month", 3: "quarter", 12: "year"}.get(bin_months, f"{bin_months}-month period")
    return f"Event study by {step} (relative to the launch)"


#: A model estimate is published only when every group total it pools is at least this large.
MIN_GROUP_TOTAL = 1000
#: ... and then to this many significant figures.
MODEL_SIG_FIGS = 2


def model_figure(column: str, value: float, totals: list[str]):
    """The disclosure recipe of a model estimate (rate ratio, its interval, p-values).

    A model estimate cannot be worked out again from the published (rounded)
    totals, so it is published coarsened instead: to ``MODEL_SIG_FIGS``
    significant figures, and only when each published group total is at least
    ``MIN_GROUP_TOTAL``. One report more or less in any area-month moves the
    log rate ratio by at most about 1/(smallest group total), under 0.1% here,
    well inside the 0.5%-5% steps of two significant figures, so the figure
    cannot be used to tell the exact totals (or, through them, a hidden area)
    apart. Otherwise it is withheld.
    """
    def recipe(published: AreaTable) -> pd.Series:
        small = any(not (published.frame[t].iloc[0] >= MIN_GROUP_TOTAL) for t in totals)
        shown = np.nan if small or not np.isfinite(value) else float(f"{value:.{MODEL_SIG_FIGS}g}")
        return pd.Series([shown], index=published.frame.index, name=column)

    return recipe


# =========================================================================== the model
def _series_input(series: Any, kind: str, category: Any) -> pd.DataFrame:
    if hasattr(series, "series") and callable(series.series):  # an AreaCube of the join
        series = series.series(kind, category=category)
    elif category is not None:
        raise ConfigError("planning.evaluate: category= applies to an AreaCube; filter the series frame before.")
    return check_series(series)


def _launch_index(cols: list[str], launch: str) -> int:
    pre = sum(c < launch for c in cols)
    if pre < 2 or pre == len(cols):
        raise InputError(f"planning.evaluate: the series runs {cols[0]} to {cols[-1]}, so there are {pre} month(s) "
                         f"before the launch ({launch}) and {len(cols) - pre} from it; the model needs at least 2 "
                         "before and 1 after.")
    return pre


def _span(months: list[str]) -> str:
    return months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}"


def _empty_cells(Y, g, sides: list[tuple[str, np.ndarray]], cols: list[str], geo: Geography) -> list[str]:
    """The groups and months of a comparison with no count at all (a rate ratio there is 0 or infinite).

    ``sides`` are ``(words, month mask)``; each entry of the answer reads e.g.
    ``"targeted wards from the launch (2018-01 to 2018-12)"``.
    """
    out = []
    for group, rows in (("targeted", g), ("other", ~g)):
        for words, mask in sides:
            if not np.nansum(Y[np.ix_(rows, mask)]) > 0:
                out.append(f"{group} {geo.plural}{' ' + words if words else ''} "
                           f"({_span([cols[t] for t in np.flatnonzero(mask)])})")
    return out


def _try_fit(Y, X) -> tuple[fepoisson.Fit | None, str]:
    """The fit, or None and why not: it failed, did not converge or gave no finite estimate."""
    try:
        fit = fepoisson.fit(Y, X)
    except InputError as exc:
        return None, str(exc).rstrip(".")
    if not fit.converged or not (np.isfinite(fit.coef).all() and np.isfinite(fit.se).all()):
        return None, ("the model did not converge to a finite rate ratio (usually a group with no counts in some of "
                      "the months compared)")
    return fit, ""


def _fit(Y, X, what: str) -> fepoisson.Fit:
    fit, why = _try_fit(Y, X)
    if fit is None:
        raise InputError(f"planning.evaluate ({what}): {why}. Look at the monthly counts of each group in the series "
                         "frame, and check the target codes and the launch month.")
    return fit


def _check_cells(Y, g, L, cols, geo) -> None:
    """Refuse an estimate that cannot exist: a group with no count before, or from, the launch."""
    t = np.arange(len(cols))
    empty = _empty_cells(Y, g, [("before the launch", t < L), ("from the launch", t >= L)], cols, geo)
    if empty:
        raise InputError(f"planning.evaluate: no counts in {' or '.join(empty)}. The rate ratio compares targeted "
                         f"and other {geo.plural} before and from the launch, so each of the four needs some counts; "
                         f"without them it is 0 or infinite, not an estimate. Check the target {geo.label} codes and "
                         f"the launch month ({cols[L]}), and whether the source published data for these "
                         f"{geo.plural} then.")


def _event_fit(Y, g, q, steps, empty, level, notes) -> dict:
    """The estimate of each step of the event study that can be fitted (steps with an empty group are left out)."""
    if empty[-1]:
        notes.append(f"event study not fitted: no counts in {' or '.join(empty[-1])}, the reference period")
        return {}
    for b in steps:
        if empty[b]:
            notes.append(f"event study: no counts in {' or '.join(empty[b])}, so that period is left blank")
    bins = [b for b in steps if b != -1 and not empty[b]]
    if not bins:
        return {}
    Yb = np.where(np.isin(q, [b for b in steps if empty[b]])[None, :], np.nan, Y)
    X = np.stack([g[:, None] * (q == b)[None, :] for b in bins], axis=2).astype(float)
    fit, why = _try_fit(Yb, X)
    if fit is None:
        notes.append(f"event study not fitted: {why}")
        return {}
    return {b: Estimate.of(fit, i, level) for i, b in enumerate(bins)}


def _events(Y, g, L, cols, level, bin_months, geo, notes) -> pd.DataFrame:
    T = Y.shape[1]
    q = np.floor((np.arange(T) - L) / bin_months).astype(int)
    steps = sorted(set(q))
    empty = {b: _empty_cells(Y, g, [("", q == b)], cols, geo) for b in steps}
    fitted = _event_fit(Y, g, q, steps, empty, level, notes)
    rows = []
    for b in steps:
        span = [cols[t] for t in range(T) if q[t] == b]
        est = Estimate(1.0, 1.0, 1.0, np.nan) if b == -1 else fitted.get(b, Estimate(np.nan, np.nan, np.nan, np.nan))
        rows.append({"quarter": b, "first": span[0], "last": span[-1], "rate_ratio": est.ratio, "ratio_lo": est.lo,
                     "ratio_hi": est.hi})
    return pd.DataFrame(rows)


def _pretrend(Y, g, L, level) -> Estimate | str:
    """The pre-trend estimate, or the weakness that says why there is none."""
    if L < 4:
        return "there are too few months before the launch to test for a difference in trends"
    t = (np.arange(L) - L) / 12.0
    fit, why = _try_fit(Y[:, :L], (g[:, None] * t[None, :])[:, :, None])
    if fit is None:
        return f"the pre-launch trends could not be compared: {why}"
    return Estimate.of(fit, 0, level)


#: A default placebo launch has at least this many months of data either side of it.
PLACEBO_SIDE = 3


def default_placebos(cols: list[str], L: int, min_side: int = PLACEBO_SIDE) -> list[str]:
    """Three pretend launch months inside the pre-launch months, each with ``min_side`` months either side."""
    valid = np.arange(min_side, L - min_side + 1)
    if not len(valid):
        return []
    picks = sorted({int(np.round(np.quantile(valid, q))) for q in (0.25, 0.5, 0.75)})
    return [cols[i] for i in picks]


def _placebo(Y, g, L, i, cols, geo, level) -> tuple[Estimate | None, str]:
    """One placebo launch at month ``i`` on the months before the real launch, or None and why not."""
    t = np.arange(L)
    empty = _empty_cells(Y[:, :L], g, [("before it", t < i), ("from it", t >= i)], cols, geo)
    if empty:
        return None, f"no counts in {' or '.join(empty)}"
    D = g[:, None] * (t >= i)[None, :]
    fit, why = _try_fit(Y[:, :L], D[:, :, None].astype(float))
    return (Estimate.of(fit, 0, level), "") if fit is not None else (None, why)


def _placebos(Y, g, L, cols, launches, estimate: Estimate, level, geo) -> tuple[pd.DataFrame, list[str]]:
    """The placebo table (NaN where a placebo could not be fitted) and the weaknesses that say why."""
    rows, problems = [], []
    for p in launches:
        i = cols.index(p) if p in cols else -1
        if not 0 < i < L:
            raise ConfigError(f"planning.evaluate: placebo launch {p!r} must be a month after {cols[0]} and before "
                              f"the launch {cols[L]}.")
        est, why = _placebo(Y, g, L, i, cols, geo, level)
        if est is None:
            problems.append(f"the placebo launch in {p} could not be fitted: {why}")
            est = Estimate(np.nan, np.nan, np.nan, np.nan)
        rows.append({"launch": p, "rate_ratio": est.ratio, "ratio_lo": est.lo, "ratio_hi": est.hi,
                     "p_value": est.p_value,
                     "as_large": bool(abs(math.log(est.ratio)) >= abs(math.log(estimate.ratio))) if
                     np.isfinite(est.ratio) else False,
                     "significant": est.excludes_one})
    return pd.DataFrame(rows, columns=["launch", "rate_ratio", "ratio_lo", "ratio_hi", "p_value", "as_large",
                                       "significant"]), problems


def _no_placebo(plac: pd.DataFrame, asked: bool, L: int) -> str | None:
    """Why no placebo launch was fitted, or None when one was: without one the verdict cannot be clear."""
    if len(plac) and plac["rate_ratio"].notna().any():
        return None
    if len(plac):
        return "no placebo launch could be fitted, so nothing checks that a change this size arises without a launch"
    if asked:
        return "no placebo launch was fitted (placebos=[]), so nothing checks that a change this size arises without " \
               "a launch"
    return (f"no placebo launch could be fitted: one needs {PLACEBO_SIDE} months of data either side and there are "
            f"{L} months before the launch")


def _weaknesses(est, pre, plac, n_t, n_o, geo, level, problems: list[str]) -> list[str]:
    """Why the evidence is weak.

    ``pre`` is the pre-trend estimate or why there is none; ``problems`` are
    the placebo checks that could not run.
    """
    out = [pre] if isinstance(pre, str) else []
    if isinstance(pre, Estimate) and pre.p_value < PRETREND_ALPHA:
        out.append(f"before the launch, targeted {geo.plural} were already trending differently (a ratio of "
                   f"{pre.ratio:.2f} per year, p = {pre.p_value:.3g})")
    for _, r in plac.iterrows():
        if r["as_large"] and est.excludes_one:  # a placebo as large as a claimed change
            out.append(f"a placebo launch in {r['launch']} (when nothing happened) gives {r['rate_ratio']:.2f}, as "
                       f"far from 1 as the estimate")
        elif r["significant"]:
            out.append(f"a placebo launch in {r['launch']} gives a 'significant' {r['rate_ratio']:.2f} "
                       f"({100 * level:g}% CI {r['ratio_lo']:.2f} to {r['ratio_hi']:.2f}) where nothing happened")
    out += problems
    if min(n_t, n_o) < MIN_AREAS:
        out.append(f"only {n_t} targeted and {n_o} other {geo.plural} have counts, too few for a reliable "
                   "clustered interval")
    return out


def _verdict(est: Estimate, weak: list[str], geo: Geography, level: float, placebos: int) -> tuple[str, str]:
    change = (f"reports in targeted {geo.plural} were {est.ratio:.2f} times what the change in other "
              f"{geo.plural} predicts ({100 * level:g}% CI {est.lo:.2f} to {est.hi:.2f})")
    if weak:
        return "weak", (f"The evidence is weak: {'; '.join(weak)}. After the launch {change}, but this should not be "
                        "read as the campaign's effect.")
    if est.excludes_one:
        tested = "the placebo launch shows" if placebos == 1 else f"none of the {placebos} placebo launches shows"
        return "clear", (f"Evidence of a change: after the launch {change}; targeted and other {geo.plural} trended "
                         f"alike before it and {tested} a change as large.")
    return "no clear change", (f"No clear change: after the launch {change}; the interval includes 1, so the data "
                               "are consistent with no difference.")


def _group_month(vals: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The total of the areas ``rows`` per month: NaN (no data) when any of them has no data that month.

    A month in which some areas published nothing is not a month of fewer
    reports: summing what is there would draw a gap as a fall (the rule of
    :func:`gangmap.measures.county_series`). An area with no data in any month
    is outside the series and does not blank every month.
    """
    sub = vals[rows]
    sub = sub[np.isfinite(sub).any(axis=1)]
    if not len(sub):
        return np.full(vals.shape[1], np.nan)
    return np.where(np.isfinite(sub).all(axis=0), np.nansum(sub, axis=0), np.nan)


def _monthly(S: pd.DataFrame, g: np.ndarray, launch: str, windows: dict | None = None) -> AreaTable:
    """The counts of targeted and other areas per month (NaN where one of the group's areas has no data)."""
    cols = list(S.columns)
    vals = S.to_numpy(dtype=float)
    if windows is None:
        window = ["before" if m < launch else "after" for m in cols]
    else:
        window = ["before" if m in windows["before"] else "after" if m in windows["after"] else "between"
                  for m in cols]
    frame = pd.DataFrame({"period": cols, "window": window, "targeted": _group_month(vals, g),
                          "other": _group_month(vals, ~g)})
    return from_frame(frame, counts=["targeted", "other"], geography=MONTH)


def _totals(monthly: AreaTable) -> dict:
    """The four totals: sums of the monthly table over the months in which BOTH groups have data.

    A month that is blank for either group is left out of all four, so the
    ratio compares the same months in targeted and other areas.
    """
    f = monthly.frame
    both = f[["targeted", "other"]].notna().all(axis=1)
    return {f"{grp}_{win}": float(f.loc[both & (f["window"] == win), grp].sum())
            for grp in ("targeted", "other") for win in ("before", "after")}


def _gap_note(monthly: AreaTable, geo: Geography, model: bool) -> list[str]:
    """A note naming the months of the windows that the totals leave out (none when there are none)."""
    f = monthly.frame
    gaps = f.loc[f["window"].isin(["before", "after"]) & f[["targeted", "other"]].isna().any(axis=1), "period"]
    if gaps.empty:
        return []
    return [f"{len(gaps)} month(s) with no data for some {geo.plural} ({some(gaps.tolist())}) are blank in the monthly "
            "table and left out of the totals of both groups, before and after"
            + (f" (the model uses the {geo.plural} that have data in them)" if model else "")]


def _method(geo: Geography, n_t: int, n_o: int, cols: list[str], disp: float) -> str:
    return (f"Poisson regression of monthly counts with an effect for each {geo.label} and each month "
            f"({n_t} targeted and {n_o} other {geo.plural}, {cols[0]} to {cols[-1]}); intervals clustered by "
            f"{geo.label} (jackknife, t with {n_t + n_o - 1} df), which allows for over-dispersion (here "
            f"{disp:.1f}x Poisson) and for correlation within {article(geo.label)} over time.")


def _codes_and_launch(targets: Any, launch: str | None, where: str) -> tuple[frozenset, str]:
    """The target codes and the launch month (``YYYY-MM``), from the arguments or the campaign file."""
    codes = as_codes(targets)
    if not codes:
        raise ConfigError(f"{where}: no target areas given; pass targets=read_targets(...) or a list of codes.")
    launch = launch or getattr(targets, "launch", None)
    if not launch:
        raise ConfigError(f"{where}: no launch month; pass launch='YYYY-MM' or set launch in the campaign file.")
    return codes, month(launch, "launch", where)


def _check_level(level: Any, where: str) -> float:
    """``level`` as a float strictly between 0 and 1, or a :class:`ConfigError` that says how to give it."""
    ok = isinstance(level, numbers.Real) and not isinstance(level, bool) and 0 < float(level) < 1
    if not ok:
        raise ConfigError(f"{where}: level={level!r} must be a number between 0 and 1 (the confidence level of the "
                          "intervals), e.g. level=0.95 for 95% intervals.")
    return float(level)


def _check_bin_months(bin_months: Any, where: str) -> int:
    """``bin_months`` as a positive int, or a :class:`ConfigError` that says how to give it."""
    if not isinstance(bin_months, numbers.Integral) or isinstance(bin_months, bool) or bin_months < 1:
        raise ConfigError(f"{where}: bin_months={bin_months!r} must be a whole number of months, 1 or more (the "
                          "length of each step of the event study), e.g. bin_months=3 for quarters.")
    return int(bin_months)


def _geography(targets: Any, geography: Any) -> Geography:
    from ..geography import get_geography

    if geography is not None:
        return get_geography(geography)
    return getattr(targets, "geography", WARD)


def evaluate(series: Any, targets: Any, launch: str | None = None, *, kind: str = "reports", category: Any = None,
             placebos: Any = None, level: float = 0.95, bin_months: int = 3, geography: Any = None) -> CampaignEffect:
    """Evaluate a campaign on monthly counts: a robust rate ratio, a pre-trend test, placebos and a verdict.

    Parameters
    ----------
    series : DataFrame or AreaCube
        A series frame (index: area codes; columns: months ``YYYY-MM``;
        NaN = no data) or an ``AreaCube`` (its ``series(kind,
        category=category)`` is used).
    targets : Targets or iterable of area codes
    launch : str, optional
        ``YYYY-MM``; default ``targets.launch``.
    kind, category : for an AreaCube.
    placebos : list of months, optional
        Pretend launches before the real one (default: three, each with at
        least 3 months of data either side; ``[]`` for none).
    level : float, default 0.95
    bin_months : int, default 3
        Months per step of the event study.
    geography : str or Geography, optional
        For the words (default: the targets' geography).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> codes = [f"E0500{i:04d}" for i in range(40)]
    >>> cols = [str(m) for m in pd.period_range("2017-01", "2018-12", freq="M")]
    >>> lam = np.outer(rng.uniform(2, 8, 40), np.ones(24))
    >>> lam[:15, 12:] *= 1.5                      # the campaign's areas, from 2018-01
    >>> s = pd.DataFrame(rng.poisson(lam).astype(float), index=codes, columns=cols)
    >>> e = evaluate(s, codes[:15], "2018-01")
    >>> e.evidence, bool(e.estimate.lo < 1.5 < e.estimate.hi)
    ('clear', True)
    """
    codes, launch = _codes_and_launch(targets, launch, "planning.evaluate")
    level, bin_months = _check_level(level, "planning.evaluate"), _check_bin_months(bin_months, "planning.evaluate")
    S = _series_input(series, kind, category)
    return _evaluate(S, codes, launch, placebos, level, bin_months, _geography(targets, geography), [])


def _evaluate(S, codes, launch, placebos, level, bin_months, geo, notes, did_result=None) -> CampaignEffect:
    cols = list(S.columns)
    g = S.index.isin(list(codes))
    missing = sorted(set(codes) - set(S.index))
    if missing:
        notes.append(f"{len(missing)} target {geo.label}(s) have no series and are left out: {some(missing)}")
    L = _launch_index(cols, launch)
    Y = S.to_numpy()
    _check_cells(Y, g, L, cols, geo)
    D = (g[:, None] * (np.arange(len(cols)) >= L)[None, :]).astype(float)
    fit = _fit(Y, D[:, :, None], "estimate")
    est = Estimate.of(fit, 0, level)
    has = np.nansum(Y, axis=1) > 0
    n_t, n_o = int((g & has).sum()), int((~g & has).sum())
    pre = _pretrend(Y, g, L, level)
    launches = default_placebos(cols, L) if placebos is None else [month(p, "placebo", "planning.evaluate")
                                                                    for p in placebos]
    plac, problems = _placebos(Y, g, L, cols, launches, est, level, geo)
    problems += [w for w in [_no_placebo(plac, placebos is not None, L)] if w]
    weak = _weaknesses(est, pre, plac, n_t, n_o, geo, level, problems)
    monthly = _monthly(S, g, launch)
    notes += _gap_note(monthly, geo, model=True)
    evidence, verdict = _verdict(est, weak, geo, level, int(plac["rate_ratio"].notna().sum()))
    return CampaignEffect(
        estimate=est, pretrend=pre if isinstance(pre, Estimate) else None, placebos=plac,
        events=_events(Y, g, L, cols, level, bin_months, geo, notes), evidence=evidence, weaknesses=weak,
        verdict=verdict, message=_message(launch, est, pre, plac, placebos is not None, geo, level) + " " + verdict,
        method=_method(geo, n_t, n_o, cols, fit.dispersion), launch=launch, level=level, dispersion=fit.dispersion,
        areas={"targeted": n_t, "other": n_o}, totals=_totals(monthly), monthly=monthly,
        geography=geo, did=did_result, notes=notes, bin_months=bin_months)


def _message(launch, est, pre, plac, asked, geo, level) -> str:
    """The figures of the evaluation in words (the verdict follows)."""
    headline = (f"After the launch ({launch}) reports in targeted {geo.plural} changed by a factor of "
                f"{est.text(level)} relative to other {geo.plural}.")
    if isinstance(pre, Estimate):
        pre_text = f" Pre-launch trend difference: {pre.ratio:.2f} per year (p = {pre.p_value:.3g})."
    else:
        pre_text = " Pre-launch trend: not tested (see below)."
    shown = [f"{r['launch']}: {r['rate_ratio']:.2f} ({r['ratio_lo']:.2f} to {r['ratio_hi']:.2f})"
             if np.isfinite(r["rate_ratio"]) else f"{r['launch']}: not fitted" for _, r in plac.iterrows()]
    plac_text = (" Placebo launches: " + "; ".join(shown) + "." if shown else " No placebo launch was asked for."
                 if asked else " No placebo launch fits in the months before the launch.")
    return headline + pre_text + plac_text


def evaluate_reports(reports: Any, targets: Any, *, launch: str | None = None, areas: Any = None,
                     wards: Any = None, category: Any = None, placebos: Any = None, level: float = 0.95,
                     bin_months: int = 3) -> CampaignEffect:
    """:func:`evaluate` straight from a reports input (and the areas to place it on).

    Builds the series frame with :func:`gangmap.planning.series.series_from_reports`
    (``wards=`` is the same as ``areas=``) and adds the simple 2x2 difference
    in differences of :func:`did` as ``.did``, for continuity.
    """
    codes, launch = _codes_and_launch(targets, launch, "planning.evaluate_reports")
    level = _check_level(level, "planning.evaluate_reports")
    bin_months = _check_bin_months(bin_months, "planning.evaluate_reports")
    notes: list[str] = []
    S, geo, source = series_from_reports(reports, areas=areas if areas is not None else wards, category=category,
                                         notes=notes)
    geo = geo or _geography(targets, None)
    simple = _did_from_series(S, codes, launch, None, None, level, source, list(notes), geo)
    return _evaluate(check_series(S), codes, launch, placebos, level, bin_months, geo, notes, simple)


# =========================================================================== the simple 2x2
@dataclass
class DiD:
    """Simple difference in differences of report counts around a launch (see :func:`did`).

    Kept for continuity: its interval assumes independent Poisson counts and
    is too narrow when counts are over-dispersed or clustered. The headline
    evaluation is :func:`evaluate`.

    Attributes
    ----------
    table : AreaTable
        The 2x2 table: ``group`` (``targeted``/``other``), ``areas``,
        ``before``, ``after`` (**counts**) and ``after_before`` (derived).
    ratio, lo, hi : float
        ``(T_after/T_before)/(O_after/O_before)`` and its Poisson interval.
    level : float
    launch : str
    before, after : tuple of str
        First and last month of each window.
    monthly : AreaTable
        ``period``, ``window`` (``before``/``after``/``between``),
        ``targeted`` and ``other`` (**counts** per month; NaN where any of
        the group's areas has no data that month).
    caveat, message : str
    notes : list of str
    """

    table: AreaTable
    ratio: float
    lo: float
    hi: float
    level: float
    launch: str
    before: tuple
    after: tuple
    monthly: AreaTable
    caveat: str
    message: str
    notes: list = field(default_factory=list)

    def _repr_html_(self) -> str:  # notebooks
        from ..reprs import card

        facts = [("launch", self.launch), ("period", self.period),
                 ("rate ratio", f"{self.ratio:.2f} ({self.level:.0%} interval {self.lo:.2f} to {self.hi:.2f})")]
        return card("Before and after", facts, " ".join([self.message, *self.notes]), [("Counts", self.table.frame)])

    @property
    def period(self) -> str:
        return f"{self.before[0]} to {self.after[1]}"

    def result_table(self) -> AreaTable:
        """One row: the four counts (**counts**) and ``rate_ratio``, ``ratio_lo``, ``ratio_hi`` (derived)."""
        t = self.table.frame.set_index("group")
        srcs = ["targeted_before", "targeted_after", "other_before", "other_after"]
        row = {"group": "targeted vs other", "targeted_before": int(t.loc["targeted", "before"]),
               "targeted_after": int(t.loc["targeted", "after"]), "other_before": int(t.loc["other", "before"]),
               "other_after": int(t.loc["other", "after"]), "rate_ratio": self.ratio, "ratio_lo": self.lo,
               "ratio_hi": self.hi}
        table = from_frame(pd.DataFrame([row]), counts=srcs, geography=GROUP,
                           derived={c: srcs for c in ("rate_ratio", "ratio_lo", "ratio_hi")})
        notes = {c: {RECIPE: did_ratio_recipe(c, self.level)} for c in ("rate_ratio", "ratio_lo", "ratio_hi")}
        return table.with_schema(notes={**table.schema.notes, **notes})

    def safe(self, policy: Any = "nhs", **options):
        """The 2x2 table made safe (same as :func:`did_table_safe`)."""
        return did_table_safe(self, policy=policy, **options)

    def monthly_safe(self, policy: Any = "nhs", **options):
        """The monthly counts made safe: what :func:`did_chart` draws."""
        return publish(self.monthly, policy=policy, keep=["window"], period=self.period, what="monthly table",
                       **options)

    def result_safe(self, policy: Any = "nhs", **options):
        """The one-row result (counts and rate ratio) made safe."""
        return publish(self.result_table(), policy=policy, period=self.period, what="result", **options)

    def __str__(self) -> str:
        return self.message


def _window(value: Any, what: str) -> list[str]:
    if isinstance(value, str):
        return [month(value, what, "planning.did")]
    vals = list(value)
    if len(vals) == 2:
        a, b = (month(v, what, "planning.did") for v in vals)
        if b < a:
            raise ConfigError(f"planning.did: {what}=({a!r}, {b!r}) ends before it starts; give (first, last).")
        return months(a, b)
    raise ConfigError(f"planning.did: {what} must be (first month, last month), e.g. ('2017-03', '2018-02'); "
                      f"got {value!r}.")


def _did_windows(cols, launch, before, after, source, notes) -> tuple[list[str], list[str]]:
    pre = [m for m in cols if m < launch]
    post = [m for m in cols if m >= launch]
    n = min(len(pre), len(post))
    if before is None or after is None:
        if n == 0:
            raise InputError(f"{source}: the reports run {cols[0]} to {cols[-1]}, so there is no month "
                             f"{'before' if not pre else 'after'} the launch ({launch}) to compare with.")
        if len(pre) != len(post):
            notes.append(f"windows trimmed to {n} months each side of the launch (data: {len(pre)} before, "
                         f"{len(post)} after)")
    b = _window(before, "before") if before is not None else pre[-n:]
    a = _window(after, "after") if after is not None else post[:n]
    if b[-1] >= launch or a[0] < launch:
        notes.append(f"the windows given ({b[0]}..{b[-1]}, {a[0]}..{a[-1]}) are not on either side of the launch "
                     f"{launch}")
    if set(b) & set(a):
        raise ConfigError("planning.did: the before and after windows overlap; give separate month ranges.")
    if len(b) != len(a):
        notes.append(f"windows differ in length ({len(b)} vs {len(a)} months); the length cancels in the ratio but "
                     "seasonality may not")
    return b, a


def _did_from_series(S, codes, launch, before, after, level, source, notes, geo) -> DiD:
    from scipy import stats

    b_m, a_m = _did_windows(list(S.columns), launch, before, after, source, notes)
    g = S.index.isin(list(codes))
    span = months(min(b_m[0], a_m[0]), max(b_m[-1], a_m[-1]))
    monthly = _monthly(S.reindex(columns=span), g, launch, {"before": set(b_m), "after": set(a_m)})
    totals = _totals(monthly)
    notes += _gap_note(monthly, geo, model=False)
    a_, b_, c_, d_ = (totals[k] for k in ("targeted_before", "targeted_after", "other_before", "other_after"))
    zeros = [nm for nm, x in (("targeted before", a_), ("targeted after", b_), ("other before", c_),
                              ("other after", d_)) if x <= 0]
    if zeros:
        raise InputError(f"{source}: no reports in {', '.join(zeros)} (windows {b_m[0]}..{b_m[-1]} and "
                         f"{a_m[0]}..{a_m[-1]}); the ratio needs reports in all four cells. Widen the windows or "
                         f"check the target {geo.label} codes.")
    ratio = (b_ / a_) / (d_ / c_)
    z = float(stats.norm.ppf(1 - (1 - level) / 2)) * math.sqrt(1 / a_ + 1 / b_ + 1 / c_ + 1 / d_)
    lo, hi = ratio * math.exp(-z), ratio * math.exp(z)
    frame = pd.DataFrame({"group": ["targeted", "other"], "areas": [int(g.sum()), int((~g).sum())],
                          "before": [int(a_), int(c_)], "after": [int(b_), int(d_)]})
    frame["after_before"] = frame["after"] / frame["before"]
    table = from_frame(frame, counts=["before", "after"], derived={"after_before": ["before", "after"]},
                       context=["areas"], geography=GROUP)
    table = table.with_schema(notes={"after_before": {RECIPE: published_after_before}})
    conclusion = (f"the interval excludes 1: targeted {geo.plural} changed differently from the others"
                  if lo > 1 or hi < 1 else "the interval includes 1: no clear difference")
    message = (f"Reports in targeted {geo.plural} changed by {100 * (b_ / a_ - 1):+.0f}% after the launch ({launch}), "
               f"against {100 * (d_ / c_ - 1):+.0f}% in other {geo.plural}: a difference-in-differences rate ratio of "
               f"{ratio:.2f} ({100 * level:g}% CI {lo:.2f} to {hi:.2f}, Poisson: too narrow when counts cluster); "
               f"{conclusion}. Windows: {b_m[0]}..{b_m[-1]} vs {a_m[0]}..{a_m[-1]}.")
    return DiD(table=table, ratio=float(ratio), lo=float(lo), hi=float(hi), level=float(level), launch=launch,
               before=(b_m[0], b_m[-1]), after=(a_m[0], a_m[-1]), monthly=monthly, caveat=CAVEAT, message=message,
               notes=notes)


def did(reports: Any, targets: Any, *, launch: str | None = None, wards: Any = None, areas: Any = None,
        before: Any = None, after: Any = None, category: Any = None, level: float = 0.95) -> DiD:
    """Simple difference in differences of report counts (kept for continuity; see :func:`evaluate`).

    ``rate ratio = (T_after / T_before) / (O_after / O_before)`` where T and
    O are the reports in targeted and other areas in the windows before and
    after the launch, with the Poisson interval of the log ratio
    (``1/a + 1/b + 1/c + 1/d``), which assumes independent counts. A month
    in which any area has no data is left out of all four totals (a note
    names it), so the two groups are compared over the same months. By
    default the windows are the ``n`` months just before and from the launch,
    ``n`` as many as the data allow on both sides; ``before``/``after`` can be
    given as ``(first, last)`` months.

    Parameters
    ----------
    reports : path, DataFrame or Intake
        Reports with a period (``YYYY-MM``) and area codes, or names or
        coordinates placed on ``wards``/``areas``.
    targets : Targets or iterable of area codes
    launch : str, optional
    wards, areas : optional
        The area table or boundaries (the same thing; ``wards`` is the first
        release's name). Only reports in these areas count.
    before, after : (str, str), optional
    category : str or list, optional
    level : float, default 0.95

    Examples
    --------
    >>> r = pd.DataFrame({"ward_code": ["E05000001"] * 2 + ["E05000002"] * 2,
    ...                   "period": ["2018-01", "2018-02"] * 2, "count": [100, 150, 100, 100]})
    >>> d = did(r, ["E05000001"], launch="2018-02")
    >>> round(d.ratio, 2), round(d.lo, 2), round(d.hi, 2)
    (1.5, 1.03, 2.18)
    """
    codes, launch = _codes_and_launch(targets, launch, "planning.did")
    level = _check_level(level, "planning.did")
    notes: list[str] = []
    S, geo, source = series_from_reports(reports, areas=areas if areas is not None else wards, category=category,
                                         notes=notes)
    return _did_from_series(S, codes, launch, before, after, level, source, notes,
                            geo or _geography(targets, None))


def published_after_before(published: AreaTable) -> pd.Series:
    """``after / before`` of the published (rounded) counts of each group.

    A ratio of two published values, hidden where either is: a reader who has
    the 2x2 table can work it out, so it cannot carry a finer count.
    """
    a, b = published_values(published, "after"), published_values(published, "before")
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.Series(np.where(b > 0, a / b, np.nan), index=published.frame.index)


def did_ratio_recipe(column: str, level: float):
    """The recipe of the 2x2 rate ratio (``rate_ratio``) or an end of its Poisson interval."""
    def published_did_ratio(published: AreaTable) -> pd.Series:
        """``(T_after/T_before)/(O_after/O_before)`` and its Poisson interval worked out again from the four
        published (rounded) totals: a function of the published row only, hidden where any total is, so it
        carries no finer count than the row shows."""
        from scipy import stats

        a, b, c, d = (published_values(published, k)[0] for k in
                      ("targeted_before", "targeted_after", "other_before", "other_after"))
        ok = all(np.isfinite(x) and x > 0 for x in (a, b, c, d))
        value = np.nan
        if ok:
            ratio = (b / a) / (d / c)
            z = float(stats.norm.ppf(1 - (1 - level) / 2)) * math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
            value = {"rate_ratio": ratio, "ratio_lo": ratio * math.exp(-z), "ratio_hi": ratio * math.exp(z)}[column]
        return pd.Series([value], index=published.frame.index)

    return published_did_ratio


def did_table_safe(did: DiD, policy: Any = "nhs", **options):
    """The 2x2 table of a :class:`DiD` made safe (``counts=["before", "after"]``, county total only)."""
    if not isinstance(did, DiD):
        raise GangmapError(f"did_table_safe needs the result of planning.did(...), not {type(did).__name__}.")
    return publish(did.table, policy=policy, keep=["group"], period=did.period, what="2x2 table", **options)


def _headline(result, safe) -> str:
    """The estimate for a chart title, only as the published result shows it."""
    res = result.result_safe(policy=safe.policy, allow_unsafe=not safe.policy.safe)
    shown = [c for c in ("rate_ratio", "ratio_lo", "ratio_hi") if c in res.suppressed]
    f = res.frame
    if len(shown) < 3 or any(bool(res.suppressed[c].iloc[0]) or not np.isfinite(f[c].iloc[0]) for c in shown):
        return "rate ratio not shown (small counts)"
    text = (f"rate ratio {f['rate_ratio'].iloc[0]:.3g} ({100 * result.level:g}% CI {f['ratio_lo'].iloc[0]:.3g}-"
            f"{f['ratio_hi'].iloc[0]:.3g})")
    return text + (f", evidence: {result.evidence}" if isinstance(result, CampaignEffect) else "")


@literal_text
def did_chart(did: Any, safe: Any = None, *, figsize: tuple = (6.5, 3.4)):
    """Monthly reports, targeted vs other areas, indexed to the pre-launch mean (= 100).

    ``did`` is a :class:`CampaignEffect` (title: the robust estimate and the
    evidence) or a :class:`DiD`. Drawn only from safe values: ``safe`` is
    ``did.monthly_safe(...)`` (made with the default policy when not given);
    suppressed months are gaps, and the ratio in the title is left out when
    one of its four counts is suppressed under the same policy. Returns a
    matplotlib ``Figure`` on the Agg canvas; write it with
    ``gangmap.export.to_png(fig, safe, path)``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ..disclosure import is_safe

    if not isinstance(did, (DiD, CampaignEffect)):
        raise GangmapError(f"did_chart needs the result of planning.evaluate(...) or planning.did(...), not "
                           f"{type(did).__name__}.")
    safe = did.monthly_safe() if safe is None else safe
    if not is_safe(safe) or not {"targeted", "other", "period"} <= set(safe.frame.columns):
        raise GangmapError("did_chart: safe must be did.monthly_safe(...) (a SafeTable with period, targeted and "
                           "other columns).")
    f = safe.frame
    periods = f["period"].astype(str).tolist()
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.09, 0.15, 0.68, 0.72))
    x = np.arange(len(periods))
    pre = np.array([p < did.launch for p in periods]) & (f["window"] == "before").to_numpy()
    plural = getattr(getattr(did, "geography", None), "plural", "areas")
    for col, colour in (("targeted", "#d95f02"), ("other", "#1b9e77")):
        y = f[col].to_numpy(dtype=float)
        base = np.nanmean(y[pre]) if np.isfinite(y[pre]).any() else np.nan
        ax.plot(x, 100 * y / base, marker="o", ms=2.5, lw=1.4, color=colour, label=f"{col} {plural}")
    if did.launch in periods:
        xl = periods.index(did.launch) - 0.5
        ax.axvline(xl, color="#444444", lw=1, ls="--")
        ax.text(xl, ax.get_ylim()[1], f" launch {did.launch}", va="top", ha="left", fontsize=7)
    ax.axhline(100, color="#999999", lw=0.6)
    step = max(1, len(periods) // 8)
    ax.set_xticks(x[::step])
    ax.set_xticklabels(periods[::step], fontsize=7, rotation=0)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_ylabel("reports (pre-launch mean = 100)", fontsize=7)
    ax.set_title(f"Reports before and after the launch; {_headline(did, safe)}", fontsize=8)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.text(0.79, 0.45, "Safe (rounded)\nmonthly counts;\ngaps = suppressed.\nA rise can mean\n"
             "more reporting,\nnot more harm.", fontsize=6, va="top")
    return fig
