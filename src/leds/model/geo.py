"""Approximate map positions of UK postcodes, with no geographic data set.

The source extracts carry postcodes but no coordinates, and leds ships no postcode
directory. So a postcode is placed at the **approximate centre of its postcode area** (the
letters of the outward code: ``LS`` for ``LS2 6AB``), from the small project-owned table
:data:`POSTCODE_AREAS` (the main post town of each of the 124 areas, to about 0.1 degree:
positions for orientation only, never for locating an address). Districts of one area are
spread deterministically around the area's centre (:func:`approximate_position`) so that
they do not sit on top of each other; the spread says nothing about where a district is.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["POSTCODE_AREAS", "approximate_position", "postcode_area", "postcode_district"]

# area -> (latitude, longitude, post town the position is taken from)
POSTCODE_AREAS: dict[str, tuple[float, float, str]] = {
    "AB": (57.15, -2.11, "Aberdeen"),
    "AL": (51.75, -0.34, "St Albans"),
    "B": (52.48, -1.90, "Birmingham"),
    "BA": (51.38, -2.36, "Bath"),
    "BB": (53.75, -2.48, "Blackburn"),
    "BD": (53.79, -1.75, "Bradford"),
    "BH": (50.72, -1.88, "Bournemouth"),
    "BL": (53.58, -2.43, "Bolton"),
    "BN": (50.83, -0.14, "Brighton"),
    "BR": (51.40, 0.02, "Bromley"),
    "BS": (51.45, -2.59, "Bristol"),
    "BT": (54.60, -5.93, "Belfast"),
    "CA": (54.89, -2.93, "Carlisle"),
    "CB": (52.21, 0.12, "Cambridge"),
    "CF": (51.48, -3.18, "Cardiff"),
    "CH": (53.19, -2.89, "Chester"),
    "CM": (51.74, 0.47, "Chelmsford"),
    "CO": (51.89, 0.90, "Colchester"),
    "CR": (51.37, -0.10, "Croydon"),
    "CT": (51.28, 1.08, "Canterbury"),
    "CV": (52.41, -1.51, "Coventry"),
    "CW": (53.10, -2.44, "Crewe"),
    "DA": (51.45, 0.22, "Dartford"),
    "DD": (56.46, -2.97, "Dundee"),
    "DE": (52.92, -1.48, "Derby"),
    "DG": (55.07, -3.61, "Dumfries"),
    "DH": (54.78, -1.57, "Durham"),
    "DL": (54.52, -1.55, "Darlington"),
    "DN": (53.52, -1.13, "Doncaster"),
    "DT": (50.71, -2.44, "Dorchester"),
    "DY": (52.51, -2.09, "Dudley"),
    "E": (51.53, -0.03, "London E"),
    "EC": (51.52, -0.09, "London EC"),
    "EH": (55.95, -3.19, "Edinburgh"),
    "EN": (51.65, -0.08, "Enfield"),
    "EX": (50.72, -3.53, "Exeter"),
    "FK": (56.00, -3.78, "Falkirk"),
    "FY": (53.82, -3.05, "Blackpool"),
    "G": (55.86, -4.25, "Glasgow"),
    "GL": (51.86, -2.24, "Gloucester"),
    "GU": (51.24, -0.57, "Guildford"),
    "GY": (49.45, -2.54, "Guernsey"),
    "HA": (51.58, -0.34, "Harrow"),
    "HD": (53.65, -1.78, "Huddersfield"),
    "HG": (53.99, -1.54, "Harrogate"),
    "HP": (51.75, -0.47, "Hemel Hempstead"),
    "HR": (52.06, -2.72, "Hereford"),
    "HS": (58.21, -6.39, "Outer Hebrides"),
    "HU": (53.74, -0.33, "Hull"),
    "HX": (53.72, -1.86, "Halifax"),
    "IG": (51.56, 0.07, "Ilford"),
    "IM": (54.15, -4.48, "Isle of Man"),
    "IP": (52.06, 1.16, "Ipswich"),
    "IV": (57.48, -4.22, "Inverness"),
    "JE": (49.19, -2.11, "Jersey"),
    "KA": (55.61, -4.50, "Kilmarnock"),
    "KT": (51.41, -0.30, "Kingston upon Thames"),
    "KW": (58.98, -2.96, "Kirkwall"),
    "KY": (56.11, -3.16, "Kirkcaldy"),
    "L": (53.41, -2.98, "Liverpool"),
    "LA": (54.05, -2.80, "Lancaster"),
    "LD": (52.24, -3.38, "Llandrindod Wells"),
    "LE": (52.64, -1.13, "Leicester"),
    "LL": (53.32, -3.83, "Llandudno"),
    "LN": (53.23, -0.54, "Lincoln"),
    "LS": (53.80, -1.55, "Leeds"),
    "LU": (51.88, -0.42, "Luton"),
    "M": (53.48, -2.24, "Manchester"),
    "ME": (51.39, 0.50, "Rochester"),
    "MK": (52.04, -0.76, "Milton Keynes"),
    "ML": (55.79, -3.99, "Motherwell"),
    "N": (51.57, -0.11, "London N"),
    "NE": (54.97, -1.61, "Newcastle upon Tyne"),
    "NG": (52.95, -1.15, "Nottingham"),
    "NN": (52.24, -0.90, "Northampton"),
    "NP": (51.59, -3.00, "Newport"),
    "NR": (52.63, 1.30, "Norwich"),
    "NW": (51.55, -0.19, "London NW"),
    "OL": (53.54, -2.12, "Oldham"),
    "OX": (51.75, -1.26, "Oxford"),
    "PA": (55.85, -4.42, "Paisley"),
    "PE": (52.57, -0.24, "Peterborough"),
    "PH": (56.40, -3.43, "Perth"),
    "PL": (50.38, -4.14, "Plymouth"),
    "PO": (50.82, -1.09, "Portsmouth"),
    "PR": (53.76, -2.70, "Preston"),
    "RG": (51.45, -0.97, "Reading"),
    "RH": (51.24, -0.17, "Redhill"),
    "RM": (51.58, 0.18, "Romford"),
    "S": (53.38, -1.47, "Sheffield"),
    "SA": (51.62, -3.94, "Swansea"),
    "SE": (51.47, -0.06, "London SE"),
    "SG": (51.90, -0.20, "Stevenage"),
    "SK": (53.41, -2.16, "Stockport"),
    "SL": (51.51, -0.59, "Slough"),
    "SM": (51.36, -0.19, "Sutton"),
    "SN": (51.56, -1.78, "Swindon"),
    "SO": (50.91, -1.40, "Southampton"),
    "SP": (51.07, -1.79, "Salisbury"),
    "SR": (54.91, -1.38, "Sunderland"),
    "SS": (51.54, 0.71, "Southend-on-Sea"),
    "ST": (53.00, -2.18, "Stoke-on-Trent"),
    "SW": (51.46, -0.17, "London SW"),
    "SY": (52.71, -2.75, "Shrewsbury"),
    "TA": (51.02, -3.10, "Taunton"),
    "TD": (55.61, -2.81, "Galashiels"),
    "TF": (52.68, -2.45, "Telford"),
    "TN": (51.19, 0.27, "Tonbridge"),
    "TQ": (50.46, -3.53, "Torquay"),
    "TR": (50.26, -5.05, "Truro"),
    "TS": (54.57, -1.23, "Middlesbrough"),
    "TW": (51.45, -0.34, "Twickenham"),
    "UB": (51.53, -0.45, "Southall"),
    "W": (51.51, -0.20, "London W"),
    "WA": (53.39, -2.59, "Warrington"),
    "WC": (51.52, -0.12, "London WC"),
    "WD": (51.66, -0.40, "Watford"),
    "WF": (53.68, -1.50, "Wakefield"),
    "WN": (53.55, -2.63, "Wigan"),
    "WR": (52.19, -2.22, "Worcester"),
    "WS": (52.59, -1.98, "Walsall"),
    "WV": (52.59, -2.13, "Wolverhampton"),
    "YO": (53.96, -1.08, "York"),
    "ZE": (60.15, -1.15, "Lerwick"),
}
_OUTWARD = re.compile(r"^([A-Z]{1,2})(\d[A-Z\d]?)(?:\s*\d[A-Z]{2})?$")
SPREAD = 0.06  # degrees: the largest offset of a district from its area's centre


def postcode_district(postcode: str | None) -> str | None:
    """The outward code (``LS2`` of ``LS2 6AB``), or None if it does not look like one."""
    if not postcode:
        return None
    m = _OUTWARD.match(" ".join(postcode.upper().split()))
    return m.group(1) + m.group(2) if m else None


def postcode_area(postcode: str | None) -> str | None:
    """The postcode area (``LS``) if it is one of :data:`POSTCODE_AREAS`."""
    district = postcode_district(postcode)
    if district is None:
        return None
    area = re.match(r"[A-Z]+", district)
    return area.group(0) if area and area.group(0) in POSTCODE_AREAS else None


def approximate_position(postcode: str | None) -> tuple[float, float] | None:
    """An approximate (latitude, longitude) for a postcode: its area's centre, offset by a
    fixed amount derived from the district (the same district always lands on the same
    point). None when the postcode's area is unknown."""
    area = postcode_area(postcode)
    if area is None:
        return None
    lat, lon, _town = POSTCODE_AREAS[area]
    district = postcode_district(postcode) or area
    digest = hashlib.sha256(district.encode()).digest()
    dlat = (digest[0] / 255 - 0.5) * 2 * SPREAD
    dlon = (digest[1] / 255 - 0.5) * 2 * SPREAD * 1.6  # a degree of longitude is shorter
    return round(lat + dlat, 4), round(lon + dlon, 4)
