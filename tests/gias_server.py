"""A local stand-in for the Get Information about Schools (GIAS) daily extract.

``GET /edubase/downloads/public/edubasealldataYYYYMMDD.csv`` answers for the
days in ``days`` (others: HTTP 404, as for a day not yet published) with a
CSV encoded in Windows-1252 (cp1252), as the real extract is, whose header is
a subset of the real one in the real order (:data:`COLUMNS`).

Establishments are built at test time from the real 2013 Northamptonshire
wards in ``../shared/data`` (never copied into the repository): one school at
the representative point of each ward (Easting/Northing in EPSG:27700), with
names that need cp1252 (``’``, ``é``), the LA codes of today (940 North, 941
West Northamptonshire), a closed predecessor under the old county code 928
for every tenth school, and a few schools of another LA (855
Leicestershire). ``AdministrativeWard (code)`` holds made-up current ward codes
(E05999xxx) that are not in the 2013 boundaries, so placing by coordinates
is exercised.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from replay_server import ReplayServer

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
WARDS_2013 = SHARED_DATA / "boundaries" / "northamptonshire_wards_2013.geojson"
NORTH = {"E07000150", "E07000152", "E07000153", "E07000156"}
#: A subset of the real extract's columns, in the real order.
COLUMNS = ["URN", "LA (code)", "LA (name)", "EstabNumber", "EstablishmentName", "TypeOfEstablishment (code)",
           "TypeOfEstablishment (name)", "EstablishmentTypeGroup (code)", "EstablishmentTypeGroup (name)",
           "EstablishmentStatus (code)", "EstablishmentStatus (name)", "OpenDate", "CloseDate",
           "PhaseOfEducation (code)", "PhaseOfEducation (name)", "StatutoryLowAge", "StatutoryHighAge",
           "Street", "Town", "Postcode", "SchoolWebsite", "TelephoneNum", "HeadFirstName", "HeadLastName",
           "Easting", "Northing", "GOR (code)", "GOR (name)", "DistrictAdministrative (code)",
           "DistrictAdministrative (name)", "AdministrativeWard (code)", "AdministrativeWard (name)",
           "UrbanRural (code)", "UrbanRural (name)", "UPRN", "SiteName"]
PHASES = [("2", "Primary", "4", "11"), ("4", "Secondary", "11", "16"), ("7", "All-through", "4", "18")]


def schools() -> list[dict]:
    """The establishments served (see the module docs)."""
    import geopandas as gpd

    wards = gpd.read_file(WARDS_2013).to_crs(27700)
    pts = wards.representative_point()
    rows = []
    for i, (w, p) in enumerate(zip(wards.itertuples(), pts)):
        la = ("940", "North Northamptonshire") if w.LAD13CD in NORTH else ("941", "West Northamptonshire")
        code, phase, low, high = PHASES[i % 3]
        name = [f"St Mary’s C of E {phase} School", f"Café Lane {phase} Academy",
                f"{w.WD13NM} {phase} School"][i % 3]
        rows.append(_row(100001 + i, la, name, "Open", code, phase, low, high, p.x, p.y, i))
        if i % 10 == 0:  # its predecessor under the old county council, closed
            rows.append(_row(120001 + i, ("928", "Northamptonshire"), name.replace("Academy", "School"),
                             "Closed", code, phase, low, high, p.x, p.y, i))
    for j in range(4):
        rows.append(_row(130001 + j, ("855", "Leicestershire"), f"Leicester Road School {j}", "Open",
                         "2", "Primary", "4", "11", 455000 + 100 * j, 300000, j))
    rows[2]["EstablishmentStatus (name)"] = "Open, but proposed to close"  # an open school (LA 940/941)
    return rows


def _row(urn, la, name, status, pcode, phase, low, high, x, y, i) -> dict:
    row = dict.fromkeys(COLUMNS, "")
    row.update({"URN": str(urn), "LA (code)": la[0], "LA (name)": la[1], "EstabNumber": str(2000 + i),
                "EstablishmentName": name, "TypeOfEstablishment (name)": "Academy converter",
                "EstablishmentStatus (code)": "1" if status.startswith("Open") else "2",
                "EstablishmentStatus (name)": status, "PhaseOfEducation (code)": pcode,
                "PhaseOfEducation (name)": phase, "StatutoryLowAge": low, "StatutoryHighAge": high,
                "Postcode": f"NN{1 + i % 18} {i % 9}AB", "Easting": str(int(x)), "Northing": str(int(y)),
                "AdministrativeWard (code)": f"E05999{i:03d}", "AdministrativeWard (name)": f"Ward {i}",
                "GOR (name)": "East Midlands"})
    return row


def extract_bytes(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode("cp1252")


class GiasServer(ReplayServer):
    """The fake GIAS downloads (see the module docs)."""

    def __init__(self, days=("20240105",), rows=None):
        super().__init__()
        self.days = set(days)
        self.rows = schools() if rows is None else rows
        self.body = extract_bytes(self.rows)
        self.fail_match = lambda path: path.endswith(".csv")

    @property
    def base_url(self) -> str:
        return f"{self.root}/edubase/downloads/public/"

    def answer(self, path: str, params: dict):
        prefix = "/edubase/downloads/public/edubasealldata"
        if path.startswith(prefix) and path.endswith(".csv") and path[len(prefix):-4] in self.days:
            return 200, {"Content-Type": "text/csv"}, self.body
        return 404, {"Content-Type": "text/html"}, b"<html><body>The resource cannot be found.</body></html>"
