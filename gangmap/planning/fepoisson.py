"""Poisson regression with area and month fixed effects and area-clustered standard errors.

Why this estimator
------------------
The campaign evaluation compares monthly counts of targeted and other areas
before and after a launch. Counts of reports are over-dispersed (some months
bring a burst) and correlated within an area over time; an interval that
assumes independent Poisson counts is far too narrow (an independent check
found 95% intervals covering the truth only 54-87% of the time). This module
fits

    log E[y_it] = alpha_i + gamma_t + x_it' beta

by Poisson quasi-maximum likelihood (PPML): the estimate of ``beta`` is
consistent whatever the variance and correlation of the counts, as long as
the mean is right (Gourieroux, Monfort and Trognon 1984; Wooldridge 1999).
The uncertainty comes from the cluster-robust sandwich with areas as
clusters, which allows any over-dispersion (quasi-Poisson and negative
binomial variances are special cases) and any correlation within an area.

How
---
The area effects ``alpha_i`` are profiled out exactly: given the area's
total ``n_i``, its counts are multinomial with probabilities
``pi_it = exp(gamma_t + x_it' beta) / sum_s exp(gamma_s + x_is' beta)`` over
the months it has data (Hausman, Hall and Griliches 1984). The estimates and
the sandwich are those of the Poisson model with area dummies, at the cost
of a Newton iteration on ``(gamma, beta)`` only. Areas with no count at all
carry no information and drop out, as they do with area dummies.

* score of area ``i``: ``s_i = sum_t (y_it - n_i pi_it) z_it`` with
  ``z_it = (month dummies, x_it)``;
* information: ``H = sum_i n_i [sum_t pi_it z_it z_it' - zbar_i zbar_i']``;
* covariance (default ``"cr3"``, the cluster jackknife): with ``H_i`` the
  information of area ``i``, leaving area ``g`` out moves the estimate by
  ``d_g = -(H - H_g)^-1 s_g`` (one Newton step, exact to first order), and
  ``V = (G-1)/G sum_g d_g d_g'`` (``G`` areas that contribute; CV3 of
  MacKinnon, Nielsen and Webb 2023). The usual CR1 sandwich
  ``G/(G-1) H^-1 (sum_i s_i s_i') H^-1`` (``vcov="cr1"``) is a little too
  narrow with a few dozen areas: in the validation its 95% intervals
  covered 93-94%, the jackknife's 94.5-95.5%;
* intervals and tests use Student t with ``G - 1`` degrees of freedom.

A month with no data (NaN) is left out for that area, never taken as 0.
The validation in ``benchmarks/validate_campaign_effect.py`` simulates
Poisson, negative binomial and area-clustered panels with a known effect and
prints the coverage of the 95% intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError


@dataclass(frozen=True)
class Fit:
    """A fitted model: the coefficients of the regressors and their cluster-robust covariance.

    Attributes
    ----------
    coef : ndarray (k,)
        Coefficients of the regressors (log rate ratios).
    cov : ndarray (k, k)
        Cluster-robust covariance (areas as clusters; see ``vcov``).
    clusters : int
        Areas that contribute (some count in a month with data).
    dispersion : float
        Pearson chi-square over residual degrees of freedom: 1 for Poisson
        counts, above 1 when over-dispersed (reported, not used: the
        sandwich already allows for it).
    observations : int
        Area-months with data in the contributing areas.
    converged : bool
    vcov : str
        ``"cr3"`` (cluster jackknife) or ``"cr1"`` (sandwich).
    """

    coef: np.ndarray
    cov: np.ndarray
    clusters: int
    dispersion: float
    observations: int
    converged: bool
    vcov: str = "cr3"

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.maximum(np.diag(self.cov), 0.0))

    @property
    def df(self) -> int:
        """Degrees of freedom of the t reference distribution: clusters - 1."""
        return max(1, self.clusters - 1)

    def ci(self, j: int = 0, level: float = 0.95) -> tuple[float, float]:
        """Confidence interval of coefficient ``j`` on the log scale."""
        from scipy import stats

        t = float(stats.t.ppf(1 - (1 - level) / 2, self.df))
        return float(self.coef[j] - t * self.se[j]), float(self.coef[j] + t * self.se[j])

    def p_value(self, j: int = 0) -> float:
        """Two-sided p-value of coefficient ``j`` = 0 (t with clusters - 1 df)."""
        from scipy import stats

        if not self.se[j] > 0:
            return float("nan")
        return float(2 * stats.t.sf(abs(self.coef[j] / self.se[j]), self.df))


def _design(X: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """``z_it``: dummies for every month but the first observed one, then the regressors."""
    n, T, k = X.shape
    months = np.flatnonzero(obs.any(axis=0))
    Z = np.zeros((n, T, len(months) - 1 + k))
    for c, t in enumerate(months[1:]):
        Z[:, t, c] = 1.0
    Z[:, :, len(months) - 1:] = X
    return Z


def _probs(Z, theta, obs):
    eta = np.where(obs, Z @ theta, -np.inf)
    eta = eta - eta.max(axis=1, keepdims=True)
    e = np.where(obs, np.exp(eta), 0.0)
    return e / e.sum(axis=1, keepdims=True)


def _loglik(Y0, Z, theta, obs) -> float:
    pi = _probs(Z, theta, obs)
    return float(np.sum(np.where(Y0 > 0, Y0 * np.log(np.where(Y0 > 0, pi, 1.0)), 0.0)))


def _score_info(Y0, Z, theta, obs, n_i):
    pi = _probs(Z, theta, obs)
    resid = Y0 - n_i[:, None] * pi
    S = np.einsum("it,itp->ip", resid, Z)                     # per-area scores
    zbar = np.einsum("it,itp->ip", pi, Z)
    A = Z * (n_i[:, None] * pi)[:, :, None]
    H = np.einsum("itp,itq->pq", A, Z) - (zbar * n_i[:, None]).T @ zbar
    return S, H, pi


def _area_info(Z, pi, n_i) -> np.ndarray:
    """``H_i`` of every area: ``(areas, p, p)``."""
    zbar = np.einsum("it,itp->ip", pi, Z)
    A = Z * (n_i[:, None] * pi)[:, :, None]
    return np.einsum("itp,itq->ipq", A, Z) - np.einsum("ip,iq->ipq", zbar * n_i[:, None], zbar)


def _covariance(S, H, Z, pi, n_i, vcov: str) -> np.ndarray:
    G = len(n_i)
    if vcov == "cr1":
        Hinv = np.linalg.inv(H)
        return Hinv @ (S.T @ S) @ Hinv * (G / (G - 1))
    Hi = _area_info(Z, pi, n_i)
    d = np.array([np.linalg.lstsq(H - Hi[g], S[g], rcond=None)[0] for g in range(G)])
    return (G - 1) / G * (d.T @ d)


#: A search that cannot improve the likelihood counts as converged only if the Newton step left is below this.
STALL_TOL = 1e-6


def _line_search(Y0, Z, obs, theta, step, ll) -> tuple[np.ndarray, float] | None:
    """The first of the step, half of it, a quarter... that does not lower the likelihood; None if none does."""
    t = 1.0
    while t > 1e-8:
        new = theta + t * step
        new_ll = _loglik(Y0, Z, new, obs)
        if new_ll >= ll - 1e-12 * max(1.0, abs(ll)):  # relative: a long sum's rounding is no decrease
            return new, new_ll
        t /= 2
    return None


def fit(Y: np.ndarray, X: np.ndarray, *, vcov: str = "cr3", max_iter: int = 100, tol: float = 1e-9) -> Fit:
    """Fit the model to counts ``Y`` (areas x months, NaN = no data) and regressors ``X`` (areas x months x k).

    ``vcov`` is ``"cr3"`` (cluster jackknife, default) or ``"cr1"`` (sandwich).

    Raises :class:`InputError` when the regressors cannot be estimated (no
    variation among the areas and months with counts, or too few areas).
    """
    if vcov not in ("cr3", "cr1"):
        raise InputError(f"vcov={vcov!r} must be 'cr3' (cluster jackknife) or 'cr1' (cluster sandwich).")
    Y = np.asarray(Y, dtype=float)
    X = np.asarray(X, dtype=float).reshape(Y.shape[0], Y.shape[1], -1)
    obs = np.isfinite(Y)
    keep = np.nansum(Y, axis=1) > 0
    Y0, obs, X = np.where(obs, Y, 0.0)[keep], obs[keep], X[keep]
    n_i = Y0.sum(axis=1)
    G = int(len(n_i))
    if G < 2:
        raise InputError("the campaign model needs counts in at least two areas.")
    Z = _design(X, obs)
    k = X.shape[2]
    theta = np.zeros(Z.shape[2])
    converged = False
    ll = _loglik(Y0, Z, theta, obs)
    for _ in range(max_iter):
        S, H, _ = _score_info(Y0, Z, theta, obs, n_i)
        try:
            step = np.linalg.solve(H, S.sum(axis=0))
        except np.linalg.LinAlgError:
            raise InputError("the campaign model cannot be estimated: a regressor does not vary among the areas "
                             "and months with counts (e.g. no targeted area has any count).") from None
        if np.max(np.abs(step)) < tol:  # the full Newton step, not a shrunk one: a stalled search is not converged
            converged = True
            break
        moved = _line_search(Y0, Z, obs, theta, step, ll)
        if moved is None:  # no step length helps: at the optimum up to rounding, or stalled short of it
            converged = bool(np.max(np.abs(step)) < STALL_TOL)
            break
        theta, ll = moved
    S, H, pi = _score_info(Y0, Z, theta, obs, n_i)
    V = _covariance(S, H, Z, pi, n_i, vcov)
    mu = n_i[:, None] * pi
    N = int(obs.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = float(np.sum(np.where(obs & (mu > 0), (Y0 - mu) ** 2 / mu, 0.0)))
    resid_df = max(1, N - G - Z.shape[2])
    return Fit(coef=theta[-k:], cov=V[-k:, -k:], clusters=G, dispersion=chi2 / resid_df, observations=N,
               converged=converged, vcov=vcov)


def wald(fit: Fit, idx: list[int] | None = None) -> tuple[float, float]:
    """Joint test that the coefficients ``idx`` (default all) are 0: ``(F, p)`` with (q, clusters - 1) df."""
    from scipy import stats

    idx = list(range(len(fit.coef))) if idx is None else list(idx)
    b = fit.coef[idx]
    V = fit.cov[np.ix_(idx, idx)]
    q = len(idx)
    F = float(b @ np.linalg.pinv(V) @ b) / q
    return F, float(stats.f.sf(F, q, fit.df))
