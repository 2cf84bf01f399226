"""Field minimisation: the classification table is complete, ``minimise`` withholds exactly the
classes not allowed and leaks nothing of them, ``allowed_classes`` follows the policy."""

from __future__ import annotations

import itertools
import json
import sys
from collections import defaultdict
from dataclasses import fields, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import policy_oracle as spec
import pytest

from leds.errors import LedsError, PurposeRequired
from leds.governance.identity import Actor, PurposeStatement, Role
from leds.governance.minimise import (
    DEFAULT_CLASS,
    FIELD_CLASSES,
    SENSITIVE_CLASSES,
    MinimisedRecord,
    Withheld,
    allowed_classes,
    classification,
    classify_payload_key,
    classify_person_column,
    minimise,
    parse_classification,
)
from leds.governance.policy import Action, request_for
from leds.model.codes import MARKER_TYPES, Purpose, SourceSystem
from leds.model.records import PersonFields, SourceRecord
from leds.sources import get_source
from leds.sources.dvla.parser import COLUMNS as DVLA_COLUMNS
from leds.store.base import StoredRecord
from leds.store.schema import PERSON_COLUMNS

# The extract writers of the parser tests (tests/sources has no package of its own).
_SOURCE_TESTS = Path(__file__).resolve().parent.parent / "sources"
if str(_SOURCE_TESTS) not in sys.path:
    sys.path.insert(0, str(_SOURCE_TESTS))
from source_fixtures import (  # noqa: E402
    CRO,
    DRIVER_F,
    NINO,
    PNC_DISPLAY_2,
    PNC_ID,
    VRM,
    Extracts,
    iabs_doc,
    nom,
    split,
)

LEAK = "ZZ-PLANTED-7731"  # planted in fields that must be withheld
SENSITIVE_JUSTIFICATION = "officer safety at the roadside"
FIXED_SOURCES = ("pnc", "pnd", "dvla", "iabs")

# ---- one small extract of every source and kind -------------------------------------------


def _pnc_lines(marker_type: str = "WS-VIOLENT", detail: str = "assault on officer") -> list[str]:
    return [
        nom(),
        f"ALI|{PNC_ID}|1|BRIAN|Mary|00031985",
        f"ADR|{PNC_ID}|1|12 High Street|Leeds|LS1 4AB|01022015|",
        f"ARR|{PNC_ID}|AR000000001|02012020|WY|theft",
        f"CHG|{PNC_ID}|AR000000001|CH000000001|TH68001|Theft from shop|03012020",
        f"DSP|{PNC_ID}|CH000000001|DS000000001|Leeds Magistrates|04022020|convicted|fine 200",
        f"MKR|{PNC_ID}|MK000000001|{marker_type}|05012020||{detail}",
        "VOI|AB12 CDE|VO000000001|stolen|06012020|taken from drive",
        f"PRP|PR000000002|{PNC_ID}|phone|Apple|iPhone|IMEI1|seized|08012020|black",
    ]


def _pnd_objects(text: str = "seen with associates") -> list[dict[str, Any]]:
    return [
        {
            "type": "nominal", "nominal_id": "PNDN000000123", "family_name": "KAHN",
            "given_names": ["Muhammad"], "date_of_birth": "1985-03-04", "gender": "Male",
            "pnc_id": PNC_DISPLAY_2, "self_defined_ethnicity": "A2", "phone": "07700 900123",
            "addresses": [{"text": "12 High Street, Leeds", "postcode": "LS1 4AB",
                           "from": "2015-02-01", "to": None}],
        },
        {
            "type": "intel", "report_id": "PNDI000000045", "created": "2021-06-01T14:03:00Z",
            "subjects": ["PNDN000000123"], "text": text,
            "grading": {"source": "2", "intelligence": "B", "handling": "P"},
            "vehicles": ["AB12CDE"], "places": ["Leeds"],
        },
        {
            "type": "custody", "custody_id": "PNDC000000077", "nominal_id": "PNDN000000123",
            "arrived": "2020-01-02T03:04:05Z", "station": "Leeds Elland Road",
            "offence": "Theft",
            "image": {"ref": "CI000000077", "captured": "2020-01-02", "quality": 71},
        },
    ]  # fmt: skip


def _write_dvla(extracts: Extracts, extra: dict[str, str] | None = None) -> None:
    extra = extra or {}
    driver = [
        DRIVER_F, "MORGAN", "SARAH JANE", "19850304", "12 HIGH STREET", "LEEDS", "LS1 4AB",
        "20030401", "B BE A", "SP30:20190101:3;IN10:20200202:6:20210202",
    ]  # fmt: skip
    extracts.csv(
        "dvla/drivers-00001.csv",
        [*DVLA_COLUMNS["drivers"], *extra],
        [[*driver, *extra.values()]],
    )
    extracts.csv(
        "dvla/vehicles-00001.csv",
        list(DVLA_COLUMNS["vehicles"]),
        [["ab12 cde", "VIN1", "FORD", "FIESTA", "RED", "20120901"]],
    )
    extracts.csv(
        "dvla/keepers-00001.csv",
        list(DVLA_COLUMNS["keepers"]),
        [["K1", VRM, DRIVER_F, "SARAH MORGAN", "LS1 4AB", "20120901", ""]],
    )


GENERIC_MAPPING = """
[source]
name = "local-warrants"
id_column = "REF"

[fields]
surname = "LAST"
dob = { column = "BIRTH", format = "%d/%m/%Y" }
pnc_id = "PNC"
"""


def _parse(source: str, path: Path, mapping: Path | None = None) -> list[SourceRecord]:
    records, rejections = split(list(get_source(source, mapping=mapping).parse(path)))
    assert rejections == []
    return records


def parse_all(root: Path) -> dict[str, list[SourceRecord]]:
    """Write and parse one record of every (source, kind) the parsers produce."""
    extracts = Extracts(root)
    out: dict[str, list[SourceRecord]] = {}
    out["pnc"] = _parse("pnc", extracts.pnc(_pnc_lines()))
    out["pnd"] = _parse("pnd", extracts.pnd(_pnd_objects()))
    _write_dvla(extracts)
    out["dvla"] = _parse("dvla", root / "dvla")
    out["iabs"] = _parse("iabs", extracts.iabs(iabs_doc(), templates=1))
    mapping = root / "warrants.toml"
    mapping.write_text(GENERIC_MAPPING, encoding="utf-8")
    csv_path = extracts.csv(
        "warrants.csv", ["REF", "LAST", "BIRTH", "PNC", "NOTE"],
        [["W1", "smith", "04/03/1985", PNC_ID, "failed to appear"]],
    )  # fmt: skip
    out["generic"] = _parse("csv", csv_path, mapping)
    return out


def stored(rec: SourceRecord, ident: int = 1) -> StoredRecord:
    """The record as the store returns it (person: the non-empty person columns)."""
    person: dict[str, Any] = {}
    if rec.person is not None:
        for column in PERSON_COLUMNS:
            value = getattr(rec.person, column)
            if value is not None:
                person[column] = value.isoformat() if isinstance(value, date) else value
    return StoredRecord(
        id=ident,
        source=rec.source.value,
        kind=rec.kind.value,
        source_record_id=rec.source_record_id,
        subject_id=rec.subject_id,
        payload=json.loads(json.dumps(rec.payload)),
        person=person,
        file=rec.provenance.file,
        line=rec.provenance.line,
        import_id=1,
        imported_at=datetime(2026, 11, 26, tzinfo=UTC),
        content_hash=rec.canonical()[1],
    )


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[SourceRecord]]:
    return parse_all(tmp_path_factory.mktemp("extracts"))


@pytest.fixture(scope="module")
def records(parsed: dict[str, list[SourceRecord]]) -> list[StoredRecord]:
    recs = [r for source in parsed.values() for r in source]
    return [stored(r, i) for i, r in enumerate(recs, 1)]


def _one(records: list[StoredRecord], source: str, kind: str) -> StoredRecord:
    (rec,) = [r for r in records if r.source == source and r.kind == kind]
    return rec


def _actor(role: str, org: str = "WYP") -> Actor:
    return Actor(f"u-{role}", role, org)


# ---- the classification table ---------------------------------------------------------------


def test_every_parsed_payload_key_is_classified(parsed: dict[str, list[SourceRecord]]) -> None:
    """Fails when a parser produces a payload key the table does not list (or the table lists
    a key no parser produces any more)."""
    produced: dict[tuple[str, str], set[str]] = defaultdict(set)
    for source in FIXED_SOURCES:
        for rec in parsed[source]:
            produced[(source, rec.kind.value)] |= set(rec.payload)
    table = classification()
    expected_kinds = {
        ("pnc", k) for k in ("person", "alias", "address", "arrest", "charge", "disposal",
                             "marker", "vehicle", "property")
    } | {("pnd", k) for k in ("person", "intel", "custody")} \
      | {("dvla", k) for k in ("person", "vehicle", "keeper")} \
      | {("iabs", k) for k in ("person", "encounter", "biometric")}  # fmt: skip
    assert set(produced) == expected_kinds
    for key, keys in sorted(produced.items()):
        unclassified = keys - table.listed(*key)
        assert not unclassified, f"{key}: payload keys nobody classified: {sorted(unclassified)}"
        stale = table.listed(*key) - keys
        assert not stale, f"{key}: classified keys no parser produces: {sorted(stale)}"
    fixed_in_table = {k for k in table.payload if k[0] in FIXED_SOURCES}
    assert fixed_in_table == expected_kinds


def test_generic_source_label_is_classified_and_columns_default(
    parsed: dict[str, list[SourceRecord]],
) -> None:
    (rec,) = parsed["generic"]
    assert classification().listed("generic", "person") == {"_source_name"}
    assert classify_payload_key("generic", "person", "_source_name") == "identity"
    for column in ("REF", "LAST", "BIRTH", "PNC", "NOTE"):
        assert column in rec.payload
        assert classify_payload_key("generic", "person", column) == DEFAULT_CLASS


def test_every_person_column_is_classified(parsed: dict[str, list[SourceRecord]]) -> None:
    table = classification()
    assert set(table.person) == set(PERSON_COLUMNS)
    assert {f.name for f in fields(PersonFields)} == set(PERSON_COLUMNS)
    for source in parsed.values():
        for rec in source:
            if rec.person is not None:
                assert set(stored(rec).person) <= set(table.person)
    assert classify_person_column("immigration_ref") == "immigration_status"
    assert classify_person_column("postcode") == "contact"
    assert classify_person_column("surname") == "identity"


def test_every_class_in_the_table_is_a_field_class() -> None:
    table = classification()
    used = set(table.person.values()) | {table.default}
    for keys in table.payload.values():
        used |= {v for v in keys.values() if isinstance(v, str)}
    for rule in table.rules.values():
        used |= set(rule.classes.values()) | {rule.otherwise}
    assert used <= set(FIELD_CLASSES)
    assert set(FIELD_CLASSES) - used == set()  # every class is used somewhere


def test_unknown_keys_take_the_most_restrictive_default() -> None:
    assert DEFAULT_CLASS == "intelligence"
    assert DEFAULT_CLASS in SENSITIVE_CLASSES
    assert classify_payload_key("dvla", "person", "extra") == DEFAULT_CLASS
    assert classify_payload_key("pnc", "person", "shoe_size") == DEFAULT_CLASS
    assert classify_payload_key("pnc", "no-such-kind", "pnc_id") == DEFAULT_CLASS
    assert classify_payload_key("no-such-source", "person", "surname") == DEFAULT_CLASS
    assert classify_person_column("no_such_column") == DEFAULT_CLASS


def test_nested_values_are_classified_by_their_top_level_key() -> None:
    assert classify_payload_key("dvla", "person", "ENDORSEMENTS") == "offending"
    assert classify_payload_key("pnd", "person", "addresses") == "contact"
    assert classify_payload_key("pnd", "intel", "grading") == "intelligence"
    assert classify_payload_key("pnd", "custody", "image") == "biometric_image"
    assert classify_payload_key("iabs", "encounter", "samples") == "biometric_image"


def test_marker_rule_lists_every_marker_type() -> None:
    rule = classification().rules["marker"]
    assert rule.key == "marker_type"
    assert set(rule.classes) == set(MARKER_TYPES)
    for code, cls in rule.classes.items():
        if code in ("WS-MENTAL", "WS-SELFHARM"):
            assert cls == "health"
        elif code.startswith("WS-"):
            assert cls == "warning"
        else:
            assert cls == "offending"
    assert rule.otherwise == "health"


@pytest.mark.parametrize(
    ("marker_type", "flag", "detail"),
    [
        ("WS-VIOLENT", "offending", "warning"),
        ("WS-FIREARMS", "offending", "warning"),
        ("WS-MENTAL", "health", "health"),
        ("WS-SELFHARM", "health", "health"),
        ("WANTED", "offending", "offending"),
        ("DISQ-DRIVER", "offending", "offending"),
        (None, "health", "health"),
        ("SOMETHING-NEW", "health", "health"),
    ],
)
def test_marker_fields_follow_the_marker_type(
    marker_type: str | None, flag: str, detail: str
) -> None:
    payload = {"pnc_id": PNC_ID, "marker_id": "MK1", "marker_type": marker_type,
               "start": "2020-01-05", "end": None, "detail": "x"}  # fmt: skip
    for key in ("marker_id", "marker_type", "start", "end"):
        assert classify_payload_key("pnc", "marker", key, payload) == flag
    assert classify_payload_key("pnc", "marker", "detail", payload) == detail
    assert classify_payload_key("pnc", "marker", "pnc_id", payload) == "identity"
    # without the record, a rule gives its most restrictive class
    assert classify_payload_key("pnc", "marker", "detail") == "health"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"default": "secret"}, "'secret', not a field class"),
        ({"default": "identity", "person": {"surname": "names"}}, "person column surname"),
        (
            {"default": "identity", "payload": {"pnc": {"marker": {"x": {"rule": "nope"}}}}},
            "unknown rule",
        ),
        ({"default": "identity", "rules": {"r": {"otherwise": "health"}}}, "needs a key"),
        (
            {"default": "identity", "rules": {"r": {"key": "k", "otherwise": "bad"}}},
            "rule r, otherwise",
        ),
    ],
)
def test_a_bad_table_is_refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(LedsError, match=message):
        parse_classification(data)


# ---- minimise -------------------------------------------------------------------------------


def _record_class(rec: StoredRecord, name: str) -> str:
    where, _, key = name.partition(".")
    if where == "payload":
        return classify_payload_key(rec.source, rec.kind, key, rec.payload)
    return classify_person_column(key)


_SUBSETS: list[frozenset[str]] = [
    frozenset(),
    frozenset(FIELD_CLASSES),
    *(frozenset({c}) for c in FIELD_CLASSES),
    frozenset({"identity", "contact", "offending"}),
    frozenset({"identity", "contact", "offending", "warning"}),
    frozenset(FIELD_CLASSES) - {"identity"},
]


@pytest.mark.parametrize("allowed", _SUBSETS, ids=lambda s: "+".join(sorted(s)) or "none")
def test_minimise_removes_exactly_the_disallowed_classes(
    records: list[StoredRecord], allowed: frozenset[str]
) -> None:
    for rec in records:
        out = minimise(rec, allowed)
        withheld = {w.field: w for w in out.withheld}
        assert len(withheld) == len(out.withheld)  # each field listed once
        every = {f"payload.{k}" for k in rec.payload} | {f"person.{k}" for k in rec.person}
        kept = {f"payload.{k}" for k in out.payload} | {f"person.{k}" for k in out.person}
        assert kept | set(withheld) == every
        assert not kept & set(withheld)
        for name in kept:
            assert _record_class(rec, name) in allowed
        for name, w in withheld.items():
            assert w.field_class == _record_class(rec, name)
            assert w.field_class not in allowed
            assert w.reason
        for key, value in out.payload.items():
            assert value == rec.payload[key]
        for key, value in out.person.items():
            assert value == rec.person[key]
        assert (out.record_id, out.source, out.kind) == (rec.id, rec.source, rec.kind)


def test_minimise_keeps_everything_when_all_classes_are_allowed(
    records: list[StoredRecord],
) -> None:
    for rec in records:
        out = minimise(rec, FIELD_CLASSES)
        assert out.withheld == []
        assert out.payload == rec.payload
        assert out.person == rec.person


def test_kept_values_are_copies(records: list[StoredRecord]) -> None:
    rec = _one(records, "dvla", "person")
    out = minimise(rec, FIELD_CLASSES)
    out.payload["ENDORSEMENTS"][0]["points"] = 99
    assert rec.payload["ENDORSEMENTS"][0]["points"] == 3


def test_minimise_refuses_an_unknown_class(records: list[StoredRecord]) -> None:
    with pytest.raises(LedsError, match="unknown field class 'everything'"):
        minimise(records[0], {"identity", "everything"})


def test_withheld_reasons(records: list[StoredRecord]) -> None:
    intel = _one(records, "pnd", "intel")
    out = minimise(intel, {"identity"})
    text = next(w for w in out.withheld if w.field == "payload.text")
    assert text == Withheld(
        "payload.text",
        "intelligence",
        "field class 'intelligence' needs the sensitive-data step and a role, organisation "
        "and purpose that permit it",
    )
    custody = minimise(_one(records, "pnd", "custody"), {"identity"})
    station = next(w for w in custody.withheld if w.field == "payload.station")
    assert station.reason.startswith("field class 'offending' is not permitted")
    given = minimise(intel, {"identity"}, reasons={"intelligence": "because the test says so"})
    assert {w.reason for w in given.withheld} == {"because the test says so"}


def test_minimised_record_is_frozen(records: list[StoredRecord]) -> None:
    out = minimise(records[0], {"identity"})
    with pytest.raises(AttributeError):
        out.payload = {}  # type: ignore[misc]


# ---- nothing of a withheld value leaks ------------------------------------------------------


def _planted(root: Path) -> list[StoredRecord]:
    """Records with LEAK planted in fields a constable at a stop may not see."""
    extracts = Extracts(root)
    pnc = _parse("pnc", extracts.pnc(_pnc_lines("WS-MENTAL", f"detail {LEAK}")))
    objs = _pnd_objects(text=f"intelligence {LEAK}")
    objs[2]["image"]["ref"] = LEAK
    pnd = _parse("pnd", extracts.pnd(objs))
    _write_dvla(extracts, extra={"PHOTO_REF": LEAK})
    dvla = _parse("dvla", root / "dvla")
    doc = iabs_doc()
    doc["subjects"][0]["home_office_ref"] = LEAK
    doc["encounters"][0]["outcome"] = LEAK
    iabs = _parse("iabs", extracts.iabs(doc, templates=1))
    return [stored(r, i) for i, r in enumerate([*pnc, *pnd, *dvla, *iabs], 1)]


def test_withheld_values_never_appear_in_the_minimised_record(tmp_path: Path) -> None:
    planted = _planted(tmp_path)
    assert sum(LEAK in json.dumps(r.payload) for r in planted) == 6
    allowed, reasons = allowed_classes(
        _actor("constable"), "stop", "pnc", sensitive_step=True,
        sensitive_justification=SENSITIVE_JUSTIFICATION,
    )  # fmt: skip
    assert allowed == {"identity", "contact", "offending", "warning"}
    withheld_fields = 0
    for rec in planted:
        out = minimise(rec, allowed, reasons=reasons)
        text = json.dumps(out.to_dict())
        assert LEAK not in text
        assert LEAK not in repr(out)
        withheld_fields += len(out.withheld)
    assert withheld_fields > 0


def test_a_withheld_value_leaves_no_trace_not_even_its_length(records: list[StoredRecord]) -> None:
    intel = _one(records, "pnd", "intel")
    short = replace(intel, payload={**intel.payload, "text": "x"})
    long = replace(intel, payload={**intel.payload, "text": "y" * 5000})
    empty = replace(intel, payload={**intel.payload, "text": None})
    shown = [minimise(r, {"identity"}).to_dict() for r in (short, long, empty)]
    assert shown[0] == shown[1] == shown[2]
    assert shown[0]["payload"] == {"type": "intel"}


def test_to_dict_is_json(records: list[StoredRecord]) -> None:
    out = minimise(_one(records, "pnc", "marker"), {"identity"})
    data = json.loads(json.dumps(out.to_dict()))
    assert data["payload"] == {"pnc_id": PNC_ID}
    assert {w["field"] for w in data["withheld"]} == {
        "payload.marker_id", "payload.marker_type", "payload.start", "payload.end",
        "payload.detail",
    }  # fmt: skip
    assert {w["field_class"] for w in data["withheld"]} == {"offending", "warning"}
    assert isinstance(out, MinimisedRecord)


# ---- allowed_classes and the policy ---------------------------------------------------------


def test_constable_at_a_stop_sees_identity_not_intelligence(records: list[StoredRecord]) -> None:
    allowed, reasons = allowed_classes(
        _actor("constable"), Purpose.STOP, "pnc", sensitive_step=False,
        sensitive_justification=None,
    )  # fmt: skip
    assert allowed == {"identity", "contact", "offending"}
    assert set(reasons) == set(FIELD_CLASSES) - allowed
    assert "forbid-sensitive-without-step" in reasons["intelligence"]
    assert reasons["intelligence"].startswith("field class 'intelligence'")
    person = minimise(_one(records, "pnc", "person"), allowed, reasons=reasons)
    assert person.withheld == []
    assert person.payload["surname"] == "O'Brien"
    assert person.person["pnc_id"] == PNC_ID
    assert person.payload["cro"] == CRO
    assert person.payload["nino"] == NINO
    intel = minimise(_one(records, "pnd", "intel"), allowed, reasons=reasons)
    assert set(intel.payload) == {"type"}
    assert {w.field_class for w in intel.withheld} == {"intelligence"}
    assert all("forbid-sensitive-without-step" in w.reason for w in intel.withheld)
    # a warning signal is shown (officer safety); only its detail needs the step
    marker = _one(records, "pnc", "marker")
    shown = minimise(marker, allowed)
    assert shown.payload["marker_type"] == "WS-VIOLENT"
    assert [w.field for w in shown.withheld] == ["payload.detail"]
    wanted = replace(marker, payload={**marker.payload, "marker_type": "WANTED"})
    assert minimise(wanted, allowed).withheld == []


def test_the_sensitive_step_grows_the_allowed_set(records: list[StoredRecord]) -> None:
    constable = _actor("constable")
    without, _ = allowed_classes(
        constable, "stop", "pnc", sensitive_step=False, sensitive_justification=None
    )
    with_step, reasons = allowed_classes(
        constable, "stop", "pnc", sensitive_step=True,
        sensitive_justification=SENSITIVE_JUSTIFICATION,
    )  # fmt: skip
    assert with_step == without | {"warning"}
    assert reasons["intelligence"].endswith("no policy permits it")
    marker = _one(records, "pnc", "marker")
    assert minimise(marker, with_step).withheld == []
    mental = replace(marker, payload={**marker.payload, "marker_type": "WS-MENTAL"})
    assert {w.field_class for w in minimise(mental, with_step).withheld} == {"health"}

    investigator = _actor("investigator")
    purpose = PurposeStatement.of("crime", "burglary series enquiry", "CASE-1")
    before, _ = allowed_classes(
        investigator, purpose, "pnd", sensitive_step=False, sensitive_justification=None
    )
    after, _ = allowed_classes(
        investigator, purpose, "pnd", sensitive_step=True,
        sensitive_justification="intelligence needed for the enquiry",
    )  # fmt: skip
    assert before == {"identity", "contact", "offending"}
    assert after == before | {"intelligence", "warning", "health", "biometric_image"}


def _expected(actor: Actor, purpose: str, source: str, step: bool) -> set[str]:
    def allowed(action: Action, **kw: Any) -> bool:
        req = request_for(actor, action, purpose, has_case_ref=True, **kw)
        return spec.oracle(req)[0]

    if not allowed(Action.VIEW_RECORD, source=source):
        return set()
    return {
        c
        for c in FIELD_CLASSES
        if allowed(Action.VIEW_SENSITIVE, field_class=c, sensitive_step=step)
    }


ACTORS = [
    *(_actor(role.value) for role in Role),
    _actor("immigration-officer", "HOME-OFFICE"),
    _actor("dvla-enquiry", "DVLA"),
    _actor("auditor", "IOPC"),
    _actor("constable", "NOBODY"),
]


@pytest.mark.parametrize("actor", ACTORS, ids=lambda a: f"{a.role}@{a.organisation}")
def test_allowed_classes_agree_with_the_policy_oracle(actor: Actor) -> None:
    """Every purpose x source x step: the allowed set is what the plain-Python oracle of the
    access matrix says (view_record on the source and view_sensitive on the class)."""
    grew = False
    for purpose, source in itertools.product(Purpose, SourceSystem):
        stmt = PurposeStatement.of(purpose.value, "routine enquiry for test", "CASE-1")
        base, base_reasons = allowed_classes(
            actor, stmt, source.value, sensitive_step=False, sensitive_justification=None
        )
        step, step_reasons = allowed_classes(
            actor, stmt, source.value, sensitive_step=True,
            sensitive_justification=SENSITIVE_JUSTIFICATION,
        )  # fmt: skip
        assert base == _expected(actor, purpose.value, source.value, False)
        assert step == _expected(actor, purpose.value, source.value, True)
        assert base <= step
        assert not base & SENSITIVE_CLASSES
        assert set(base_reasons) == set(FIELD_CLASSES) - base
        assert set(step_reasons) == set(FIELD_CLASSES) - step
        grew = grew or step > base
    has_sensitive = actor.role not in ("dvla-enquiry", "administrator") and (
        actor.organisation != "NOBODY"
    )
    assert grew == has_sensitive


def test_non_police_organisation_is_bounded_by_its_agreement(records: list[StoredRecord]) -> None:
    allowed, reasons = allowed_classes(
        _actor("dvla-enquiry", "DVLA"), "admin-licensing", "dvla", sensitive_step=False,
        sensitive_justification=None,
    )  # fmt: skip
    assert allowed == {"identity", "contact"}
    assert "forbid-outside-agreement-field-class" in reasons["offending"]
    out = minimise(_one(records, "dvla", "person"), allowed, reasons=reasons)
    assert [w.field for w in out.withheld] == ["payload.ENDORSEMENTS"]
    assert out.payload["SURNAME"] == "MORGAN"

    officer = _actor("immigration-officer", "HOME-OFFICE")
    allowed, _ = allowed_classes(
        officer, "immigration", "iabs", sensitive_step=True,
        sensitive_justification="status check at the border",
    )  # fmt: skip
    assert allowed == {"identity", "offending", "immigration_status", "biometric_image"}
    subject = minimise(_one(records, "iabs", "person"), allowed)
    assert subject.payload["home_office_ref"] == "K1234567"
    assert subject.person["immigration_ref"] == "K1234567"


def test_a_source_the_actor_may_not_open_allows_no_class() -> None:
    allowed, reasons = allowed_classes(
        _actor("constable"), "stop", "iabs", sensitive_step=True,
        sensitive_justification=SENSITIVE_JUSTIFICATION,
    )  # fmt: skip
    assert allowed == set()
    assert set(reasons) == set(FIELD_CLASSES)
    assert all("records of source 'iabs' may not be shown" in r for r in reasons.values())


def test_a_purpose_needing_a_case_reference_without_one_allows_nothing() -> None:
    allowed, reasons = allowed_classes(
        _actor("investigator"), "crime", "pnc", sensitive_step=False,
        sensitive_justification=None,
    )  # fmt: skip
    assert allowed == set()
    assert all("forbid-case-ref-missing" in r for r in reasons.values())


def test_expired_vetting_allows_nothing() -> None:
    allowed, reasons = allowed_classes(
        _actor("constable"), "stop", "pnc", sensitive_step=False,
        sensitive_justification=None, vetting_valid=False,
    )  # fmt: skip
    assert allowed == set()
    assert all("forbid-vetting-expired" in r for r in reasons.values())


@pytest.mark.parametrize("justification", [None, "", "   ", "officer safety", "two\nwords"])
def test_the_sensitive_step_needs_its_own_justification(justification: str | None) -> None:
    with pytest.raises(PurposeRequired, match="sensitive-data step needs its own justification"):
        allowed_classes(
            _actor("constable"), "stop", "pnc", sensitive_step=True,
            sensitive_justification=justification,
        )  # fmt: skip


def test_a_justification_without_the_step_changes_nothing() -> None:
    plain, _ = allowed_classes(
        _actor("constable"), "stop", "pnc", sensitive_step=False, sensitive_justification=None
    )
    noted, _ = allowed_classes(
        _actor("constable"), "stop", "pnc", sensitive_step=False,
        sensitive_justification=SENSITIVE_JUSTIFICATION,
    )  # fmt: skip
    assert plain == noted == {"identity", "contact", "offending"}
