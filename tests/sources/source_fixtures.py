"""Helpers for the source parser tests: writers of small extracts that follow
docs/extracts.md exactly, and valid identifiers to put in them."""

from __future__ import annotations

import csv
import io
import json
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from leds.model.records import Rejection, SourceRecord

PNC_ID = "2001/0171310W"  # valid long form
PNC_ID_BAD = "2001/0171310X"  # wrong check letter
PNC_ID_2 = "1985/0012345L"
PNC_DISPLAY_2 = "85/0012345L"  # display form of PNC_ID_2
CRO = "012345/99N"
NINO = "AB123456C"
DRIVER_F = "MORGA853045SJ9AA"  # a woman born 04/03/1985 (month + 50)
DRIVER_M = "KHAN9803045M99AA"  # a man born 04/03/1985
VRM = "AB12CDE"


def nom(**kw: str) -> str:
    """A PNC NOM line with valid defaults; keyword arguments replace fields."""
    f = {
        "pnc_id": PNC_ID, "cro": CRO, "surname": "O'Brien", "forenames": "Mary Ann",
        "sex": "F", "dob": "04031985", "birthplace": "Leeds", "ethnicity": "W2",
        "height_cm": "165", "build": "slim", "marks": "scar left hand", "nationality": "GBR",
        "nino": NINO,
    }  # fmt: skip
    f.update(kw)
    return "|".join(["NOM", *f.values()])


def split(items: Sequence[SourceRecord | Rejection]) -> tuple[list[SourceRecord], list[Rejection]]:
    records = [i for i in items if isinstance(i, SourceRecord)]
    rejections = [i for i in items if isinstance(i, Rejection)]
    assert len(records) + len(rejections) == len(items)
    return records, rejections


def only_rejection(items: Sequence[SourceRecord | Rejection]) -> Rejection:
    _, rejections = split(items)
    assert len(rejections) == 1, rejections
    return rejections[0]


class Extracts:
    """Writes extracts under one directory (one subdirectory per source)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _dir(self, source: str) -> Path:
        d = self.root / source
        d.mkdir(parents=True, exist_ok=True)
        return d

    # PNC: header, data lines, trailer with the data line count.
    def pnc(
        self,
        lines: Sequence[str],
        *,
        part: int = 1,
        trailer: int | bool | None = True,
        end: str = "\n",
    ) -> Path:
        out = [f"H|PNC|1|2026-11-26T12:00:00Z|{part}", *lines]
        if trailer is True:
            out.append(f"T|{len(lines)}")
        elif isinstance(trailer, int) and trailer is not False:
            out.append(f"T|{trailer}")
        path = self._dir("pnc") / f"pnc-{part:05d}.txt"
        path.write_text("\n".join(out) + end, encoding="utf-8")
        return path

    # PND: JSON lines and the end record.
    def pnd(self, objs: Sequence[dict[str, Any] | str], *, part: int = 1, end: bool = True) -> Path:
        out = [o if isinstance(o, str) else json.dumps(o) for o in objs]
        if end:
            out.append(json.dumps({"type": "end", "records": len(objs)}))
        path = self._dir("pnd") / f"pnd-{part:05d}.jsonl"
        path.write_text("".join(line + "\n" for line in out), encoding="utf-8")
        return path

    # DVLA / generic CSV: RFC 4180 with CRLF like the csv module writes.
    def csv(self, relpath: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(header)
        writer.writerows(rows)
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(buf.getvalue(), encoding="utf-8", newline="")
        return path

    # IABS: a batch document and its template file.
    def iabs(self, doc: dict[str, Any], *, batch: int = 1, templates: int = 0) -> Path:
        d = self._dir("iabs")
        if templates:
            vec = struct.pack("<128f", *([1 / 128**0.5] * 128))
            (d / f"templates-{batch:05d}.bin").write_bytes(vec * templates)
        path = d / f"batch-{batch:05d}.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        return path


def iabs_doc(**over: Any) -> dict[str, Any]:
    """The IABS batch of docs/extracts.md (one subject, one encounter, two samples)."""
    doc: dict[str, Any] = {
        "schema": "iabs-export/1",
        "batch": 1,
        "created": "2026-11-26T12:00:00Z",
        "subjects": [
            {
                "person_ref": "IABSP000000001",
                "mrz_name": "KHAN<<MOHAMMED<ALI",
                "date_of_birth": "04/03/1985",
                "sex": "M",
                "nationality": "PAK",
                "home_office_ref": "K1234567",
                "passports": ["PK1234567"],
            }
        ],
        "encounters": [
            {
                "encounter_id": "IABSE000000001",
                "person_ref": "IABSP000000001",
                "type": "VISA",
                "date": "2019-05-06T10:00:00Z",
                "port": "LHR",
                "passport_number": "PK1234567",
                "outcome": "granted",
                "samples": [
                    {
                        "sample_ref": "IABSS000000001",
                        "modality": "face",
                        "captured": "2019-05-06",
                        "quality": 80,
                        "file": "templates-00001.bin",
                        "offset": 0,
                        "length": 512,
                    },
                    {
                        "sample_ref": "IABSS000000002",
                        "modality": "fingerprint",
                        "captured": "2019-05-06",
                        "quality": 65,
                        "file": None,
                        "offset": None,
                        "length": None,
                    },
                ],
            }
        ],
        "count": {"subjects": 1, "encounters": 1},
    }
    doc.update(over)
    return doc
