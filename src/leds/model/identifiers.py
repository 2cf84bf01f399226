"""Validation, normalisation and construction of UK law-enforcement identifiers.

Every ``normalise_*`` function takes free text (any case, stray spaces) and returns one
canonical form, or raises :class:`~leds.errors.InvalidIdentifier` saying what is wrong;
where a check character is wrong the error carries the corrected identifier as its
``suggestion``. The ``make_*`` functions build identifiers for the synthetic data generator
and raise the same error for arguments that cannot form a valid identifier.

Identifiers covered:

* PNC ID (``2001/0171310W``, display ``01/0171310W``)
* CRO number (``012345/99C`` and ``SF99/012345C``)
* DVLA driving licence number (``MORGA753116SM9IJ``)
* vehicle registration mark (current, prefix, suffix, dateless, Northern Ireland)
* National Insurance number (``AB123456C``)
* postcode (BS 7666 rules)
* passport number

The functions are called millions of times by the generator and the parsers: the patterns
are compiled once here, and the fast path of each function is a single ``fullmatch``;
detailed reasons are worked out only once an input has already failed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from leds.errors import InvalidIdentifier, LedsError

__all__ = [
    "CURRENT_VRM_AREA_LETTERS",
    "IDENTIFIER_KINDS",
    "DriverNumberInfo",
    "VrmFormat",
    "VrmInfo",
    "classify_vrm",
    "cro_check_letter",
    "decode_driver_number",
    "display_vrm",
    "driver_number_matches",
    "format_nino",
    "is_valid",
    "make_cro",
    "make_current_vrm",
    "make_driver_number",
    "make_pnc_id",
    "normalise_cro",
    "normalise_driver_number",
    "normalise_nino",
    "normalise_passport",
    "normalise_pnc_id",
    "normalise_postcode",
    "normalise_vrm",
    "pnc_check_letter",
    "pnc_display",
    "postcode_area",
    "postcode_district",
    "postcode_sector",
]

# Kinds as they appear in error messages (``InvalidIdentifier.kind``).
_PNC: Final = "PNC ID"
_CRO: Final = "CRO number"
_DRIVER: Final = "driving licence number"
_VRM: Final = "VRM"
_NINO: Final = "NINO"
_POSTCODE: Final = "postcode"
_PASSPORT: Final = "passport number"


def _compact(text: str) -> str:
    """Upper-case ``text`` with all whitespace removed."""
    return "".join(text.split()).upper()


# --------------------------------------------------------------------------------------------
# PNC ID and CRO number: shared modulus-23 check letter
# --------------------------------------------------------------------------------------------

_CHECK_ALPHABET: Final = "ZABCDEFGHJKLMNPQRTUVWXY"  # 23 letters: no I, O, S

_PNC_RE: Final = re.compile(r"(\d{4}|\d{2})/(\d{1,7})([A-Z])")
_PNC_SERIAL_MAX: Final = 9_999_999


def pnc_check_letter(yy: int, serial: int) -> str:
    """Return the PNC ID check letter for 2-digit year ``yy`` and serial ``serial``.

    The letter is ``"ZABCDEFGHJKLMNPQRTUVWXY"[int(f"{yy:02d}{serial:07d}") % 23]``.
    """
    if not 0 <= yy <= 99:
        raise InvalidIdentifier(_PNC, f"{yy}/{serial}", "year must be 2 digits (0-99)")
    if not 0 <= serial <= _PNC_SERIAL_MAX:
        raise InvalidIdentifier(_PNC, f"{yy}/{serial}", "serial must be at most 7 digits")
    return _CHECK_ALPHABET[(yy * 10_000_000 + serial) % 23]


def make_pnc_id(year: int, serial: int) -> str:
    """Build a PNC ID in long form ``YYYY/NNNNNNNC`` from a 4-digit year and a serial."""
    if not 1900 <= year <= 2099:
        raise InvalidIdentifier(_PNC, f"{year}/{serial}", "year must be between 1900 and 2099")
    if not 1 <= serial <= _PNC_SERIAL_MAX:
        raise InvalidIdentifier(_PNC, f"{year}/{serial}", "serial must be 1 to 9999999")
    return f"{year:04d}/{serial:07d}{pnc_check_letter(year % 100, serial)}"


def _expand_two_digit_year(yy: int) -> int:
    """Expand a 2-digit year: later than this year's two digits means 19YY, else 20YY."""
    return 1900 + yy if yy > date.today().year % 100 else 2000 + yy


def _parse_pnc(text: str) -> tuple[int, int, str]:
    """Parse and check a PNC ID in either form; return (4-digit year, serial, letter)."""
    match = _PNC_RE.fullmatch(text.strip().upper())
    if match is None:
        raise InvalidIdentifier(
            _PNC, text, "expected YYYY/NNNNNNNC or YY/NNNNNNNC (year / serial + check letter)"
        )
    year_text, serial_text, letter = match.groups()
    year = int(year_text)
    if len(year_text) == 2:
        year = _expand_two_digit_year(year)
    elif not 1900 <= year <= 2099:
        raise InvalidIdentifier(_PNC, text, "year must be between 1900 and 2099")
    serial = int(serial_text)
    if serial == 0:
        raise InvalidIdentifier(_PNC, text, "serial must not be zero")
    expected = pnc_check_letter(year % 100, serial)
    if letter != expected:
        raise InvalidIdentifier(
            _PNC,
            text,
            f"check letter is {letter}, expected {expected}",
            suggestion=f"{year:04d}/{serial:07d}{expected}",
        )
    return year, serial, letter


def normalise_pnc_id(text: str) -> str:
    """Return the long form ``YYYY/NNNNNNNC`` of a PNC ID given in either form.

    Accepts any case, surrounding spaces and a serial without its leading zeros. A display
    form's 2-digit year ``YY`` means 19YY when YY is later than the current year's last two
    digits, else 20YY. Raises :class:`InvalidIdentifier` (with the corrected long form as
    ``suggestion`` when only the check letter is wrong).
    """
    year, serial, letter = _parse_pnc(text)
    return f"{year:04d}/{serial:07d}{letter}"


def pnc_display(text: str) -> str:
    """Return the display form ``YY/NNNNNNNC`` of a PNC ID given in either form."""
    year, serial, letter = _parse_pnc(text)
    return f"{year % 100:02d}/{serial:07d}{letter}"


_CRO_RE: Final = re.compile(r"(\d{1,6})/(\d{2})([A-Z])")
_CRO_SF_RE: Final = re.compile(r"SF(\d{2})/(\d{1,6})([A-Z])")
_CRO_SERIAL_MAX: Final = 999_999


def cro_check_letter(yy: int, serial: int) -> str:
    """Return the CRO check letter for 2-digit year ``yy`` and serial ``serial``.

    There is no public specification beyond "the PNC alphabet", so leds uses one rule for
    both CRO forms: ``"ZABCDEFGHJKLMNPQRTUVWXY"[int(f"{yy:02d}{serial:06d}") % 23]`` (year
    first, serial zero-padded to 6 digits, as for the PNC ID with a 6-digit serial).
    """
    if not 0 <= yy <= 99:
        raise InvalidIdentifier(_CRO, f"{serial}/{yy}", "year must be 2 digits (0-99)")
    if not 0 <= serial <= _CRO_SERIAL_MAX:
        raise InvalidIdentifier(_CRO, f"{serial}/{yy}", "serial must be at most 6 digits")
    return _CHECK_ALPHABET[(yy * 1_000_000 + serial) % 23]


def _format_cro(serial: int, yy: int, letter: str, *, sf: bool) -> str:
    if sf:
        return f"SF{yy:02d}/{serial:06d}{letter}"
    return f"{serial:06d}/{yy:02d}{letter}"


def make_cro(serial: int, yy: int, *, sf: bool = False) -> str:
    """Build a CRO number: ``NNNNNN/YYC``, or ``SFYY/NNNNNNC`` when ``sf`` is true."""
    if not 1 <= serial <= _CRO_SERIAL_MAX:
        raise InvalidIdentifier(_CRO, f"{serial}/{yy}", "serial must be 1 to 999999")
    return _format_cro(serial, yy, cro_check_letter(yy, serial), sf=sf)


def normalise_cro(text: str) -> str:
    """Return the canonical upper-case form of a CRO number in whichever form was given.

    ``NNNNNN/YYC`` (serial zero-padded to 6 digits) or ``SFYY/NNNNNNC``. Raises
    :class:`InvalidIdentifier`, with the corrected number as ``suggestion`` when only the
    check letter is wrong.
    """
    clean = text.strip().upper()
    sf = False
    match = _CRO_RE.fullmatch(clean)
    if match is not None:
        serial_text, yy_text, letter = match.groups()
    else:
        match = _CRO_SF_RE.fullmatch(clean)
        if match is None:
            raise InvalidIdentifier(
                _CRO, text, "expected NNNNNN/YYC or SFYY/NNNNNNC (serial, year, check letter)"
            )
        yy_text, serial_text, letter = match.groups()
        sf = True
    serial, yy = int(serial_text), int(yy_text)
    if serial == 0:
        raise InvalidIdentifier(_CRO, text, "serial must not be zero")
    expected = cro_check_letter(yy, serial)
    if letter != expected:
        raise InvalidIdentifier(
            _CRO,
            text,
            f"check letter is {letter}, expected {expected}",
            suggestion=_format_cro(serial, yy, expected, sf=sf),
        )
    return _format_cro(serial, yy, letter, sf=sf)


# --------------------------------------------------------------------------------------------
# DVLA driving licence number
# --------------------------------------------------------------------------------------------

_DRIVER_RE: Final = re.compile(
    r"([A-Z]{5}|[A-Z]{4}9|[A-Z]{3}99|[A-Z]{2}999|[A-Z]9999)"  # surname, padded with 9
    r"(\d)(\d{2})(\d{2})(\d)"  # decade digit, month (+50 if female), day, year digit
    r"([A-Z]{2}|[A-Z]9|99)"  # initials, padded with 9
    r"\d[A-Z0-9]{2}"  # arbitrary digit, two check characters
)
_DRIVER_CHECK_RE: Final = re.compile(r"[A-Z0-9]{2}")
_DRIVER_SURNAME_RE: Final = re.compile(r"[A-Z]{1,5}9*")
_DRIVER_INITIALS_RE: Final = re.compile(r"[A-Z]{1,2}9*|99")
_NOT_A_TO_Z: Final = re.compile(r"[^A-Z]+")
# Days in each month, 29 for February: the year is known only to a digit.
_MONTH_DAYS: Final = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True, slots=True)
class DriverNumberInfo:
    """What a driving licence number says about its holder."""

    surname5: str  # first 5 letters of the surname, padded with "9"
    sex: Literal["M", "F"]
    birth_month: int  # 1-12
    birth_day: int  # 1-31
    decade_digit: int  # tens digit of the birth year
    year_digit: int  # units digit of the birth year
    initials: str  # 2 characters, padded with "9"


def _letters_only(text: str) -> str:
    """Upper-case A-Z letters of ``text``, accents folded (``Ó`` -> ``O``)."""
    upper = text.upper()
    if not upper.isascii():
        upper = unicodedata.normalize("NFKD", upper)
    return _NOT_A_TO_Z.sub("", upper)


def _driver_surname5(surname: str) -> str:
    letters = _letters_only(surname)
    if not letters:
        raise InvalidIdentifier(_DRIVER, surname, "surname has no letters")
    if letters.startswith("MAC"):
        letters = "MC" + letters[3:]
    return letters[:5].ljust(5, "9")


def _driver_sex(sex: str) -> Literal["M", "F"]:
    key = sex.strip().upper()
    if key in ("M", "MALE"):
        return "M"
    if key in ("F", "FEMALE"):
        return "F"
    raise InvalidIdentifier(_DRIVER, sex, "sex must be M or F")


def _driver_dob_code(dob: date, sex: str) -> str:
    month = dob.month + 50 if _driver_sex(sex) == "F" else dob.month
    return f"{dob.year // 10 % 10}{month:02d}{dob.day:02d}{dob.year % 10}"


def make_driver_number(
    surname: str,
    forenames: str,
    dob: date,
    sex: str,
    *,
    arbitrary: int = 9,
    check: str = "AA",
) -> str:
    """Build a 16-character DVLA driving licence number.

    Surname: A-Z letters only (accents folded), a leading ``MAC`` written ``MC``, first 5
    letters padded with ``9``. Date of birth: decade digit, month (+50 for a woman), day,
    year digit. Initials: first letters of the first two forenames, padded with ``9``. Then
    the ``arbitrary`` digit and two ``check`` characters (the DVLA algorithm is unpublished,
    so they are taken as given: any two of A-Z, 0-9). ``sex`` is ``M``/``F`` (or
    ``male``/``female``), any case.
    """
    firsts = [letters[0] for letters in map(_letters_only, forenames.split()) if letters]
    initials = "".join(firsts[:2]).ljust(2, "9")
    if not 0 <= arbitrary <= 9:
        raise InvalidIdentifier(_DRIVER, str(arbitrary), "arbitrary digit must be 0-9")
    check_chars = check.upper()
    if _DRIVER_CHECK_RE.fullmatch(check_chars) is None:
        raise InvalidIdentifier(_DRIVER, check, "check must be two characters A-Z or 0-9")
    surname5 = _driver_surname5(surname)
    return f"{surname5}{_driver_dob_code(dob, sex)}{initials}{arbitrary}{check_chars}"


def _driver_structure_error(text: str, clean: str) -> InvalidIdentifier:
    if len(clean) != 16:
        return InvalidIdentifier(_DRIVER, text, f"must be 16 characters, not {len(clean)}")
    if _DRIVER_SURNAME_RE.fullmatch(clean[:5]) is None:
        return InvalidIdentifier(
            _DRIVER, text, "first 5 characters must be surname letters padded with 9"
        )
    if not clean[5:11].isdigit():
        return InvalidIdentifier(_DRIVER, text, "characters 6-11 must be the date of birth")
    if _DRIVER_INITIALS_RE.fullmatch(clean[11:13]) is None:
        return InvalidIdentifier(_DRIVER, text, "characters 12-13 must be initials padded with 9")
    if not clean[13].isdigit():
        return InvalidIdentifier(_DRIVER, text, "character 14 must be a digit")
    return InvalidIdentifier(_DRIVER, text, "characters 15-16 must be A-Z or 0-9")


def decode_driver_number(text: str) -> DriverNumberInfo:
    """Validate a driving licence number and decode what it says about its holder.

    Spaces and case are ignored. The month must be 01-12 (men) or 51-62 (women) and the
    day must exist in that month (29 February is allowed: the year is known only to its
    last digit). Raises :class:`InvalidIdentifier`.
    """
    clean = _compact(text)
    match = _DRIVER_RE.fullmatch(clean)
    if match is None:
        raise _driver_structure_error(text, clean)
    surname5, decade, month_text, day_text, year, initials = match.groups()
    month = int(month_text)
    sex: Literal["M", "F"] = "M"
    if month > 50:
        month -= 50
        sex = "F"
    if not 1 <= month <= 12:
        raise InvalidIdentifier(
            _DRIVER, text, f"month {month_text} is not 01-12 (male) or 51-62 (female)"
        )
    day = int(day_text)
    if not 1 <= day <= _MONTH_DAYS[month]:
        raise InvalidIdentifier(_DRIVER, text, f"day {day_text} does not exist in month {month}")
    return DriverNumberInfo(
        surname5=surname5,
        sex=sex,
        birth_month=month,
        birth_day=day,
        decade_digit=int(decade),
        year_digit=int(year),
        initials=initials,
    )


def normalise_driver_number(text: str) -> str:
    """Return a driving licence number without spaces, upper case, after validating it.

    See :func:`decode_driver_number` for the checks. Raises :class:`InvalidIdentifier`.
    """
    decode_driver_number(text)
    return _compact(text)


def driver_number_matches(number: str, surname: str, dob: date, sex: str) -> bool:
    """Whether a driving licence number encodes this surname, date of birth and sex.

    Compares the first 11 characters (surname and date of birth; sex is in the month).
    Raises :class:`InvalidIdentifier` if ``number`` is not a valid licence number or the
    surname has no letters.
    """
    clean = normalise_driver_number(number)
    return clean[:11] == _driver_surname5(surname) + _driver_dob_code(dob, sex)


# --------------------------------------------------------------------------------------------
# Vehicle registration marks
# --------------------------------------------------------------------------------------------

VrmFormat = Literal["current", "prefix", "suffix", "dateless", "northern_ireland"]

#: First letters of current-format memory tags (DVLA regions; X = personal export).
CURRENT_VRM_AREA_LETTERS: Final = "ABCDEFGHKLMNOPRSVWXY"

_VRM_CURRENT_SHAPE: Final = re.compile(r"([A-Z]{2})(\d{2})([A-Z]{3})")
_VRM_PREFIX_SHAPE: Final = re.compile(r"([A-Z])(\d{1,3})([A-Z]{3})")
_VRM_SUFFIX_SHAPE: Final = re.compile(r"([A-Z]{3})(\d{1,3})([A-Z])")
_VRM_LETTERS_DIGITS: Final = re.compile(r"([A-Z]{1,3})(\d{1,4})")
_VRM_DIGITS_LETTERS: Final = re.compile(r"(\d{1,4})([A-Z]{1,3})")
_VRM_MEMORY_TAG_2: Final = frozenset("ABCDEFGHJKLMNOPRSTUVWXY")  # no I, Q, Z
_VRM_RANDOM: Final = frozenset("ABCDEFGHJKLMNOPRSTUVWXYZ")  # no I, Q

_YEAR_LETTERS: Final = "ABCDEFGHJKLMNPRSTVWXY"  # no I, O, Q, U, Z
# Earliest issue date for each prefix year letter: A = August 1983 ... S = August 1998,
# then half-yearly from T = March 1999 to Y = March 2001.
_PREFIX_YEAR_FROM: Final = {
    **{letter: date(1983 + i, 8, 1) for i, letter in enumerate(_YEAR_LETTERS[:16])},
    "T": date(1999, 3, 1),
    "V": date(1999, 9, 1),
    "W": date(2000, 3, 1),
    "X": date(2000, 9, 1),
    "Y": date(2001, 3, 1),
}
# Earliest issue date for each suffix year letter: A-D calendar 1963-1966, E January 1967,
# then from F = August 1967 yearly each August to Y = August 1982.
_SUFFIX_YEAR_FROM: Final = {
    **{letter: date(1963 + i, 1, 1) for i, letter in enumerate(_YEAR_LETTERS[:5])},
    **{letter: date(1967 + i, 8, 1) for i, letter in enumerate(_YEAR_LETTERS[5:])},
}


@dataclass(frozen=True, slots=True)
class VrmInfo:
    """A validated vehicle registration mark."""

    vrm: str  # compact, upper case, no spaces: "AB12CDE"
    display: str  # with the standard space: "AB12 CDE"
    format: VrmFormat
    year_from: date | None  # earliest issue date implied by the age identifier, if any


def _current_age_from(age: int) -> date | None:
    """Start of the registration period of a current-format age identifier, or None."""
    if 2 <= age <= 50:
        return date(2000 + age, 3, 1)
    if 51 <= age <= 99:
        return date(1950 + age, 9, 1)
    return None


def _classify_current(text: str, compact: str, match: re.Match[str]) -> VrmInfo:
    tag, age_text, random = match.groups()
    if tag[0] not in CURRENT_VRM_AREA_LETTERS:
        raise InvalidIdentifier(_VRM, text, f"{tag[0]} is not a memory tag area letter")
    if tag[1] not in _VRM_MEMORY_TAG_2:
        raise InvalidIdentifier(_VRM, text, f"{tag[1]} is not used in memory tags")
    year_from = _current_age_from(int(age_text))
    if year_from is None:
        raise InvalidIdentifier(_VRM, text, f"age identifier {age_text} has never been issued")
    if not _VRM_RANDOM.issuperset(random):
        raise InvalidIdentifier(_VRM, text, "I and Q are not used in the last three letters")
    return VrmInfo(compact, f"{tag}{age_text} {random}", "current", year_from)


def _check_serial(text: str, digits: str) -> None:
    if digits[0] == "0":
        raise InvalidIdentifier(_VRM, text, "the number must not start with 0")


def _check_letter_group(text: str, letters: str) -> None:
    if "I" in letters or "Q" in letters:
        raise InvalidIdentifier(_VRM, text, "I and Q are not used in this format's letters")


def _classify_dated(text: str, compact: str) -> VrmInfo | None:
    """Classify a prefix or suffix mark; None if ``compact`` has neither shape."""
    match = _VRM_PREFIX_SHAPE.fullmatch(compact)
    if match is not None:
        year_letter, digits, letters = match.groups()
        year_from = _PREFIX_YEAR_FROM.get(year_letter)
        if year_from is None:
            raise InvalidIdentifier(_VRM, text, f"{year_letter} is not a prefix year letter")
        _check_serial(text, digits)
        _check_letter_group(text, letters)
        return VrmInfo(compact, f"{year_letter}{digits} {letters}", "prefix", year_from)
    match = _VRM_SUFFIX_SHAPE.fullmatch(compact)
    if match is not None:
        letters, digits, year_letter = match.groups()
        year_from = _SUFFIX_YEAR_FROM.get(year_letter)
        if year_from is None:
            raise InvalidIdentifier(_VRM, text, f"{year_letter} is not a suffix year letter")
        _check_serial(text, digits)
        _check_letter_group(text, letters)
        return VrmInfo(compact, f"{letters} {digits}{year_letter}", "suffix", year_from)
    return None


def _classify_dateless(text: str, compact: str) -> VrmInfo | None:
    """Classify a dateless or Northern Ireland mark; None if it has neither shape."""
    match = _VRM_LETTERS_DIGITS.fullmatch(compact)
    if match is not None:
        letters, digits = match.groups()
        display = f"{letters} {digits}"
    else:
        match = _VRM_DIGITS_LETTERS.fullmatch(compact)
        if match is None:
            return None
        digits, letters = match.groups()
        display = f"{digits} {letters}"
    _check_serial(text, digits)
    if "Q" in letters:
        raise InvalidIdentifier(_VRM, text, "Q is not used in dateless marks")
    kind: VrmFormat = "northern_ireland" if "I" in letters or "Z" in letters else "dateless"
    return VrmInfo(compact, display, kind, None)


def classify_vrm(text: str) -> VrmInfo:
    """Validate a UK vehicle registration mark and say which format it is.

    Formats: ``current`` (``AB12 CDE``: memory tag, age identifier, three random letters;
    age ``YY`` = March 20YY, ``YY+50`` = September 20YY, from 51 = September 2001),
    ``prefix`` (``A123 BCD``, year letter A = 1983 ... Y = 2001), ``suffix`` (``ABC 123D``,
    year letter A = 1963 ... Y = 1982), ``dateless`` (``ABC 123`` or ``123 ABC``) and
    ``northern_ireland`` (a dateless shape whose letters contain I or Z, e.g. ``ABZ 1234``).

    Current-format memory tags: first letter one of :data:`CURRENT_VRM_AREA_LETTERS`,
    second letter not I, Q or Z; the three random letters exclude I and Q (Z *is* issued
    there). Year letters exclude I, O, Q, U and Z. Numbers never start with 0. Spaces and
    case are ignored. Raises :class:`InvalidIdentifier`.
    """
    compact = _compact(text)
    match = _VRM_CURRENT_SHAPE.fullmatch(compact)
    if match is not None:
        return _classify_current(text, compact, match)
    info = _classify_dated(text, compact) or _classify_dateless(text, compact)
    if info is None:
        raise InvalidIdentifier(_VRM, text, "not a UK registration mark format")
    return info


def normalise_vrm(text: str) -> str:
    """Return the compact form of a registration mark (upper case, no spaces)."""
    return classify_vrm(text).vrm


def display_vrm(text: str) -> str:
    """Return a registration mark with its standard space (``AB12 CDE``, ``A123 BCD``)."""
    return classify_vrm(text).display


def make_current_vrm(area: str, year: int, half: int, serial_letters: str) -> str:
    """Build a current-format mark in display form (``AB12 CDE``).

    ``area`` is the 2-letter memory tag, ``half`` is 1 for the March issue (age ``YY``) or
    2 for September (age ``YY + 50``), ``serial_letters`` the three random letters. The
    earliest is September 2001 (``51``), the latest March 2050 (``50``).
    """
    if half not in (1, 2):
        raise InvalidIdentifier(_VRM, f"{area}/{year}/{half}", "half must be 1 or 2")
    if not 2001 <= year <= 2050:
        raise InvalidIdentifier(_VRM, f"{area}/{year}/{half}", "year must be 2001-2050")
    if len(area) != 2 or len(serial_letters) != 3:
        raise InvalidIdentifier(
            _VRM, f"{area}/{serial_letters}", "area must be 2 letters and serial_letters 3"
        )
    age = year % 100 + (50 if half == 2 else 0)
    if _current_age_from(age) is None:
        raise InvalidIdentifier(_VRM, f"{area}/{year}/{half}", "no such registration period")
    return classify_vrm(f"{area}{age:02d}{serial_letters}").display


# --------------------------------------------------------------------------------------------
# National Insurance number
# --------------------------------------------------------------------------------------------

_NINO_RE: Final = re.compile(
    r"(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]"
)
_NINO_SHAPE: Final = re.compile(r"[A-Z]{2}\d{6}[A-Z]")
_NINO_BAD_FIRST: Final = frozenset("DFIQUV")
_NINO_BAD_SECOND: Final = frozenset("DFIOQUV")
_NINO_BAD_PREFIXES: Final = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def normalise_nino(text: str) -> str:
    """Return a National Insurance number in compact upper case (``AB123456C``).

    Two prefix letters (first not D, F, I, Q, U, V; second not D, F, I, O, Q, U, V; not
    BG, GB, KN, NK, NT, TN or ZZ), six digits, suffix A-D. Spaces and case are ignored.
    Raises :class:`InvalidIdentifier`.
    """
    clean = _compact(text)
    if _NINO_RE.fullmatch(clean) is not None:
        return clean
    if _NINO_SHAPE.fullmatch(clean) is None:
        raise InvalidIdentifier(_NINO, text, "expected two letters, six digits and a letter")
    if clean[0] in _NINO_BAD_FIRST:
        raise InvalidIdentifier(_NINO, text, f"first letter cannot be {clean[0]}")
    if clean[1] in _NINO_BAD_SECOND:
        raise InvalidIdentifier(_NINO, text, f"second letter cannot be {clean[1]}")
    if clean[:2] in _NINO_BAD_PREFIXES:
        raise InvalidIdentifier(_NINO, text, f"prefix {clean[:2]} is not allocated")
    raise InvalidIdentifier(_NINO, text, f"suffix must be A, B, C or D, not {clean[8]}")


def format_nino(text: str) -> str:
    """Return a National Insurance number in the printed form ``AB 12 34 56 C``."""
    n = normalise_nino(text)
    return f"{n[:2]} {n[2:4]} {n[4:6]} {n[6:8]} {n[8]}"


# --------------------------------------------------------------------------------------------
# Postcode
# --------------------------------------------------------------------------------------------

_PC_FIRST: Final = "ABCDEFGHIJKLMNOPRSTUWYZ"  # not Q, V, X
_PC_SECOND: Final = "ABCDEFGHKLMNOPQRSTUVWXY"  # not I, J, Z
_PC_THIRD_A9A: Final = "ABCDEFGHJKPSTUW"
_PC_FOURTH_AA9A: Final = "ABEHMNPRVWXY"
_PC_INWARD: Final = "ABDEFGHJLNPQRSTUWXYZ"  # not C, I, K, M, O, V
_POSTCODE_RE: Final = re.compile(
    rf"([{_PC_FIRST}](?:\d\d?|[{_PC_SECOND}]\d\d?|\d[{_PC_THIRD_A9A}]"
    rf"|[{_PC_SECOND}]\d[{_PC_FOURTH_AA9A}]))(\d[{_PC_INWARD}]{{2}})"
)
_PC_OUTWARD_SHAPES: Final = frozenset({"A9", "A99", "AA9", "AA99", "A9A", "AA9A"})
_PC_SHAPE_TABLE: Final = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", "A" * 26 + "9" * 10)


def _postcode_error(text: str, compact: str) -> InvalidIdentifier:
    outward, inward = compact[:-3], compact[-3:]
    shape = outward.translate(_PC_SHAPE_TABLE)
    if len(compact) < 5 or shape not in _PC_OUTWARD_SHAPES:
        return InvalidIdentifier(
            _POSTCODE, text, "outward code must be A9, A99, AA9, AA99, A9A or AA9A"
        )
    if inward.translate(_PC_SHAPE_TABLE) != "9AA":
        return InvalidIdentifier(_POSTCODE, text, "inward code must be a digit and two letters")
    if outward[0] not in _PC_FIRST:
        return InvalidIdentifier(_POSTCODE, text, f"{outward[0]} cannot start a postcode")
    if shape.startswith("AA") and outward[1] not in _PC_SECOND:
        return InvalidIdentifier(_POSTCODE, text, f"{outward[1]} cannot be the second letter")
    if shape == "A9A" and outward[2] not in _PC_THIRD_A9A:
        return InvalidIdentifier(_POSTCODE, text, f"{outward[2]} cannot end an A9A outward code")
    if shape == "AA9A" and outward[3] not in _PC_FOURTH_AA9A:
        return InvalidIdentifier(_POSTCODE, text, f"{outward[3]} cannot end an AA9A outward code")
    return InvalidIdentifier(_POSTCODE, text, "inward code letters cannot be C, I, K, M, O or V")


def _split_postcode(text: str) -> tuple[str, str]:
    compact = _compact(text)
    if compact == "GIR0AA":
        return "GIR", "0AA"
    match = _POSTCODE_RE.fullmatch(compact)
    if match is None:
        raise _postcode_error(text, compact)
    return match[1], match[2]


def normalise_postcode(text: str) -> str:
    """Return a UK postcode in canonical form ``AB1 2CD`` (BS 7666 rules).

    Outward code A9, A99, AA9, AA99, A9A or AA9A; inward code 9AA. First letter not Q, V,
    X; second letter not I, J, Z; the letter of A9A one of ABCDEFGHJKPSTUW; the letter of
    AA9A one of ABEHMNPRVWXY; inward letters not C, I, K, M, O, V. ``GIR 0AA`` is also
    accepted. The space may be missing; case is ignored. Raises :class:`InvalidIdentifier`.
    """
    outward, inward = _split_postcode(text)
    return f"{outward} {inward}"


def postcode_area(pc: str) -> str:
    """Return the postcode area: the leading letters of the outward code (``SW1A 1AA`` -> SW)."""
    outward = _split_postcode(pc)[0]
    if outward == "GIR":
        return outward
    return outward[:2] if outward[1].isalpha() else outward[0]


def postcode_district(pc: str) -> str:
    """Return the postcode district: the outward code (``SW1A 1AA`` -> ``SW1A``)."""
    return _split_postcode(pc)[0]


def postcode_sector(pc: str) -> str:
    """Return the postcode sector: outward code, space, inward digit (``SW1A 1``)."""
    outward, inward = _split_postcode(pc)
    return f"{outward} {inward[0]}"


# --------------------------------------------------------------------------------------------
# Passport number
# --------------------------------------------------------------------------------------------

_PASSPORT_RE: Final = re.compile(r"[A-Z0-9]{6,9}")


def normalise_passport(text: str) -> str:
    """Return a passport number upper case without spaces: 6-9 letters or digits."""
    clean = _compact(text)
    if _PASSPORT_RE.fullmatch(clean) is None:
        raise InvalidIdentifier(_PASSPORT, text, "expected 6 to 9 letters or digits")
    return clean


# --------------------------------------------------------------------------------------------
# Any kind
# --------------------------------------------------------------------------------------------

_NORMALISERS: Final[dict[str, Callable[[str], object]]] = {
    "pnc_id": normalise_pnc_id,
    "cro": normalise_cro,
    "driver_number": normalise_driver_number,
    "vrm": normalise_vrm,
    "nino": normalise_nino,
    "postcode": normalise_postcode,
    "passport": normalise_passport,
}
#: The ``kind`` names :func:`is_valid` accepts.
IDENTIFIER_KINDS: Final = frozenset(_NORMALISERS)


def is_valid(kind: str, text: str) -> bool:
    """Whether ``text`` is a valid identifier of ``kind`` (one of :data:`IDENTIFIER_KINDS`).

    Raises :class:`~leds.errors.LedsError` for an unknown ``kind``.
    """
    normalise = _NORMALISERS.get(kind)
    if normalise is None:
        raise LedsError(
            f"unknown identifier kind {kind!r}", hint="one of " + ", ".join(sorted(_NORMALISERS))
        )
    try:
        normalise(text)
    except InvalidIdentifier:
        return False
    return True
