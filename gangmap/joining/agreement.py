"""How far the LSOA path agrees with the point path, for rows that carry both.

police.uk rows hold both an (anonymised) map point and the code of the LSOA
that point is in. Placing them by LSOA code through a bridge is faster and
exact wherever LSOAs nest in the areas; where they straddle, some rows land in
a neighbouring area. :func:`compare_paths` measures it on the rows
themselves: the share of rows placed in the same area both ways, and the
per-area agreement of the totals (correlation, and the share of rows that
change area in the totals).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..table import AreaTable
from .tally import AgreementTally

__all__ = ["PathAgreement", "compare_paths", "path_agreement"]


@dataclass
class PathAgreement:
    """The LSOA path against the point path on the same rows.

    Attributes
    ----------
    rows : int
        Rows placed both ways.
    same : float
        Share of those rows placed in the same area both ways.
    per_area : DataFrame
        Index: area codes in table order; columns ``point`` and ``lsoa``
        (counts placed each way, all rows).
    correlation : float
        Pearson correlation of the two columns of ``per_area``.
    moved : float
        Share of the point-path total that sits in another area on the LSOA
        path (half the sum of absolute differences over the total).
    label : str
        The areas' word ("ward").
    """

    rows: int
    same: float
    per_area: pd.DataFrame
    correlation: float
    moved: float
    label: str = "area"

    def summary(self) -> str:
        return (f"LSOA path vs point path: {self.same:.1%} of {self.rows:,} rows in the same {self.label}; "
                f"per-{self.label} correlation {self.correlation:.3f}; {self.moved:.1%} of the total in another "
                f"{self.label}")

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>"


def compare_paths(areas: AreaTable, point_pos: np.ndarray, lsoa_pos: np.ndarray, counts) -> PathAgreement:
    """Compare two placements of the same rows (area row positions, -1 where not placed)."""
    tally = AgreementTally(len(areas))
    tally.add(np.asarray(point_pos), np.asarray(lsoa_pos), counts)
    return path_agreement(areas, tally)


def path_agreement(areas: AreaTable, tally: AgreementTally) -> PathAgreement:
    """The :class:`PathAgreement` of a tally of rows placed both ways (summed chunk by chunk)."""
    same = tally.same / tally.both if tally.both else float("nan")
    n = len(areas)
    per = pd.DataFrame({"point": tally.point, "lsoa": tally.lsoa},
                       index=pd.Index(areas.codes.to_numpy(), name=areas.geography.code))
    corr = float(per["point"].corr(per["lsoa"])) if n > 1 else float("nan")
    total = per["point"].sum()
    moved = float((per["lsoa"] - per["point"]).abs().sum() / 2 / total) if total else float("nan")
    return PathAgreement(int(tally.both), same, per, corr, moved, areas.geography.label)
