"""Per-source noise: how each source system's copy of a person differs from the truth.

Every source applies its own :class:`NoiseProfile` independently to every record it writes
(rates are per record; a name typo hits one of surname/forenames). ``NOISE`` holds the
documented rates. Kinds of noise:

* typo: keyboard-neighbour substitution, transposition, deletion or doubled letter;
* nickname: a familiar form of the first forename (``NICKNAMES``), when one exists;
* transliteration: another spelling of the same name (``TRANSLITERATIONS``), when one exists;
* swap: forenames written as surname and surname as forenames;
* DOB day/month swap (only when the swap is a valid date), partial DOB (day or day and
  month unknown), missing DOB;
* stale address: an older address given as the current one;
* diacritics folded (``Wójcik`` -> ``Wojcik``);
* duplicate: the same true person written twice under different record ids, each copy with
  independent noise;
* ethnicity recorded: whether the self-defined ethnicity is on the record at all.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from leds.model.entities import Person
from leds.synth.catalogue import MARKER_DETAILS
from leds.synth.names import ascii_fold


@dataclass(frozen=True)
class NoiseProfile:
    typo: float
    nickname: float
    transliteration: float  # applied only to names that have variants
    swap: float
    dob_swap: float
    dob_partial: float
    dob_missing: float
    stale_address: float
    fold_diacritics: float
    duplicate: float
    ethnicity_recorded: float


NOISE: dict[str, NoiseProfile] = {
    "pnc": NoiseProfile(
        typo=0.02,
        nickname=0.03,
        transliteration=0.3,
        swap=0.01,
        dob_swap=0.01,
        dob_partial=0.01,
        dob_missing=0.0,
        stale_address=0.1,
        fold_diacritics=0.5,
        duplicate=0.01,
        ethnicity_recorded=0.7,
    ),
    "pnd": NoiseProfile(
        typo=0.05,
        nickname=0.08,
        transliteration=0.4,
        swap=0.02,
        dob_swap=0.02,
        dob_partial=0.03,
        dob_missing=0.02,
        stale_address=0.15,
        fold_diacritics=0.5,
        duplicate=0.03,
        ethnicity_recorded=0.5,
    ),
    "dvla": NoiseProfile(
        typo=0.01,
        nickname=0.005,
        transliteration=0.1,
        swap=0.002,
        dob_swap=0.003,
        dob_partial=0.0,
        dob_missing=0.0,
        stale_address=0.05,
        fold_diacritics=1.0,
        duplicate=0.004,
        ethnicity_recorded=0.0,
    ),
    "iabs": NoiseProfile(
        typo=0.02,
        nickname=0.0,
        transliteration=0.15,
        swap=0.02,
        dob_swap=0.01,
        dob_partial=0.02,
        dob_missing=0.0,
        stale_address=0.0,
        fold_diacritics=1.0,
        duplicate=0.02,
        ethnicity_recorded=0.0,
    ),
}

NICKNAMES: dict[str, tuple[str, ...]] = {
    "William": ("Bill", "Will", "Billy"),
    "Robert": ("Bob", "Rob", "Bobby"),
    "Richard": ("Rick", "Rich", "Dick"),
    "James": ("Jim", "Jimmy", "Jamie"),
    "John": ("Jack", "Johnny"),
    "Michael": ("Mike", "Mick", "Micky"),
    "Elizabeth": ("Liz", "Beth", "Lizzie"),
    "Margaret": ("Maggie", "Peggy"),
    "Katherine": ("Kate", "Kathy"),
    "Catherine": ("Cath", "Kate", "Cathy"),
    "Christopher": ("Chris",),
    "Anthony": ("Tony", "Ant"),
    "Thomas": ("Tom", "Tommy"),
    "Joseph": ("Joe", "Joey"),
    "Daniel": ("Dan", "Danny"),
    "David": ("Dave", "Davey"),
    "Stephen": ("Steve",),
    "Steven": ("Steve",),
    "Andrew": ("Andy", "Drew"),
    "Alexander": ("Alex", "Sandy"),
    "Edward": ("Ed", "Ted", "Eddie"),
    "Jennifer": ("Jen", "Jenny"),
    "Rebecca": ("Becky", "Becca"),
    "Samantha": ("Sam",),
    "Samuel": ("Sam", "Sammy"),
    "Matthew": ("Matt",),
    "Benjamin": ("Ben",),
    "Nicholas": ("Nick", "Nicky"),
    "Patrick": ("Pat", "Paddy"),
    "Peter": ("Pete",),
    "Charles": ("Charlie", "Chas"),
    "Timothy": ("Tim",),
    "Susan": ("Sue", "Susie"),
    "Deborah": ("Debbie", "Deb"),
    "Victoria": ("Vicky", "Tori"),
    "Jonathan": ("Jon", "Jonny"),
    "Frederick": ("Fred", "Freddie"),
    "Henry": ("Harry", "Hal"),
    "Kenneth": ("Ken", "Kenny"),
    "Ronald": ("Ron", "Ronnie"),
    "Donald": ("Don",),
    "Lawrence": ("Larry", "Laurie"),
    "Philip": ("Phil",),
    "Raymond": ("Ray",),
    "Terence": ("Terry",),
    "Gary": ("Gaz",),
    "Jacqueline": ("Jackie",),
    "Kimberley": ("Kim",),
    "Natalie": ("Nat",),
    "Abigail": ("Abbie", "Abby"),
    "Nathan": ("Nate",),
    "Zachary": ("Zach",),
    "Aleksander": ("Olek",),
    "Katarzyna": ("Kasia",),
    "Tomasz": ("Tomek",),
    "Oluwaseun": ("Seun",),
    "Oluwatobi": ("Tobi",),
    "Mohammed": ("Mo",),
    "Muhammad": ("Mo",),
    "Abdullah": ("Abdul",),
    "Giuseppe": ("Beppe",),
    "Francesco": ("Franco",),
    "Alessandro": ("Sandro",),
    "Mariusz": ("Mario",),
    "Krzysztof": ("Chris",),
}
_TRANSLIT_GROUPS: tuple[tuple[str, ...], ...] = (
    ("Mohammed", "Muhammad", "Mohamed", "Mohammad", "Mohamad", "Muhammed", "Mohammod"),
    ("Ahmed", "Ahmad", "Ahmet"),
    ("Yusuf", "Yousef", "Yousaf", "Youssef", "Yusef"),
    ("Abdul", "Abdool", "Abdel"),
    ("Aleksander", "Alexander", "Aleksandr"),
    ("Hussain", "Hussein", "Husain", "Hossain"),
    ("Rahman", "Rehman"),
    ("Chaudhry", "Chaudhary", "Choudhury", "Chowdhury"),
    ("Mustafa", "Mostafa", "Moustafa"),
    ("Osman", "Usman", "Othman"),
    ("Fatima", "Fatema", "Fatimah"),
    ("Aisha", "Ayesha", "Aysha"),
    ("Ibrahim", "Ebrahim"),
    ("Khalid", "Khaled"),
    ("Hassan", "Hasan"),
    ("Omar", "Umar"),
    ("Zhang", "Cheung", "Chang"),
    ("Chen", "Chan"),
    ("Wang", "Wong"),
    ("Li", "Lee"),
    ("Huang", "Wong"),
    ("Sergei", "Sergey"),
    ("Dmitri", "Dmitry"),
    ("Yasmin", "Yasmeen", "Jasmine"),
    ("Mahmood", "Mahmud", "Mehmood"),
    ("Iqbal", "Ikbal"),
    ("Shah", "Shaw"),
    ("Akhtar", "Akhter", "Akter"),
    ("Islam", "Eslam"),
    ("Uddin", "Udin", "Ud-Din"),
    ("Begum", "Begam"),
    ("Oluwaseun", "Oluseun"),
    ("Adebayo", "Adebayor"),
    ("Katarzyna", "Catherine"),
    ("Mateusz", "Matthew"),
    ("Piotr", "Peter"),
    ("Pawel", "Paul"),
    ("Jakub", "Jacob"),
)
TRANSLITERATIONS: dict[str, tuple[str, ...]] = {}
for _group in _TRANSLIT_GROUPS:
    for _name in _group:
        TRANSLITERATIONS[_name] = tuple(v for v in _group if v != _name)

_KEYBOARD = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS: dict[str, str] = {}
for _row_i, _row in enumerate(_KEYBOARD):
    for _i, _c in enumerate(_row):
        _near = _row[max(0, _i - 1) : _i] + _row[_i + 1 : _i + 2]
        _NEIGHBOURS[_c] = _near


def typo(rnd: random.Random, text: str) -> str:
    """One keyboard slip: neighbour substitution, transposition, deletion or doubling."""
    if len(text) < 3:
        return text
    i = rnd.randrange(1, len(text) - 1)
    kind = rnd.randrange(4)
    c = text[i]
    if kind == 0 and c.lower() in _NEIGHBOURS:
        sub = rnd.choice(_NEIGHBOURS[c.lower()])
        return text[:i] + (sub.upper() if c.isupper() else sub) + text[i + 1 :]
    if kind == 1 and text[i + 1 : i + 2].isalpha():
        return text[:i] + text[i + 1] + c + text[i + 2 :]
    if kind == 2:
        return text[:i] + text[i + 1 :]
    return text[:i] + c + text[i:]


def _variant(rnd: random.Random, name: str, rate: float, table: dict[str, tuple[str, ...]]) -> str:
    options = table.get(name)
    return rnd.choice(options) if options and rnd.random() < rate else name


def noisy_name(
    rnd: random.Random, prof: NoiseProfile, surname: str, forenames: str, counter: dict[str, int]
) -> tuple[str, str]:
    """(surname, forenames) as this source writes them; ``counter`` counts noise applied."""
    parts = forenames.split()
    first = _variant(rnd, parts[0], prof.transliteration, TRANSLITERATIONS)
    if first != parts[0]:
        counter["transliteration"] = counter.get("transliteration", 0) + 1
    elif rnd.random() < prof.nickname and parts[0] in NICKNAMES:
        first = rnd.choice(NICKNAMES[parts[0]])
        counter["nickname"] = counter.get("nickname", 0) + 1
    parts[0] = first
    new_surname = _variant(rnd, surname, prof.transliteration, TRANSLITERATIONS)
    if new_surname != surname:
        counter["transliteration"] = counter.get("transliteration", 0) + 1
    surname = new_surname
    if rnd.random() < prof.typo:
        counter["typo"] = counter.get("typo", 0) + 1
        if rnd.random() < 0.5:
            surname = typo(rnd, surname)
        else:
            parts[0] = typo(rnd, parts[0])
    fore = " ".join(parts)
    if rnd.random() < prof.fold_diacritics:
        surname, fore = ascii_fold(surname), ascii_fold(fore)
    if rnd.random() < prof.swap:
        counter["swap"] = counter.get("swap", 0) + 1
        surname, fore = parts[0], surname + (" " + " ".join(parts[1:]) if parts[1:] else "")
    return surname, fore


def noisy_dob(
    rnd: random.Random, prof: NoiseProfile, dob: date, counter: dict[str, int]
) -> tuple[int, int | None, int | None] | None:
    """(year, month or None, day or None), or None when the source has no DOB."""
    r = rnd.random()
    if r < prof.dob_missing:
        counter["dob_missing"] = counter.get("dob_missing", 0) + 1
        return None
    r -= prof.dob_missing
    if r < prof.dob_partial:
        counter["dob_partial"] = counter.get("dob_partial", 0) + 1
        return (dob.year, dob.month if rnd.random() < 0.6 else None, None)
    r -= prof.dob_partial
    if r < prof.dob_swap and dob.day <= 12 and dob.day != dob.month:
        counter["dob_swap"] = counter.get("dob_swap", 0) + 1
        return (dob.year, dob.day, dob.month)
    return (dob.year, dob.month, dob.day)


def stale_address_index(
    rnd: random.Random, prof: NoiseProfile, n_addresses: int, counter: dict[str, int]
) -> int:
    """Index of the address the source holds as current (the last, or a stale one)."""
    if n_addresses > 1 and rnd.random() < prof.stale_address:
        counter["stale_address"] = counter.get("stale_address", 0) + 1
        return rnd.randrange(n_addresses - 1)
    return n_addresses - 1


def alias_name(rnd: random.Random, p: Person) -> tuple[str, str]:
    """An alias used on PNC: another surname, a nickname, or a name variant."""
    parts = p.forenames.split()
    r = rnd.random()
    if r < 0.35 and parts[0] in NICKNAMES:
        return p.surname, rnd.choice(NICKNAMES[parts[0]])
    if r < 0.6:
        return typo(rnd, p.surname), parts[0]
    if r < 0.8:
        return p.surname, (parts[1] if len(parts) > 1 else parts[0]) + (
            " " + parts[0] if len(parts) > 1 else ""
        )
    from leds.synth.names import name_tables

    t = name_tables()
    tab = t.surname.get(p.name_origin) or t.surname["GB"]
    return str(tab.names[rnd.randrange(min(200, len(tab.names)))]), parts[0]


def spoken_name(rnd: random.Random, p: Person) -> str:
    """How a person's name appears in free text (first forename and surname, maybe familiar)."""
    first = p.forenames.split()[0]
    if rnd.random() < 0.15 and first in NICKNAMES:
        first = rnd.choice(NICKNAMES[first])
    return f"{first} {p.surname}".upper() if rnd.random() < 0.5 else f"{first} {p.surname}"


def marker_detail(rnd: random.Random, marker_type: str) -> str:
    options = MARKER_DETAILS.get(marker_type)
    if not options:
        return ""
    return rnd.choice(options).replace("{town}", "the")


def impossible_date(rnd: random.Random, year: int) -> tuple[int, int, int]:
    """A (year, month, day) that is not a date (31 February, 31 April...)."""
    return rnd.choice(
        (
            (year, 2, 30),
            (year, 2, 31),
            (year, 4, 31),
            (year, 6, 31),
            (year, 9, 31),
            (year, 11, 31),
            (year, 13, 1),
        )
    )
