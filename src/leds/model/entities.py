"""POLE entities: Person, Object (vehicle, property, licence), Location (address), Event.

These are the ground-truth shapes the synthetic world is built from and the shapes the
consolidated views speak. Source systems hold their own, noisier copies (see ``sources``).
All dates are ``datetime.date``; codes come from :mod:`leds.model.codes`.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import date


@dataclass(slots=True)
class Address:
    line1: str
    town: str
    postcode: str  # canonical "AB1 2CD"
    from_date: date
    to_date: date | None = None  # None: current
    lat: float | None = None
    lon: float | None = None


@dataclass(slots=True)
class Alias:
    surname: str
    forenames: str
    dob: date | None = None


@dataclass(slots=True)
class Marker:
    marker_id: str
    marker_type: str  # codes.MARKER_TYPES
    start: date
    end: date | None = None
    detail: str = ""


@dataclass(slots=True)
class Disposal:
    disposal_id: str
    court: str
    date: date
    outcome: str  # e.g. "convicted", "acquitted", "dismissed", "caution"
    sentence: str = ""


@dataclass(slots=True)
class Charge:
    charge_id: str
    offence_code: str
    offence: str
    date: date
    disposal: Disposal | None = None


@dataclass(slots=True)
class Arrest:
    arrest_id: str
    date: date
    force: str
    reason: str
    charges: list[Charge] = field(default_factory=list)


@dataclass(slots=True)
class KeeperPeriod:
    person_id: str
    from_date: date
    to_date: date | None = None


@dataclass(slots=True)
class Vehicle:
    vehicle_id: str
    vrm: str
    vin: str
    make: str
    model: str
    colour: str
    first_registered: date
    keepers: list[KeeperPeriod] = field(default_factory=list)
    interest: str | None = None  # None | "stolen" | "suspect" | "not-over-air"


@dataclass(slots=True)
class Endorsement:
    code: str  # e.g. "SP30"
    offence_date: date
    points: int
    disqualified_until: date | None = None


@dataclass(slots=True)
class DriverLicence:
    driver_number: str
    issued: date
    entitlements: list[str]
    endorsements: list[Endorsement] = field(default_factory=list)


@dataclass(slots=True)
class PropertyItem:
    property_id: str
    category: str  # codes.PROPERTY_CATEGORIES
    make: str
    model: str
    serial: str
    status: str  # codes.PROPERTY_STATUSES
    reported: date
    description: str = ""
    event_id: str | None = None  # arrest or report it belongs to


@dataclass(slots=True)
class IntelReport:
    report_id: str
    date: date
    text: str
    source_grade: str  # 1-3
    assessment: str  # A-E
    handling: str  # P / C
    associates: list[str] = field(default_factory=list)  # true person ids mentioned
    vehicles: list[str] = field(default_factory=list)  # VRMs mentioned
    places: list[str] = field(default_factory=list)


@dataclass(slots=True)
class BiometricSample:
    sample_id: str
    modality: str  # "face" | "fingerprint"
    captured: date
    quality: int  # 0-100


@dataclass(slots=True)
class CustodyRecord:
    custody_id: str
    date: date
    station: str
    offence: str
    image: BiometricSample | None = None


@dataclass(slots=True)
class ImmigrationEncounter:
    encounter_id: str
    encounter_type: str  # visa / asylum / border
    date: date
    port: str
    passport_number: str
    passport_country: str
    home_office_ref: str
    outcome: str
    samples: list[BiometricSample] = field(default_factory=list)


@dataclass(slots=True)
class Person:
    """One true person of the synthetic world (ground truth)."""

    person_id: str  # "P" + zero-padded index: the ground-truth key
    surname: str
    forenames: str  # space separated, first forename first
    sex: str  # M / F
    dob: date
    nationality: str  # ISO 3166-1 alpha-3
    ethnicity: str  # codes.ETHNICITY_CODES (self-defined)
    name_origin: str  # the name table the name came from (e.g. "GB", "PK", "PL")
    phone: str
    addresses: list[Address] = field(default_factory=list)
    aliases: list[Alias] = field(default_factory=list)
    height_cm: int = 0
    build: str = ""
    marks: str = ""
    nino: str | None = None
    pnc_id: str | None = None
    cro: str | None = None
    licence: DriverLicence | None = None
    arrests: list[Arrest] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    property: list[PropertyItem] = field(default_factory=list)
    intel: list[IntelReport] = field(default_factory=list)
    custody: list[CustodyRecord] = field(default_factory=list)
    encounters: list[ImmigrationEncounter] = field(default_factory=list)
    vehicle_ids: list[str] = field(default_factory=list)

    @builtins.property  # the field 'property' (items) shadows the builtin here
    def current_address(self) -> Address | None:
        return self.addresses[-1] if self.addresses else None


@dataclass(slots=True)
class WorkforceMember:
    """An officer or member of staff: the demo's users and the ground for misuse detection."""

    user_id: str
    surname: str
    forenames: str
    role: str  # constable, investigator, analyst, facial-search-operator, ...
    organisation: str  # force or partner organisation code
    unit: str
    shift_pattern: str
    home: Address
    related_person_id: str | None = None  # a true person they are related to / live near
    relation: str | None = None  # "relative" | "neighbour" | "same-surname" | None
