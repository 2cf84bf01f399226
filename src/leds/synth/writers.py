"""Write one part of the world in each source system's native format (``docs/extracts.md``).

Each source gets its own ``random.Random`` (seeded from world seed, part and source), so its
noise is independent of the other sources. :class:`PartStats` collects what was written:
records per (source, kind), injected invalid rows per source and noise applied per source.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from leds.model.entities import Address, Person
from leds.model.identifiers import pnc_display
from leds.synth import biometrics, idgen
from leds.synth.noise import NOISE, noisy_dob, noisy_name, stale_address_index
from leds.synth.population import PartWorld

COUNTRY_NAMES = {
    "IND": "INDIA",
    "PAK": "PAKISTAN",
    "BGD": "BANGLADESH",
    "CHN": "CHINA",
    "NGA": "NIGERIA",
    "GHA": "GHANA",
    "SDN": "SUDAN",
    "JAM": "JAMAICA",
    "IRL": "IRELAND",
    "POL": "POLAND",
    "ROU": "ROMANIA",
    "ITA": "ITALY",
    "PRT": "PORTUGAL",
    "LTU": "LITHUANIA",
    "TUR": "TURKEY",
    "IRQ": "IRAQ",
}
ORIGIN_NATIONALITY = {
    "IN": "IND",
    "PK": "PAK",
    "BD": "BGD",
    "CN": "CHN",
    "NG": "NGA",
    "GH": "GHA",
    "SD": "SDN",
    "JM": "JAM",
    "IE": "IRL",
    "PL": "POL",
    "RO": "ROU",
    "IT": "ITA",
    "PT": "PRT",
    "LT": "LTU",
    "TR": "TUR",
    "IQ": "IRQ",
}
_GENDER = {"M": "Male", "F": "Female"}


@dataclass
class PartStats:
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    invalid: Counter[str] = field(default_factory=Counter)
    noise: dict[str, dict[str, int]] = field(default_factory=dict)


class PartWriter:
    """Writes every source file of one part and its truth file."""

    def __init__(
        self, out: Path, world: PartWorld, *, invalid_rate: float, created: str, total_persons: int
    ) -> None:
        self.out = out
        self.world = world
        self.part = world.part_no
        self.invalid_rate = invalid_rate
        self.created = created
        self.blocks = idgen.pnc_blocks(total_persons)
        self.stats = PartStats()
        self.truth: list[tuple[str, str, str, str]] = []
        self.taken_driver: set[str] = set()

    # -- helpers ---------------------------------------------------------------------------
    def _rnd(self, source: str) -> random.Random:
        return random.Random(f"{self.world.seed}/{self.part}/{source}")

    def _record(self, source: str, kind: str, record_id: str, person_id: str | None) -> None:
        self.stats.counts[(source, kind)] += 1
        if person_id is not None:
            self.truth.append((source, kind, record_id, person_id))

    def _invalid(self, rnd: random.Random, source: str) -> bool:
        if self.invalid_rate > 0 and rnd.random() < self.invalid_rate:
            self.stats.invalid[source] += 1
            return True
        return False

    def _noise(self, source: str) -> dict[str, int]:
        return self.stats.noise.setdefault(source, {})

    def path(self, source: str, stem: str, ext: str) -> Path:
        d = self.out / source
        d.mkdir(parents=True, exist_ok=True)
        return d / f"{stem}-{self.part:05d}.{ext}"

    def write_all(self) -> PartStats:
        from leds.synth import writers_more

        self.write_pnc()
        self.write_pnd()
        writers_more.write_dvla(self)
        writers_more.write_iabs(self)
        self.write_truth()
        return self.stats

    # -- PNC -------------------------------------------------------------------------------
    def write_pnc(self) -> None:
        rnd = self._rnd("pnc")
        prof = NOISE["pnc"]
        noise = self._noise("pnc")
        lines: list[str] = []

        def emit(kind: str, rid: str, pid: str | None, *fields: object) -> None:
            lines.append("|".join(_pnc_field(f) for f in fields))
            self._record("pnc", kind, rid, pid)

        for p, mem in zip(self.world.persons, self.world.members, strict=True):
            if not mem.pnc or p.pnc_id is None:
                continue
            idx = int(p.person_id[1:]) - 1
            ids = [p.pnc_id]
            if rnd.random() < prof.duplicate:
                noise["duplicate"] = noise.get("duplicate", 0) + 1
                ids.append(
                    idgen.pnc_id(
                        idx, int(p.pnc_id[:4]), max(p.dob.year + 10, 1975), self.blocks, dup=True
                    )
                )
            for copy, pnc in enumerate(ids):
                noise["records"] = noise.get("records", 0) + 1
                sur, fore = noisy_name(rnd, prof, p.surname, p.forenames, noise)
                dob = noisy_dob(rnd, prof, p.dob, noise)
                dob_text = _dmy(dob)
                if self._invalid(rnd, "pnc"):
                    day, month, year = _impossible(rnd, p.dob.year)
                    dob_text = f"{day:02d}{month:02d}{year:04d}"
                eth = p.ethnicity if rnd.random() < prof.ethnicity_recorded else ""
                sex = p.sex if rnd.random() > 0.002 else "U"
                emit(
                    "person",
                    pnc,
                    p.person_id,
                    "NOM",
                    pnc,
                    p.cro if copy == 0 and p.cro else "",
                    sur.upper(),
                    fore.upper(),
                    sex,
                    dob_text,
                    _birthplace(rnd, p),
                    eth,
                    p.height_cm or "",
                    p.build.upper(),
                    p.marks.upper(),
                    p.nationality,
                    p.nino or "",
                )
                addrs = p.addresses if copy == 0 else p.addresses[-1:]
                last = stale_address_index(rnd, prof, len(addrs), noise) if copy == 0 else 0
                for seq, a in enumerate(addrs[: last + 1], start=1):
                    pc = a.postcode
                    if self._invalid(rnd, "pnc"):
                        pc = pc[:-2] + "CK"
                    emit(
                        "address",
                        f"{pnc}/D{seq}",
                        p.person_id,
                        "ADR",
                        pnc,
                        seq,
                        a.line1.upper(),
                        a.town.upper(),
                        pc,
                        _dmy_date(a.from_date),
                        _dmy_date(a.to_date) if seq <= last else "",
                    )
            pnc = p.pnc_id
            for seq, al in enumerate(p.aliases, start=1):
                shown = _wrong_check(rnd, pnc) if self._invalid(rnd, "pnc") else pnc
                emit(
                    "alias",
                    f"{shown}/A{seq}",
                    p.person_id,
                    "ALI",
                    shown,
                    seq,
                    al.surname.upper(),
                    al.forenames.upper(),
                    _dmy_date(al.dob),
                )
            for arrest in p.arrests:
                emit(
                    "arrest",
                    arrest.arrest_id,
                    p.person_id,
                    "ARR",
                    pnc,
                    arrest.arrest_id,
                    _dmy_date(arrest.date),
                    arrest.force,
                    arrest.reason,
                )
                for ch in arrest.charges:
                    emit(
                        "charge",
                        ch.charge_id,
                        p.person_id,
                        "CHG",
                        pnc,
                        arrest.arrest_id,
                        ch.charge_id,
                        ch.offence_code,
                        ch.offence,
                        _dmy_date(ch.date),
                    )
                    d = ch.disposal
                    if d is not None:
                        emit(
                            "disposal",
                            d.disposal_id,
                            p.person_id,
                            "DSP",
                            pnc,
                            ch.charge_id,
                            d.disposal_id,
                            d.court,
                            _dmy_date(d.date),
                            d.outcome,
                            d.sentence,
                        )
            for mk in p.markers:
                shown = _wrong_check(rnd, pnc) if self._invalid(rnd, "pnc") else pnc
                emit(
                    "marker",
                    mk.marker_id,
                    p.person_id,
                    "MKR",
                    shown,
                    mk.marker_id,
                    mk.marker_type,
                    _dmy_date(mk.start),
                    _dmy_date(mk.end),
                    mk.detail,
                )
        for p, mem in zip(self.world.persons, self.world.members, strict=True):
            for it in p.property:
                linked = p.pnc_id if mem.pnc and p.pnc_id else ""
                emit(
                    "property",
                    it.property_id,
                    p.person_id if linked else None,
                    "PRP",
                    it.property_id,
                    linked,
                    it.category,
                    it.make,
                    it.model,
                    it.serial,
                    it.status,
                    _dmy_date(it.reported),
                    it.description,
                )
        for v in self.world.vehicles:
            if v.interest:
                rid = f"VO{int(v.vehicle_id[1:]):09d}"
                when = v.keepers[-1].from_date if v.keepers else v.first_registered
                detail = {
                    "stolen": "Reported stolen",
                    "suspect": "Used in crime",
                    "not-over-air": "Do not discuss over open airwaves",
                }[v.interest]
                emit(
                    "vehicle",
                    rid,
                    None,
                    "VOI",
                    v.vrm.replace(" ", ""),
                    rid,
                    v.interest,
                    _dmy_date(when),
                    detail,
                )
        path = self.path("pnc", "pnc", "txt")
        with path.open("w", encoding="utf-8", newline="\n") as fh:
            fh.write(f"H|PNC|1|{self.created}|{self.part}\n")
            fh.write("\n".join(lines))
            if lines:
                fh.write("\n")
            fh.write(f"T|{len(lines)}\n")

    # -- PND -------------------------------------------------------------------------------
    def write_pnd(self) -> None:
        rnd = self._rnd("pnd")
        prof = NOISE["pnd"]
        noise = self._noise("pnd")
        world = self.world
        lines: list[str] = []

        def emit(kind: str, rid: str, pid: str, obj: dict[str, Any]) -> None:
            lines.append(json.dumps(obj, ensure_ascii=False))
            self._record("pnd", kind, rid, pid)

        dup_of: dict[str, str] = {}
        for p, mem in zip(world.persons, world.members, strict=True):
            if not mem.pnd:
                continue
            idx = int(p.person_id[1:]) - 1
            nid = f"PNDN{idx * 2:09d}"
            copies = [nid]
            if rnd.random() < prof.duplicate:
                noise["duplicate"] = noise.get("duplicate", 0) + 1
                copies.append(f"PNDN{idx * 2 + 1:09d}")
                dup_of[p.person_id] = copies[1]
            for copy, rid in enumerate(copies):
                noise["records"] = noise.get("records", 0) + 1
                sur, fore = noisy_name(rnd, prof, p.surname, p.forenames, noise)
                dob = noisy_dob(rnd, prof, p.dob, noise)
                dob_text: str | None = _iso(dob)
                if self._invalid(rnd, "pnd"):
                    day, month, year = _impossible(rnd, p.dob.year)
                    dob_text = f"{year:04d}-{month:02d}-{day:02d}"
                pnc = pnc_display(p.pnc_id) if p.pnc_id and rnd.random() < 0.9 else None
                last = stale_address_index(rnd, prof, len(p.addresses), noise)
                addrs = p.addresses[max(0, last - 1 - copy) : last + 1]
                emit(
                    "person",
                    rid,
                    p.person_id,
                    {
                        "type": "nominal",
                        "nominal_id": rid,
                        "family_name": sur.upper(),
                        "given_names": fore.split(),
                        "date_of_birth": dob_text,
                        "gender": _GENDER.get(p.sex, "Unknown"),
                        "pnc_id": pnc,
                        "self_defined_ethnicity": p.ethnicity
                        if rnd.random() < prof.ethnicity_recorded
                        else None,
                        "phone": p.phone if rnd.random() < 0.6 else None,
                        "addresses": [
                            _pnd_address(a, k == len(addrs) - 1) for k, a in enumerate(addrs)
                        ],
                    },
                )
        blob = bytearray()  # custody image templates, back to back (images-NNNNN.bin)
        images_name = f"images-{self.part:05d}.bin"
        for p, mem in zip(world.persons, world.members, strict=True):
            if not mem.pnd:
                continue
            idx = int(p.person_id[1:]) - 1
            nid = f"PNDN{idx * 2:09d}"
            ident = biometrics.identity(world.seed, idx) if p.custody else None
            for rep in p.intel:
                subj = dup_of.get(p.person_id, nid) if rnd.random() < 0.3 else nid
                subjects = [subj]
                for a in rep.associates:
                    k = world.local(a)
                    if world.members[k].pnd:
                        subjects.append(f"PNDN{(int(a[1:]) - 1) * 2:09d}")
                emit(
                    "intel",
                    rep.report_id,
                    p.person_id,
                    {
                        "type": "intel",
                        "report_id": rep.report_id,
                        "created": f"{rep.date.isoformat()}T{rnd.randrange(24):02d}:"
                        f"{rnd.randrange(60):02d}:00Z",
                        "subjects": subjects,
                        "text": rep.text,
                        "grading": {
                            "source": rep.source_grade,
                            "intelligence": rep.assessment,
                            "handling": rep.handling,
                        },
                        "vehicles": [v.replace(" ", "") for v in rep.vehicles],
                        "places": rep.places,
                    },
                )
            for cu in p.custody:
                arrived = (
                    f"{cu.date.isoformat()}T{rnd.randrange(24):02d}:"
                    f"{rnd.randrange(60):02d}:{rnd.randrange(60):02d}Z"
                )
                if self._invalid(rnd, "pnd"):
                    day, month, year = _impossible(rnd, cu.date.year)
                    arrived = f"{year:04d}-{month:02d}-{day:02d}T12:00:00Z"
                img = cu.image
                image: dict[str, Any] | None = None
                if img is not None:
                    tpl = biometrics.capture(
                        world.seed, idx, biometrics.sample_key(img.sample_id), img.quality, ident
                    )
                    image = {
                        "ref": img.sample_id,
                        "captured": img.captured.isoformat(),
                        "quality": img.quality,
                        "file": images_name,
                        "offset": len(blob),
                        "length": biometrics.TEMPLATE_BYTES,
                    }
                    blob += tpl.astype("<f4").tobytes()
                emit(
                    "custody",
                    cu.custody_id,
                    p.person_id,
                    {
                        "type": "custody",
                        "custody_id": cu.custody_id,
                        "nominal_id": nid,
                        "arrived": arrived,
                        "station": cu.station,
                        "offence": cu.offence,
                        "image": image,
                    },
                )
        with self.path("pnd", "pnd", "jsonl").open("w", encoding="utf-8", newline="\n") as fh:
            for line in lines:
                fh.write(line)
                fh.write("\n")
            fh.write(json.dumps({"type": "end", "records": len(lines)}) + "\n")
        self.path("pnd", "images", "bin").write_bytes(bytes(blob))

    # -- truth -----------------------------------------------------------------------------
    def write_truth(self) -> None:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(("source", "kind", "source_record_id", "person_id"))
        w.writerows(self.truth)
        self.path("truth", "truth", "csv").write_text(buf.getvalue(), encoding="utf-8")


def _pnc_field(value: object) -> str:
    text = "" if value is None else str(value)
    if "|" in text or "\n" in text or "\r" in text:
        text = text.replace("|", " ").replace("\r", " ").replace("\n", " ")
    return text


def _dmy(dob: tuple[int, int | None, int | None] | None) -> str:
    """PNC date of birth: ``DDMMYYYY`` with ``00`` for an unknown day or month."""
    if dob is None:
        return ""
    y, m, d = dob
    return f"{d or 0:02d}{m or 0:02d}{y:04d}"


def _dmy_date(d: date | None) -> str:
    return "" if d is None else f"{d.day:02d}{d.month:02d}{d.year:04d}"


def _iso(dob: tuple[int, int | None, int | None] | None) -> str | None:
    if dob is None:
        return None
    y, m, d = dob
    if m is None:
        return f"{y:04d}"
    if d is None:
        return f"{y:04d}-{m:02d}"
    return f"{y:04d}-{m:02d}-{d:02d}"


def _impossible(rnd: random.Random, year: int) -> tuple[int, int, int]:
    """(day, month, year) that is not a date."""
    day, month = rnd.choice(((30, 2), (31, 2), (31, 4), (31, 6), (31, 9), (31, 11)))
    return day, month, year


_CHECK = "ZABCDEFGHJKLMNPQRTUVWXY"


def _wrong_check(rnd: random.Random, pnc: str) -> str:
    return pnc[:-1] + rnd.choice([c for c in _CHECK if c != pnc[-1]])


def _birthplace(rnd: random.Random, p: Person) -> str:
    country = COUNTRY_NAMES.get(p.nationality)
    if country is None and p.name_origin in ORIGIN_NATIONALITY and rnd.random() < 0.3:
        country = COUNTRY_NAMES[ORIGIN_NATIONALITY[p.name_origin]]
    if country:
        return country
    return p.addresses[0].town.upper() if p.addresses else ""


def _pnd_address(a: Address, current: bool) -> dict[str, Any]:
    return {
        "text": f"{a.line1}, {a.town}",
        "postcode": a.postcode,
        "from": a.from_date.isoformat(),
        "to": None if current or a.to_date is None else a.to_date.isoformat(),
    }
