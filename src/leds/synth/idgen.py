"""Globally unique identifiers derived from the person index (no cross-part coordination).

Every identifier is a deterministic, injective function of the person's global index ``idx``
(0-based) or of the global vehicle index ``v = idx * VEHICLES_PER_PERSON + j``, so parts can
be generated independently and ids never collide across parts:

* PNC ID ``YYYY/NNNNNNNC``: serial ``idx % 10^7 + 1``; the year is the person's natural first
  record year moved back (at most ``2K - 1`` years) to the nearest year ``y`` with
  ``y % 2K == k`` where ``k = idx // 10^7`` (``K`` = number of 10M blocks in the world).
  In-source duplicates use the classes ``K + k``.
* CRO ``NNNNNN/YYC``: serial ``idx % 10^6 + 1``, year ``≡ idx // 10^6 (mod 16)``; persons
  for whom no such year fits their life get none (worlds of more than 16M persons: none).
* NINO, passports, Home Office references, VINs: positional encodings of ``idx``/``v``.
* Driving licence numbers: the check characters encode ``idx % 676`` (and the arbitrary digit
  is 9, or 8 for an in-source duplicate); a collision remains possible in theory for two
  persons with the same surname stem, date of birth, initials and ``idx % 676`` (expected
  fewer than one in 12.6M persons) and is resolved within a part by lowering the digit.
* VRMs: the vehicle index picks a format (current mostly; prefix, suffix, dateless, Northern
  Ireland) and is mapped injectively into that format's space by a multiplicative bijection.
"""

from __future__ import annotations

from datetime import date

from leds.model.identifiers import (
    CURRENT_VRM_AREA_LETTERS,
    make_cro,
    make_current_vrm,
    make_driver_number,
    make_pnc_id,
)

VEHICLES_PER_PERSON = 4
PNC_BLOCK = 9_999_999  # serials 1..9,999,999 (7 digits)
CRO_BLOCK = 999_999  # serials 1..999,999 (6 digits)
CRO_YEAR_CLASSES = 16
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_AREA2 = "ABCDEFGHJKLMNOPRSTUVWXY"  # second memory-tag letter: no I, Q, Z
_RANDOM3 = "ABCDEFGHJKLMNOPRSTUVWXYZ"  # no I, Q
_YEAR_LETTERS = "ABCDEFGHJKLMNPRSTVWXY"
_GROUP3 = "ABCDEFGHJKLMNPRSTUVWXY"  # prefix/suffix/dateless letters: no I, O, Q, Z
_NI_CODES = (
    "IA",
    "IB",
    "IG",
    "IJ",
    "IL",
    "IW",
    "JZ",
    "KZ",
    "LZ",
    "MZ",
    "NZ",
    "RZ",
    "SZ",
    "UI",
    "XI",
    "YZ",
    "AZ",
    "BZ",
    "CZ",
    "DZ",
    "EZ",
    "FZ",
    "GZ",
    "HZ",
)
_VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"  # no I, O, Q
_NINO_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
_NINO_SECOND = "ABCEGHJKLMNPRSTWXYZ"
_NINO_PREFIXES = tuple(
    a + b
    for a in _NINO_FIRST
    for b in _NINO_SECOND
    if a + b not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}
)


_PREFIX_FROM = (
    *(date(1983 + i, 8, 1) for i in range(16)),
    date(1999, 3, 1),
    date(1999, 9, 1),
    date(2000, 3, 1),
    date(2000, 9, 1),
    date(2001, 3, 1),
)


def pnc_blocks(total_persons: int) -> int:
    return max(1, -(-total_persons // PNC_BLOCK))


def pnc_id(idx: int, natural_year: int, min_year: int, blocks: int, *, dup: bool = False) -> str:
    """PNC ID (long form) for person ``idx`` (``dup``: a second, duplicate record's id)."""
    modulus = 2 * blocks
    k = idx // PNC_BLOCK + (blocks if dup else 0)
    year = natural_year - ((natural_year - k) % modulus)
    while year < min_year:
        year += modulus
    while year > 2025:
        year -= modulus
    return make_pnc_id(year, idx % PNC_BLOCK + 1)


def cro_number(idx: int, min_year: int) -> str | None:
    """CRO number for person ``idx`` whose record cannot predate ``min_year`` (or None)."""
    k = idx // CRO_BLOCK
    if k >= CRO_YEAR_CLASSES:
        return None
    year = 2025 - ((2025 - k) % CRO_YEAR_CLASSES)
    if year < max(min_year, 1975):
        return None
    sf = year >= 1995 and idx % 3 == 0
    return make_cro(idx % CRO_BLOCK + 1, year % 100, sf=sf)


def nino(idx: int) -> str:
    n = (idx * 7_919 + 104_729) % (len(_NINO_PREFIXES) * 1_000_000 * 4)
    prefix = _NINO_PREFIXES[n // 4_000_000]
    return f"{prefix}{(n // 4) % 1_000_000:06d}{'ABCD'[n % 4]}"


def passport(idx: int, nationality: str, serial: int = 0) -> str:
    """Passport number: 9 digits for GBR, else 2 letters + 7 digits (``serial``: renewal)."""
    n = idx * 3 + serial
    if nationality == "GBR":
        return f"{5 + n // 100_000_000 % 5}{n % 100_000_000:08d}"
    head = _LETTERS[n // 10_000_000 % 26]
    return f"{nationality[0]}{head}{n % 10_000_000:07d}"


def home_office_ref(idx: int) -> str:
    return f"{_LETTERS[idx // 10_000_000 % 26]}{idx % 10_000_000:07d}"


def driver_number(
    idx: int,
    surname: str,
    forenames: str,
    dob: date,
    sex: str,
    taken: set[str],
    *,
    dup: bool = False,
) -> str:
    code = idx % 676
    check = _LETTERS[code // 26] + _LETTERS[code % 26]
    digit = 8 if dup else 9
    while True:
        number = make_driver_number(surname, forenames, dob, sex, arbitrary=digit, check=check)
        if number not in taken or digit == 0:
            taken.add(number)
            return number
        digit -= 1


def vin(v: int, wmi: str) -> str:
    c = _VIN_CHARS
    hi = v // 1_000_000
    m = _mix(v, 33**5)
    body = "".join(c[m // 33**i % 33] for i in range(5))
    return f"{wmi}{body}{c[v % 10]}{c[hi // 33 % 33]}{c[hi % 33]}{v % 1_000_000:06d}"


def _mix(v: int, capacity: int) -> int:
    return (v * 2_654_435_761 + 97_531) % capacity


def vrm_format(v: int) -> str:
    if v % 128 == 7:
        return "northern_ireland"
    h = (v * 40_503 + 11) % 100
    if h < 85:
        return "current"
    if h < 92:
        return "prefix"
    if h < 96:
        return "suffix"
    return "dateless"


def vrm(v: int) -> tuple[str, date]:
    """(display VRM, earliest first-registration date) of vehicle ``v`` (injective in v)."""
    fmt = vrm_format(v)
    if fmt == "current":
        periods = 49  # September 2001 (51) .. September 2025 (75)
        cap = len(CURRENT_VRM_AREA_LETTERS) * len(_AREA2) * periods * len(_RANDOM3) ** 3
        n = _mix(v, cap)
        r, n = n % 13_824, n // 13_824
        letters = _RANDOM3[r // 576] + _RANDOM3[r // 24 % 24] + _RANDOM3[r % 24]
        period, n = n % periods, n // periods
        area = CURRENT_VRM_AREA_LETTERS[n // len(_AREA2)] + _AREA2[n % len(_AREA2)]
        year, half = 2001 + (period + 1) // 2, 2 if period % 2 == 0 else 1
        first = date(year, 9 if half == 2 else 3, 1)
        return make_current_vrm(area, year, half, letters), first
    g = len(_GROUP3)
    if fmt in ("prefix", "suffix"):
        n = _mix(v, 21 * 999 * g**3)
        r, n = n % g**3, n // g**3
        letters = _GROUP3[r // (g * g)] + _GROUP3[r // g % g] + _GROUP3[r % g]
        number, year_i = n % 999 + 1, n // 999
        yl = _YEAR_LETTERS[year_i]
        if fmt == "prefix":
            return f"{yl}{number} {letters}", _PREFIX_FROM[year_i]
        return f"{letters} {number}{yl}", date(1963 + year_i, 8, 1)
    if fmt == "dateless":
        n = _mix(v, 9999 * g**3)
        r, number = n // 9999, n % 9999 + 1
        letters = _GROUP3[r // (g * g)] + _GROUP3[r // g % g] + _GROUP3[r % g]
        return f"{letters} {number}", date(1950 + v % 13, 1, 1)
    n = v // 128
    number, n = n % 9999 + 1, n // 9999
    code, n = _NI_CODES[n % len(_NI_CODES)], n // len(_NI_CODES)
    return f"{_GROUP3[n % g]}{code} {number}", date(1990 + v % 30, 1, 1)
