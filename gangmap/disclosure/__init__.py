"""Disclosure control: the only way a table becomes safe to share.

The counts gangmap maps concern children at risk of gang involvement, so a
small number in a small area could identify a child. Nothing leaves gangmap
(CSV, spreadsheet, PNG, HTML map) unless it is a :class:`SafeTable`, and the
only way to make one is :func:`make_safe`::

    safe = make_safe(table)                  # counts, derived and context from the table's schema
    safe.frame      # only identifiers, geometry, safe values and public context
    safe.display    # strings for tables and tooltips ("*" where suppressed)
    safe.totals     # parent-area and county totals, from raw values, made safe
    safe.provenance.footer()

Worked examples
---------------
Two districts; the county total is 56 and the district totals 28 and 28.

>>> import pandas as pd
>>> t = pd.DataFrame({
...     "ward_code": ["W1", "W2", "W3", "W4", "W5", "W6"],
...     "lad_code":  ["D1", "D1", "D1", "D2", "D2", "D2"],
...     "reports":   [0, 3, 25, 8, 12, 8]})
>>> safe = make_safe(t, ["reports"])                        # nhs
>>> safe.display["reports"].tolist()
['0', '*', '25', '10', '10', '10']
>>> safe.totals[["level", "code", "reports"]]
      level code  reports
0  district   D1     30.0
1  district   D2     30.0
2    county          55.0

W2 (3) is suppressed. The totals are rounded from the raw sums (28 → 30,
56 → 55), not added up from rounded wards (which would give 35 and 65).
Rounding keeps W2 hidden: a shown 30 is 28–32 and a shown 25 is 23–27, so
from what is shown W2 could be anything from 1 to 6 (:func:`audit`):

>>> audit(safe)[["code", "low", "high", "recoverable"]]
  code  low  high  recoverable
0   W2  1.0   6.0        False

>>> safe = make_safe(t, ["reports"], policy="threshold")    # k=10
>>> safe.display["reports"].tolist()
['0', '*', '*', '*', '12', '*']
>>> safe.totals["reports"].tolist()
[28.0, 28.0, 56.0]

W2 (3), W4 (8) and W6 (8) are below 10 (primary suppression). In D1, W2 would
be 28 - 0 - 25 = 3, so W3 (the smallest other non-zero ward) is hidden too
(secondary suppression). In D2 two wards are hidden, but all we learn is
W4 + W6 = 16, which does not pin either one down.

>>> safe = make_safe(t, ["reports"], policy="none", allow_unsafe=True)
>>> safe.provenance.marking
'UNSUPPRESSED – INTERNAL ONLY · OFFICIAL-SENSITIVE'

Modules
-------
``policy``       the rules (:class:`Policy`, :func:`get_policy`)
``roles``        which columns are published, from declared roles only
``tree``         the tree of sums and exact interval reasoning
``secondary``    secondary suppression over the tree
``derived``      published derived figures come from published counts (the rule per figure)
``pattern``      suppression patterns shared between outputs
``safetable``    :class:`SafeTable` and :func:`make_safe`
``audit``        :func:`audit`: the per-table check
``lp``           ranges in a system of linear constraints (propagation, feasible points, HiGHS)
``linked``       :func:`check_linked` / :func:`protect_linked`: many tables of the same areas at once
``artefacts``    read back every published file of a pack
``packaudit``    :func:`audit_pack`: what a reader of the whole pack can work out
``provenance``   footers; ``formatting``: numbers as text
"""

from __future__ import annotations

from .audit import audit
from .linked import Link, Linked, LinkedCheck, categories, check_linked, periods, protect_linked, same
from .packaudit import AuditResult, audit_pack
from .pattern import Pattern
from .policy import DEFAULT_MIN_RANGE, POLICIES, UNSAFE_STAMP, Policy, get_policy
from .provenance import Provenance
from .safetable import SafeTable, is_safe, make_safe, require_safe

__all__ = [
    "make_safe",
    "SafeTable",
    "is_safe",
    "require_safe",
    "audit",
    "Policy",
    "POLICIES",
    "get_policy",
    "UNSAFE_STAMP",
    "DEFAULT_MIN_RANGE",
    "Provenance",
    "Pattern",
    "Link",
    "categories",
    "periods",
    "same",
    "check_linked",
    "protect_linked",
    "LinkedCheck",
    "Linked",
    "audit_pack",
    "AuditResult",
]
