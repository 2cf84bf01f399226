"""Code lists shared by every part of leds (purposes, sources, record kinds, ethnicity...)."""

from __future__ import annotations

from enum import StrEnum


class SourceSystem(StrEnum):
    """The source systems leds joins (all synthetic)."""

    PNC = "pnc"  # criminal records
    PND = "pnd"  # intelligence and custody
    DVLA = "dvla"  # driver and vehicle register
    IABS = "iabs"  # immigration biometrics
    GENERIC = "generic"  # any CSV/Parquet file with a mapping


class RecordKind(StrEnum):
    """What one stored source record is."""

    PERSON = "person"  # a nominal: one source's record of a person
    ALIAS = "alias"
    ADDRESS = "address"
    ARREST = "arrest"
    CHARGE = "charge"
    DISPOSAL = "disposal"
    MARKER = "marker"
    VEHICLE = "vehicle"
    KEEPER = "keeper"  # a keeper period of a vehicle
    LICENCE = "licence"  # driving licence
    ENDORSEMENT = "endorsement"
    PROPERTY = "property"
    INTEL = "intel"
    CUSTODY = "custody"
    ENCOUNTER = "encounter"  # immigration encounter
    BIOMETRIC = "biometric"  # biometric sample reference


class Purpose(StrEnum):
    """Lawful purpose codes (MISSION.md). There is no 'personal' purpose."""

    STOP = "stop"
    PROCESS_WARNING = "process-warning"
    ACCIDENT = "accident"
    ARREST = "arrest"
    UNATTENDED_VEHICLE = "unattended-vehicle"
    CRIME = "crime"
    ADMIN_PROCESS = "admin-process"
    ADMIN_LICENSING = "admin-licensing"
    CRIME_SUPPORT = "crime-support"
    INTELLIGENCE = "intelligence"
    SAFEGUARDING = "safeguarding"
    IMMIGRATION = "immigration"
    OVERSIGHT = "oversight"


# Purposes for which a case or incident reference is mandatory.
CASE_REQUIRED: frozenset[Purpose] = frozenset(
    {Purpose.CRIME, Purpose.ARREST, Purpose.INTELLIGENCE, Purpose.CRIME_SUPPORT}
)


class AuditKind(StrEnum):
    """The six kinds of processing DPA 2018 s.62 requires to be logged."""

    COLLECTION = "collection"
    ALTERATION = "alteration"
    CONSULTATION = "consultation"
    DISCLOSURE = "disclosure"
    COMBINATION = "combination"
    ERASURE = "erasure"


# Self-defined ethnicity as police record it (2021 census categories, "16+1" style codes).
ETHNICITY_CODES: dict[str, str] = {
    "A1": "Asian or Asian British - Indian",
    "A2": "Asian or Asian British - Pakistani",
    "A3": "Asian or Asian British - Bangladeshi",
    "A4": "Asian or Asian British - Chinese",
    "A9": "Asian or Asian British - any other Asian background",
    "B1": "Black or Black British - Caribbean",
    "B2": "Black or Black British - African",
    "B9": "Black or Black British - any other Black background",
    "M1": "Mixed - White and Black Caribbean",
    "M2": "Mixed - White and Black African",
    "M3": "Mixed - White and Asian",
    "M9": "Mixed - any other mixed background",
    "W1": "White - British",
    "W2": "White - Irish",
    "W3": "White - Gypsy or Irish Traveller",
    "W4": "White - Roma",
    "W9": "White - any other White background",
    "O1": "Other ethnic group - Arab",
    "O9": "Other ethnic group - any other ethnic group",
    "NS": "Not stated",
}

SEX_CODES: frozenset[str] = frozenset({"M", "F", "U"})

MARKER_TYPES: dict[str, str] = {
    "WANTED": "Wanted/missing - wanted",
    "MISSING": "Wanted/missing - missing person",
    "FTA": "Fails to appear",
    "ABSCONDER": "Absconder",
    "RECALL": "Recall to prison",
    "LOCATE": "Locate/trace",
    "WS-VIOLENT": "Warning signal - violent",
    "WS-FIREARMS": "Warning signal - firearms",
    "WS-WEAPONS": "Warning signal - weapons",
    "WS-DRUGS": "Warning signal - drugs",
    "WS-MENTAL": "Warning signal - mental health",
    "WS-SELFHARM": "Warning signal - self harm",
    "WS-ESCAPER": "Warning signal - escaper",
    "DISQ-DRIVER": "Disqualified driver",
    "BAIL": "Bail conditions",
    "COURT-ORDER": "Court order",
}

PROPERTY_CATEGORIES: tuple[str, ...] = (
    "phone",
    "bicycle",
    "tool",
    "firearm",
    "jewellery",
    "laptop",
    "watch",
    "camera",
)
PROPERTY_STATUSES: tuple[str, ...] = ("lost", "stolen", "found", "seized")

ENCOUNTER_TYPES: tuple[str, ...] = ("visa", "asylum", "border")

# 3x5x2 intelligence grading: source evaluation, intelligence assessment, handling code.
INTEL_SOURCE_GRADES: tuple[str, ...] = ("1", "2", "3")
INTEL_ASSESSMENTS: tuple[str, ...] = ("A", "B", "C", "D", "E")
INTEL_HANDLING: tuple[str, ...] = ("P", "C")  # P: lawful sharing permitted; C: conditions apply
