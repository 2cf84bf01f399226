"""DVLA (CSV) and IABS (JSON batch + face templates + fingerprint templates) writers."""

from __future__ import annotations

import csv
import json
from datetime import date
from typing import TYPE_CHECKING, Any

from leds.model.entities import Person
from leds.synth import biometrics, idgen
from leds.synth.names import ascii_fold
from leds.synth.noise import NOISE, noisy_dob, noisy_name, stale_address_index

if TYPE_CHECKING:
    from leds.synth.writers import PartWriter

DRIVER_COLUMNS = (
    "DRIVER_NUMBER",
    "SURNAME",
    "FORENAMES",
    "DATE_OF_BIRTH",
    "ADDRESS_LINE_1",
    "POST_TOWN",
    "POSTCODE",
    "LICENCE_ISSUE_DATE",
    "ENTITLEMENTS",
    "ENDORSEMENTS",
)
VEHICLE_COLUMNS = ("VRM", "VIN", "MAKE", "MODEL", "COLOUR", "DATE_FIRST_REG")
KEEPER_COLUMNS = (
    "KEEPER_ID",
    "VRM",
    "DRIVER_NUMBER",
    "KEEPER_NAME",
    "KEEPER_POSTCODE",
    "START_DATE",
    "END_DATE",
)


def _ymd(d: date | None) -> str:
    return "" if d is None else f"{d.year:04d}{d.month:02d}{d.day:02d}"


def _bad_ymd(w: PartWriter, year: int) -> str:
    rnd = w._rnd("dvla-invalid")
    day, month = rnd.choice(((30, 2), (31, 2), (31, 4), (31, 6), (31, 9), (31, 11)))
    return f"{year:04d}{month:02d}{day:02d}"


def write_dvla(w: PartWriter) -> None:
    rnd = w._rnd("dvla")
    prof = NOISE["dvla"]
    noise = w._noise("dvla")
    world = w.world
    driver_no: dict[str, str] = {}
    w.taken_driver.update(p.licence.driver_number for p in world.persons if p.licence)
    with w.path("dvla", "drivers", "csv").open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\r\n")
        out.writerow(DRIVER_COLUMNS)
        for p in world.persons:
            lic = p.licence
            if lic is None:
                continue
            driver_no[p.person_id] = lic.driver_number
            numbers = [lic.driver_number]
            if rnd.random() < prof.duplicate:
                noise["duplicate"] = noise.get("duplicate", 0) + 1
                idx = int(p.person_id[1:]) - 1
                numbers.append(
                    idgen.driver_number(
                        idx, p.surname, p.forenames, p.dob, p.sex, w.taken_driver, dup=True
                    )
                )
            for number in numbers:
                noise["records"] = noise.get("records", 0) + 1
                sur, fore = noisy_name(rnd, prof, p.surname, p.forenames, noise)
                dob = noisy_dob(rnd, prof, p.dob, noise)
                dob_text = f"{dob[0]:04d}{dob[1] or 0:02d}{dob[2] or 0:02d}" if dob else ""
                a = p.addresses[stale_address_index(rnd, prof, len(p.addresses), noise)]
                postcode = a.postcode
                if w._invalid(rnd, "dvla"):
                    if rnd.random() < 0.5:
                        dob_text = _bad_ymd(w, p.dob.year)
                    else:
                        postcode = postcode[:-2] + "CI"
                ends = ";".join(
                    f"{e.code}:{_ymd(e.offence_date)}:{e.points}"
                    + (f":{_ymd(e.disqualified_until)}" if e.disqualified_until else "")
                    for e in lic.endorsements
                )
                out.writerow(
                    (
                        number,
                        sur.upper(),
                        fore.upper(),
                        dob_text,
                        ascii_fold(a.line1).upper(),
                        a.town.upper(),
                        postcode,
                        _ymd(lic.issued),
                        " ".join(lic.entitlements),
                        ends,
                    )
                )
                w._record("dvla", "person", number, p.person_id)
    with w.path("dvla", "vehicles", "csv").open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\r\n")
        out.writerow(VEHICLE_COLUMNS)
        for v in world.vehicles:
            vrm = v.vrm.replace(" ", "")
            first = _ymd(v.first_registered)
            if w._invalid(rnd, "dvla"):
                first = _bad_ymd(w, v.first_registered.year)
            out.writerow((vrm, v.vin, v.make, v.model, v.colour, first))
            w._record("dvla", "vehicle", vrm, None)
    by_id = {p.person_id: p for p in world.persons}
    with w.path("dvla", "keepers", "csv").open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\r\n")
        out.writerow(KEEPER_COLUMNS)
        for v in world.vehicles:
            vrm = v.vrm.replace(" ", "")
            for j, kp in enumerate(v.keepers):
                keeper = by_id[kp.person_id]
                kid = f"KP{int(v.vehicle_id[1:]) * 8 + j:010d}"
                start = _ymd(kp.from_date)
                if w._invalid(rnd, "dvla"):
                    start = _bad_ymd(w, kp.from_date.year)
                sur, fore = noisy_name(rnd, prof, keeper.surname, keeper.forenames, {})
                out.writerow(
                    (
                        kid,
                        vrm,
                        driver_no.get(kp.person_id, ""),
                        f"{fore} {sur}".upper(),
                        _address_on(keeper, kp.to_date),
                        start,
                        _ymd(kp.to_date),
                    )
                )
                # Keeper records are about a person: truth maps them too (subject is the VRM).
                w._record("dvla", "keeper", kid, keeper.person_id)


def _address_on(p: Person, when: date | None) -> str:
    if not p.addresses:
        return ""
    if when is None:
        return p.addresses[-1].postcode
    for a in p.addresses:
        if a.from_date <= when and (a.to_date is None or when < a.to_date):
            return a.postcode
    return p.addresses[0].postcode


def _mrz(surname: str, forenames: str) -> str:
    def part(text: str) -> str:
        clean = ascii_fold(text).upper().replace("'", "")
        return "<".join(x for x in clean.replace("-", " ").split() if x)

    return f"{part(surname)}<<{part(forenames)}"


def write_iabs(w: PartWriter) -> None:
    rnd = w._rnd("iabs")
    prof = NOISE["iabs"]
    noise = w._noise("iabs")
    world = w.world
    subjects: list[dict[str, Any]] = []
    encounters: list[dict[str, Any]] = []
    blob = bytearray()
    tpl_name = f"templates-{w.part:05d}.bin"
    fp_blob = bytearray()
    fp_name = f"fingerprints-{w.part:05d}.fmr"
    for p, mem in zip(world.persons, world.members, strict=True):
        if not mem.iabs or not p.encounters:
            continue
        idx = int(p.person_id[1:]) - 1
        refs = [f"IABSP{idx * 2:09d}"]
        if rnd.random() < prof.duplicate:
            noise["duplicate"] = noise.get("duplicate", 0) + 1
            refs.append(f"IABSP{idx * 2 + 1:09d}")
        ident = biometrics.identity(world.seed, idx)
        for copy, ref in enumerate(refs):
            # A duplicate subject holds every other encounter (the odd ones).
            encs = (
                p.encounters[copy :: len(refs)]
                if len(p.encounters) > 1
                else (p.encounters if copy == 0 else [])
            )
            noise["records"] = noise.get("records", 0) + 1
            sur, fore = noisy_name(rnd, prof, p.surname, p.forenames, noise)
            dob = noisy_dob(rnd, prof, p.dob, noise)
            if dob is None:
                dob_text = None
            else:
                y, m, d = dob
                dob_text = f"{d:02d}/" if d else "XX/"
                dob_text += (f"{m:02d}/" if m else "XX/") + f"{y:04d}"
            if w._invalid(rnd, "iabs"):
                day, month = rnd.choice(((30, 2), (31, 2), (31, 4), (31, 6), (31, 9)))
                dob_text = f"{day:02d}/{month:02d}/{p.dob.year:04d}"
            passports = sorted({e.passport_number for e in (encs or p.encounters)})
            subjects.append(
                {
                    "person_ref": ref,
                    "mrz_name": _mrz(sur, fore),
                    "date_of_birth": dob_text,
                    "sex": p.sex if rnd.random() > 0.002 else "X",
                    "nationality": p.nationality,
                    "home_office_ref": idgen.home_office_ref(idx),
                    "passports": passports,
                }
            )
            w._record("iabs", "person", ref, p.person_id)
            for e in encs:
                samples = []
                for s in e.samples:
                    entry: dict[str, Any] = {
                        "sample_ref": s.sample_id,
                        "modality": s.modality,
                        "captured": s.captured.isoformat(),
                        "quality": s.quality,
                        "file": None,
                        "offset": None,
                        "length": None,
                    }
                    if s.modality == "face":
                        tpl = biometrics.capture(
                            world.seed, idx, biometrics.sample_key(s.sample_id), s.quality, ident
                        )
                        entry.update(
                            file=tpl_name, offset=len(blob), length=biometrics.TEMPLATE_BYTES
                        )
                        blob += tpl.astype("<f4").tobytes()
                    elif s.modality == "fingerprint":
                        record = fingerprint_template(world.seed, idx, s.sample_id, s.quality)
                        entry.update(file=fp_name, offset=len(fp_blob), length=len(record))
                        fp_blob += record
                    samples.append(entry)
                    w._record("iabs", "biometric", s.sample_id, p.person_id)
                encounters.append(
                    {
                        "encounter_id": e.encounter_id,
                        "person_ref": ref,
                        "type": e.encounter_type.upper(),
                        "date": f"{e.date.isoformat()}T{rnd.randrange(6, 23):02d}:"
                        f"{rnd.randrange(60):02d}:00Z",
                        "port": e.port,
                        "passport_number": e.passport_number,
                        "outcome": e.outcome,
                        "samples": samples,
                    }
                )
                w._record("iabs", "encounter", e.encounter_id, p.person_id)
    doc = {
        "schema": "iabs-export/1",
        "batch": w.part,
        "created": w.created,
        "subjects": subjects,
        "encounters": encounters,
        "count": {"subjects": len(subjects), "encounters": len(encounters)},
    }
    with w.path("iabs", "batch", "json").open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(json.dumps(doc, ensure_ascii=False))
        fh.write("\n")
    w.path("iabs", "templates", "bin").write_bytes(bytes(blob))
    w.path("iabs", "fingerprints", "fmr").write_bytes(bytes(fp_blob))


IABS_FINGER = 2  # ISO/IEC 19794-2 finger position: right index (the flat IABS takes)


def fingerprint_template(seed: int, person_index: int, sample_ref: str, quality: int) -> bytes:
    """ISO/IEC 19794-2 record of an IABS fingerprint sample (minutiae-level generator).

    The finger is ``person_index * 10 + IABS_FINGER`` (one finger per person, every encounter
    of the person takes it again), the impression the sample's digits, the difficulty from
    the sample's quality (``minutiae_synth.difficulty_for_quality``).
    """
    from leds.biometrics.fingerprint import minutiae_synth

    t = minutiae_synth.impression_minutiae(
        seed,
        person_index * 10 + IABS_FINGER,
        biometrics.sample_key(sample_ref),
        minutiae_synth.difficulty_for_quality(quality),
        finger_position=IABS_FINGER,
    )
    return t.to_iso()
