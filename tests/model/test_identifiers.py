"""Tests for leds.model.identifiers: validation, normalisation and construction."""

from __future__ import annotations

import dataclasses
import string
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leds.errors import InvalidIdentifier, LedsError
from leds.model import identifiers as ids
from leds.model.identifiers import (
    CURRENT_VRM_AREA_LETTERS,
    DriverNumberInfo,
    VrmInfo,
    classify_vrm,
    cro_check_letter,
    decode_driver_number,
    display_vrm,
    driver_number_matches,
    format_nino,
    is_valid,
    make_cro,
    make_current_vrm,
    make_driver_number,
    make_pnc_id,
    normalise_cro,
    normalise_driver_number,
    normalise_nino,
    normalise_passport,
    normalise_pnc_id,
    normalise_postcode,
    normalise_vrm,
    pnc_check_letter,
    pnc_display,
    postcode_area,
    postcode_district,
    postcode_sector,
)

ALPHABET = "ZABCDEFGHJKLMNPQRTUVWXY"
THIS_YY = date.today().year % 100


def _letters(allowed: str, n: int = 1) -> st.SearchStrategy[str]:
    return st.text(alphabet=allowed, min_size=n, max_size=n)


# ------------------------------------------------------------------------------------ PNC ID

KNOWN_PNC_IDS = [
    "2001/0171310W",
    "2011/0275516Q",
    "2008/0056560Z",
    "2003/0062845E",
    "1981/0154257C",
]


@pytest.mark.parametrize("pnc", KNOWN_PNC_IDS)
def test_known_pnc_ids_are_valid(pnc: str) -> None:
    assert normalise_pnc_id(pnc) == pnc
    assert is_valid("pnc_id", pnc)


@pytest.mark.parametrize("pnc", KNOWN_PNC_IDS)
def test_known_pnc_ids_wrong_letter_suggests_the_right_one(pnc: str) -> None:
    right = pnc[-1]
    wrong = ALPHABET[(ALPHABET.index(right) + 1) % 23]
    with pytest.raises(InvalidIdentifier) as info:
        normalise_pnc_id(pnc[:-1] + wrong)
    assert info.value.suggestion == pnc
    assert info.value.kind == "PNC ID"
    assert f"expected {right}" in info.value.reason
    assert isinstance(info.value, ValueError)


def test_pnc_check_letter_values() -> None:
    assert pnc_check_letter(1, 171310) == "W"
    assert pnc_check_letter(81, 154257) == "C"
    assert pnc_check_letter(0, 0) == "Z"
    assert pnc_check_letter(0, 1) == "A"


def test_make_pnc_id() -> None:
    assert make_pnc_id(2011, 275516) == "2011/0275516Q"
    assert make_pnc_id(1981, 154257) == "1981/0154257C"


@pytest.mark.parametrize(
    ("year", "serial"), [(1899, 1), (2100, 1), (2001, 0), (2001, 10_000_000), (2001, -1)]
)
def test_make_pnc_id_rejects_bad_arguments(year: int, serial: int) -> None:
    with pytest.raises(InvalidIdentifier):
        make_pnc_id(year, serial)


@pytest.mark.parametrize(("yy", "serial"), [(-1, 1), (100, 1), (1, 10_000_000)])
def test_pnc_check_letter_rejects_bad_arguments(yy: int, serial: int) -> None:
    with pytest.raises(InvalidIdentifier):
        pnc_check_letter(yy, serial)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  2001/0171310w ", "2001/0171310W"),
        ("2001/171310W", "2001/0171310W"),
        ("01/0171310W", "2001/0171310W"),
        ("01/171310w", "2001/0171310W"),
        ("81/0154257C", "1981/0154257C"),
    ],
)
def test_normalise_pnc_id_forms(text: str, expected: str) -> None:
    assert normalise_pnc_id(text) == expected


def test_display_year_pivot_uses_current_year() -> None:
    serial = 1234
    this = f"{THIS_YY:02d}/{serial:07d}{pnc_check_letter(THIS_YY, serial)}"
    assert normalise_pnc_id(this).startswith(f"20{THIS_YY:02d}/")
    if THIS_YY < 99:
        nxt = THIS_YY + 1
        later = f"{nxt:02d}/{serial:07d}{pnc_check_letter(nxt, serial)}"
        assert normalise_pnc_id(later).startswith(f"19{nxt:02d}/")


def test_pnc_display() -> None:
    assert pnc_display("2001/0171310W") == "01/0171310W"
    assert pnc_display("1981/154257c") == "81/0154257C"
    assert pnc_display("01/0171310W") == "01/0171310W"


def test_display_form_wrong_letter_suggests_long_form() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        pnc_display("11/0275516A")
    assert info.value.suggestion == "2011/0275516Q"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2001/0171310",
        "2001/01713100W",
        "2001-0171310W",
        "201/0171310W",
        "2001/0171310WW",
        "20010171310W",
        "1850/0000001A",
        "2001/0000000Z",
        "2001/ 0171310W",
    ],
)
def test_normalise_pnc_id_rejects_bad_structure(text: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalise_pnc_id(text)
    assert info.value.suggestion is None
    assert info.value.value == text


def test_exactly_one_check_letter_is_valid() -> None:
    valid = [c for c in ALPHABET if is_valid("pnc_id", f"2011/0275516{c}")]
    assert valid == ["Q"]


pnc_years = st.integers(1900, 2099)
pnc_serials = st.integers(1, 9_999_999)


@given(pnc_years, pnc_serials)
def test_make_pnc_round_trips(year: int, serial: int) -> None:
    pnc = make_pnc_id(year, serial)
    assert normalise_pnc_id(pnc) == pnc
    assert normalise_pnc_id(f" {year}/{serial}{pnc[-1].lower()} ") == pnc
    assert len(pnc) == 13


@given(
    st.one_of(st.integers(2000, 2000 + THIS_YY), st.integers(1900 + THIS_YY + 1, 1999)),
    pnc_serials,
)
def test_display_and_long_forms_round_trip(year: int, serial: int) -> None:
    long = make_pnc_id(year, serial)
    display = pnc_display(long)
    assert display == long[2:]
    assert normalise_pnc_id(display) == long
    assert pnc_display(display) == display


# ------------------------------------------------------------------------------------ CRO


def test_cro_check_letter_rule() -> None:
    assert cro_check_letter(99, 12345) == ALPHABET[int("99012345") % 23]
    assert cro_check_letter(5, 1) == ALPHABET[int("05000001") % 23]


def test_make_cro_both_forms_share_the_letter() -> None:
    plain = make_cro(12345, 99)
    sf = make_cro(12345, 99, sf=True)
    letter = ALPHABET[int("99012345") % 23]
    assert plain == f"012345/99{letter}"
    assert sf == f"SF99/012345{letter}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" 12345/99n ", "012345/99N"),
        ("012345/99N", "012345/99N"),
        ("sf99/12345n", "SF99/012345N"),
    ],
)
def test_normalise_cro(text: str, expected: str) -> None:
    assert normalise_cro(text) == expected


def test_normalise_cro_wrong_letter_suggests() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalise_cro("12345/99A")
    assert info.value.suggestion == "012345/99N"
    with pytest.raises(InvalidIdentifier) as info:
        normalise_cro("SF99/12345A")
    assert info.value.suggestion == "SF99/012345N"


@pytest.mark.parametrize(
    "text",
    ["1234567/99N", "12345/9N", "12345/99", "XX99/012345N", "SF999/012345N", "000000/99Z", ""],
)
def test_normalise_cro_rejects_bad_structure(text: str) -> None:
    with pytest.raises(InvalidIdentifier):
        normalise_cro(text)


@pytest.mark.parametrize(("serial", "yy"), [(0, 1), (1_000_000, 1), (1, 100), (1, -1)])
def test_make_cro_rejects_bad_arguments(serial: int, yy: int) -> None:
    with pytest.raises(InvalidIdentifier):
        make_cro(serial, yy)


@given(st.integers(1, 999_999), st.integers(0, 99), st.booleans())
def test_make_cro_round_trips(serial: int, yy: int, sf: bool) -> None:
    cro = make_cro(serial, yy, sf=sf)
    assert normalise_cro(cro) == cro
    assert normalise_cro(cro.lower()) == cro


# ------------------------------------------------------------------------------ driver number


def test_make_driver_number_female() -> None:
    number = make_driver_number("Morgan", "Sarah Meredith", date(1965, 7, 1), "F")
    assert number == "MORGA657015SM9AA"


def test_make_driver_number_mac_short_surname_one_forename() -> None:
    number = make_driver_number("MacDonald", "ian", date(1975, 12, 31), "m", check="7x")
    assert number == "MCDON712315I997X"
    assert make_driver_number("Ng", "", date(2003, 2, 9), "male") == "NG999002093999AA"


def test_make_driver_number_strips_non_letters_and_accents() -> None:
    number = make_driver_number("O'Brien-Ó", "Seán  Óg", date(1990, 1, 2), "Female", arbitrary=3)
    assert number == "OBRIE951020SO3AA"


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"surname": "123"}, "surname has no letters"),
        ({"sex": "X"}, "sex must be M or F"),
        ({"arbitrary": 10}, "arbitrary digit"),
        ({"check": "A"}, "check must be"),
        ({"check": "A-"}, "check must be"),
    ],
)
def test_make_driver_number_rejects(kwargs: dict[str, object], reason: str) -> None:
    args: dict[str, object] = {
        "surname": "Smith",
        "forenames": "John",
        "dob": date(1980, 1, 1),
        "sex": "M",
        **kwargs,
    }
    with pytest.raises(InvalidIdentifier, match=reason):
        make_driver_number(**args)  # type: ignore[arg-type]


def test_decode_driver_number() -> None:
    info = decode_driver_number("morga 657015 sm9aa")
    assert info == DriverNumberInfo(
        surname5="MORGA",
        sex="F",
        birth_month=7,
        birth_day=1,
        decade_digit=6,
        year_digit=5,
        initials="SM",
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.sex = "M"  # type: ignore[misc]


def test_normalise_driver_number() -> None:
    assert normalise_driver_number(" MORGA 657015 SM9AA ") == "MORGA657015SM9AA"
    assert normalise_driver_number("ng999002093999aa") == "NG999002093999AA"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("MORGA657015SM9A", "16 characters"),
        ("MORGA657015SM9AAA", "16 characters"),
        ("MO9GA657015SM9AA", "surname"),
        ("9ORGA657015SM9AA", "surname"),
        ("MORGA6X7015SM9AA", "date of birth"),
        ("MORGA657015S1AA", "16 characters"),
        ("MORGA6570159M9AA", "initials"),
        ("MORGA657015SMXAA", "character 14"),
        ("MORGA657015SM9A-", "15-16"),
        ("MORGA613015SM9AA", "month 13"),
        ("MORGA600015SM9AA", "month 00"),
        ("MORGA650015SM9AA", "month 50"),
        ("MORGA663015SM9AA", "month 63"),
        ("MORGA601005SM9AA", "day 00"),
        ("MORGA601325SM9AA", "day 32"),
        ("MORGA602305SM9AA", "day 30"),
        ("MORGA654315SM9AA", "day 31"),
    ],
)
def test_driver_number_rejects(text: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=reason):
        normalise_driver_number(text)
    assert not is_valid("driver_number", text)


def test_driver_number_allows_29_february() -> None:
    assert decode_driver_number("SMITH802296J99AA").birth_day == 29


def test_driver_number_matches() -> None:
    number = "MORGA657015SM9AA"
    assert driver_number_matches(number, "morgan", date(1965, 7, 1), "F")
    assert not driver_number_matches(number, "morgan", date(1965, 7, 1), "M")
    assert not driver_number_matches(number, "morgan", date(1975, 7, 1), "F")
    assert not driver_number_matches(number, "morgan", date(1965, 7, 2), "F")
    assert not driver_number_matches(number, "morgen", date(1965, 7, 1), "F")
    with pytest.raises(InvalidIdentifier):
        driver_number_matches("MORGA", "morgan", date(1965, 7, 1), "F")


name = st.text(alphabet=string.ascii_letters + " '-", min_size=1, max_size=30).filter(
    lambda s: any(c.isalpha() for c in s)
)


@given(
    name,
    st.text(alphabet=string.ascii_letters + " ", max_size=30),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    st.sampled_from(["M", "F"]),
    st.integers(0, 9),
    _letters(string.ascii_uppercase + string.digits, 2),
)
def test_driver_number_round_trips(
    surname: str, forenames: str, dob: date, sex: str, arbitrary: int, check: str
) -> None:
    number = make_driver_number(surname, forenames, dob, sex, arbitrary=arbitrary, check=check)
    assert len(number) == 16
    assert normalise_driver_number(number) == number
    info = decode_driver_number(number)
    assert (info.birth_month, info.birth_day) == (dob.month, dob.day)
    assert info.decade_digit == dob.year // 10 % 10
    assert info.year_digit == dob.year % 10
    assert info.sex == sex
    assert info.surname5.rstrip("9").isalpha()
    assert driver_number_matches(number, surname, dob, sex)


# ------------------------------------------------------------------------------------ VRM


@pytest.mark.parametrize(
    ("text", "vrm", "display", "fmt", "year_from"),
    [
        ("ab12cde", "AB12CDE", "AB12 CDE", "current", date(2012, 3, 1)),
        ("AB62 CDE", "AB62CDE", "AB62 CDE", "current", date(2012, 9, 1)),
        ("LA51ABZ", "LA51ABZ", "LA51 ABZ", "current", date(2001, 9, 1)),
        ("YX02 AAA", "YX02AAA", "YX02 AAA", "current", date(2002, 3, 1)),
        ("a123bcd", "A123BCD", "A123 BCD", "prefix", date(1983, 8, 1)),
        ("S1 ABC", "S1ABC", "S1 ABC", "prefix", date(1998, 8, 1)),
        ("T99 ABC", "T99ABC", "T99 ABC", "prefix", date(1999, 3, 1)),
        ("Y999ABC", "Y999ABC", "Y999 ABC", "prefix", date(2001, 3, 1)),
        ("abc 123d", "ABC123D", "ABC 123D", "suffix", date(1966, 1, 1)),
        ("ABC1A", "ABC1A", "ABC 1A", "suffix", date(1963, 1, 1)),
        ("ABC 1F", "ABC1F", "ABC 1F", "suffix", date(1967, 8, 1)),
        ("ABC 1Y", "ABC1Y", "ABC 1Y", "suffix", date(1982, 8, 1)),
        ("abc123", "ABC123", "ABC 123", "dateless", None),
        ("1 A", "1A", "1 A", "dateless", None),
        ("9999ABC", "9999ABC", "9999 ABC", "dateless", None),
        ("ABZ 1234", "ABZ1234", "ABZ 1234", "northern_ireland", None),
        ("liz 123", "LIZ123", "LIZ 123", "northern_ireland", None),
        ("1234 IA", "1234IA", "1234 IA", "northern_ireland", None),
    ],
)
def test_classify_vrm(text: str, vrm: str, display: str, fmt: str, year_from: date | None) -> None:
    assert classify_vrm(text) == VrmInfo(vrm, display, fmt, year_from)  # type: ignore[arg-type]
    assert normalise_vrm(text) == vrm
    assert display_vrm(text) == display
    assert display_vrm(display) == display


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "not a UK registration"),
        ("AB12CDEF", "not a UK registration"),
        ("AB-12CDE", "not a UK registration"),
        ("ABCD123", "not a UK registration"),
        ("12345AB", "not a UK registration"),
        ("AB01CDE", "age identifier 01"),
        ("AB00CDE", "age identifier 00"),
        ("IB12CDE", "area letter"),
        ("QB12CDE", "area letter"),
        ("ZB12CDE", "area letter"),
        ("TA12CDE", "area letter"),
        ("AI12CDE", "memory tags"),
        ("AQ12CDE", "memory tags"),
        ("AZ12CDE", "memory tags"),
        ("AB12CIE", "last three"),
        ("AB12CDQ", "last three"),
        ("I123ABC", "prefix year letter"),
        ("O123ABC", "prefix year letter"),
        ("Q123ABC", "prefix year letter"),
        ("U123ABC", "prefix year letter"),
        ("Z123ABC", "prefix year letter"),
        ("A012BCD", "start with 0"),
        ("A123BID", "I and Q"),
        ("ABC123I", "suffix year letter"),
        ("ABC123Z", "suffix year letter"),
        ("ABQ123A", "I and Q"),
        ("ABC0", "start with 0"),
        ("0ABC", "start with 0"),
        ("QA 123", "Q is not used"),
    ],
)
def test_classify_vrm_rejects(text: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=reason):
        classify_vrm(text)
    assert not is_valid("vrm", text)


def test_make_current_vrm() -> None:
    assert make_current_vrm("ab", 2012, 1, "cde") == "AB12 CDE"
    assert make_current_vrm("AB", 2012, 2, "CDE") == "AB62 CDE"
    assert make_current_vrm("LA", 2001, 2, "XYZ") == "LA51 XYZ"
    assert make_current_vrm("LA", 2050, 1, "XYZ") == "LA50 XYZ"


@pytest.mark.parametrize(
    ("area", "year", "half", "serial"),
    [
        ("AB", 2001, 1, "CDE"),  # would be 01
        ("AB", 2050, 2, "CDE"),  # would be 100
        ("AB", 2000, 2, "CDE"),
        ("AB", 2012, 3, "CDE"),
        ("IB", 2012, 1, "CDE"),
        ("AB", 2012, 1, "CQE"),
        ("A", 2012, 1, "BCDE"),
        ("ABC", 2012, 1, "DE"),
    ],
)
def test_make_current_vrm_rejects(area: str, year: int, half: int, serial: str) -> None:
    with pytest.raises(InvalidIdentifier):
        make_current_vrm(area, year, half, serial)


@given(
    _letters(CURRENT_VRM_AREA_LETTERS),
    _letters("ABCDEFGHJKLMNOPRSTUVWXY"),
    st.integers(2001, 2050),
    st.sampled_from([1, 2]),
    _letters("ABCDEFGHJKLMNOPRSTUVWXYZ", 3),
)
def test_make_current_vrm_round_trips(
    area1: str, area2: str, year: int, half: int, serial: str
) -> None:
    if (year, half) in {(2001, 1), (2050, 2)}:
        return
    display = make_current_vrm(area1 + area2, year, half, serial)
    info = classify_vrm(display.lower())
    assert info.display == display
    assert info.vrm == display.replace(" ", "")
    assert info.format == "current"
    assert info.year_from == date(year, 3 if half == 1 else 9, 1)


# ------------------------------------------------------------------------------------ NINO


@pytest.mark.parametrize(
    "text", ["AB123456C", "ab 12 34 56 c", " AB123456 D ", "ZY000000A", "CE999999B"]
)
def test_normalise_nino(text: str) -> None:
    n = "".join(text.split()).upper()
    assert normalise_nino(text) == n
    assert format_nino(text) == f"{n[:2]} {n[2:4]} {n[4:6]} {n[6:8]} {n[8]}"


def test_format_nino() -> None:
    assert format_nino("ab123456c") == "AB 12 34 56 C"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("AB12345C", "two letters, six digits"),
        ("AB1234567C", "two letters, six digits"),
        ("A1123456C", "two letters, six digits"),
        *[(f"{c}A123456C", f"first letter cannot be {c}") for c in "DFIQUV"],
        *[(f"A{c}123456C", f"second letter cannot be {c}") for c in "DFIOQUV"],
        *[(f"{p}123456C", f"prefix {p}") for p in ["BG", "GB", "KN", "NK", "NT", "TN", "ZZ"]],
        ("AB123456E", "suffix must be A, B, C or D"),
        ("AB123456Z", "suffix must be A, B, C or D"),
    ],
)
def test_normalise_nino_rejects(text: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=reason):
        normalise_nino(text)
    assert not is_valid("nino", text)


@given(
    _letters("ABCEGHJKLMNOPRSTWXYZ"),
    _letters("ABCEGHJKLMNPRSTWXYZ"),
    st.integers(0, 999_999),
    _letters("ABCD"),
)
def test_nino_round_trips(first: str, second: str, digits: int, suffix: str) -> None:
    nino = f"{first}{second}{digits:06d}{suffix}"
    if nino[:2] in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}:
        assert not is_valid("nino", nino)
        return
    assert normalise_nino(nino.lower()) == nino
    assert normalise_nino(format_nino(nino)) == nino


# ------------------------------------------------------------------------------------ postcode


@pytest.mark.parametrize(
    ("text", "canonical", "area", "district", "sector"),
    [
        ("m11ae", "M1 1AE", "M", "M1", "M1 1"),
        ("B33 8TH", "B33 8TH", "B", "B33", "B33 8"),
        ("cr2 6xh", "CR2 6XH", "CR", "CR2", "CR2 6"),
        ("DN551PT", "DN55 1PT", "DN", "DN55", "DN55 1"),
        ("W1A 0AX", "W1A 0AX", "W", "W1A", "W1A 0"),
        (" ec1a 1bb ", "EC1A 1BB", "EC", "EC1A", "EC1A 1"),
        ("gir0aa", "GIR 0AA", "GIR", "GIR", "GIR 0"),
    ],
)
def test_postcode(text: str, canonical: str, area: str, district: str, sector: str) -> None:
    assert normalise_postcode(text) == canonical
    assert postcode_area(text) == area
    assert postcode_district(text) == district
    assert postcode_sector(text) == sector


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "outward code"),
        ("1AA", "outward code"),
        ("M1", "outward code"),
        ("ABC1 1AA", "outward code"),
        ("M123 1AA", "outward code"),
        ("1M1 1AA", "outward code"),
        ("M1 AAA", "inward code must be"),
        ("M1 11A", "inward code must be"),
        ("M1 1A1", "inward code must be"),
        ("Q1 1AA", "Q cannot start"),
        ("V1 1AA", "V cannot start"),
        ("X1 1AA", "X cannot start"),
        ("AI1 1AA", "I cannot be the second"),
        ("AJ1 1AA", "J cannot be the second"),
        ("AZ1 1AA", "Z cannot be the second"),
        ("W1I 1AA", "I cannot end an A9A"),
        ("W1L 1AA", "L cannot end an A9A"),
        ("EC1C 1AA", "C cannot end an AA9A"),
        ("EC1S 1AA", "S cannot end an AA9A"),
        *[(f"M1 1A{c}", "inward code letters") for c in "CIKMOV"],
        *[(f"M1 1{c}A", "inward code letters") for c in "CIKMOV"],
        ("GIR 0AB", "outward code"),
    ],
)
def test_postcode_rejects(text: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=reason):
        normalise_postcode(text)
    with pytest.raises(InvalidIdentifier):
        postcode_sector(text)
    assert not is_valid("postcode", text)


_FIRST = "ABCDEFGHIJKLMNOPRSTUWYZ"
_SECOND = "ABCDEFGHKLMNOPQRSTUVWXY"
_DIGIT = "0123456789"
_OUTWARD_PARTS = {
    "A9": (_FIRST, _DIGIT),
    "A99": (_FIRST, _DIGIT, _DIGIT),
    "AA9": (_FIRST, _SECOND, _DIGIT),
    "AA99": (_FIRST, _SECOND, _DIGIT, _DIGIT),
    "A9A": (_FIRST, _DIGIT, "ABCDEFGHJKPSTUW"),
    "AA9A": (_FIRST, _SECOND, _DIGIT, "ABEHMNPRVWXY"),
}


@st.composite
def postcodes(draw: st.DrawFn) -> str:
    parts = draw(st.sampled_from(sorted(_OUTWARD_PARTS.values())))
    outward = "".join(draw(st.sampled_from(p)) for p in parts)
    inward = draw(st.sampled_from(_DIGIT)) + draw(_letters("ABDEFGHJLNPQRSTUWXYZ", 2))
    return f"{outward} {inward}"


@given(postcodes(), st.booleans(), st.booleans())
def test_valid_postcodes_normalise_idempotently(pc: str, lower: bool, squash: bool) -> None:
    text = pc.lower() if lower else pc
    text = text.replace(" ", "") if squash else text
    assert normalise_postcode(text) == pc
    assert normalise_postcode(normalise_postcode(text)) == pc
    outward, inward = pc.split()
    assert postcode_district(text) == outward
    assert postcode_sector(text) == f"{outward} {inward[0]}"
    leading_letters = outward[:2] if outward[1].isalpha() else outward[0]
    assert postcode_area(text) == leading_letters


# ------------------------------------------------------------------------------------ passport


@pytest.mark.parametrize(
    ("text", "expected"), [("123456", "123456"), (" ab 123 456c ", "AB123456C")]
)
def test_normalise_passport(text: str, expected: str) -> None:
    assert normalise_passport(text) == expected


@pytest.mark.parametrize("text", ["12345", "1234567890", "12345-6", "", "ÄB12345"])
def test_normalise_passport_rejects(text: str) -> None:
    with pytest.raises(InvalidIdentifier):
        normalise_passport(text)


# ------------------------------------------------------------------------------------ is_valid


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        ("pnc_id", "2001/0171310W", "2001/0171310X"),
        ("cro", "012345/99N", "012345/99A"),
        ("driver_number", "MORGA657015SM9AA", "MORGA613015SM9AA"),
        ("vrm", "AB12 CDE", "AB01 CDE"),
        ("nino", "AB123456C", "AB123456E"),
        ("postcode", "SW1A 1AA", "SW1A 1AC"),
        ("passport", "123456789", "12345"),
    ],
)
def test_is_valid(kind: str, good: str, bad: str) -> None:
    assert is_valid(kind, good) is True
    assert is_valid(kind, bad) is False
    assert kind in ids.IDENTIFIER_KINDS


def test_is_valid_unknown_kind() -> None:
    with pytest.raises(LedsError, match="unknown identifier kind"):
        is_valid("ssn", "123")
