"""The fingerprint gallery on disk: append-only enrolment, tombstones, rebuild, 1:N search.

Layout of the directory the caller gives (``DATA/biometrics/fingerprint`` in a deployment)::

    meta.json        format version, algorithm, MCC/LSH parameters
    templates.dat    ISO/IEC 19794-2 records, appended
    slots.bin        one 16-byte row per slot: offset u8, length u4, cylinders u2, removed u1
    keys.bin         one row per cylinder: slot i4, L LSH keys u4 (appended at enrolment)
    sorted-keys.npy  (L, M) keys sorted per table  } written by rebuild(); rows of keys.bin
    sorted-slots.npy (L, M) their slots            } beyond M are scanned linearly

A *slot* is the row of a template; it never changes (``biometric_templates.slot``).
Enrolment appends (no training: the LSH functions are fixed). Removal sets a tombstone (the
slot is never returned again); ``rebuild()`` drops removed cylinders from the index and
sorts everything enrolled since the last rebuild.

Search: MCC-LSH votes (``leds.biometrics.fingerprint.mcc``) weighted by inverse bucket
frequency shortlist ``shortlist`` templates; Bozorth3 re-ranks them (and the next ones by
vote, while no score reaches ``EXTEND_BELOW`` and the time budget lasts); the result is a
list of ``(slot, score)`` with the Bozorth3 score, best first.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from leds.biometrics.fingerprint import mcc
from leds.biometrics.fingerprint.errors import GalleryError
from leds.biometrics.fingerprint.extract import ALGORITHM, Packed, Template, match_packed

FORMAT = "leds-fingerprint-gallery/1"
SLOT_DTYPE = np.dtype(
    [("offset", "<u8"), ("length", "<u4"), ("ncyl", "<u2"), ("removed", "u1"), ("pad", "u1")]
)
KEY_DTYPE = np.dtype([("slot", "<i4"), ("keys", "<u4", (mcc.L,))])
MAX_BUCKET_FRACTION = 0.002
DEFAULT_SHORTLIST = 200
EXTEND_BELOW = 34  # Bozorth3: below this the shortlist is extended (time allowing)
BUDGET_S = 0.8


@dataclass(frozen=True)
class Candidate:
    slot: int
    score: int  # Bozorth3 raw score
    prefilter: float  # MCC-LSH vote


class FingerprintGallery:
    """An on-disk fingerprint gallery (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self.path = Path(path)
        meta = self.path / "meta.json"
        params = {
            "R": mcc.R, "NS": mcc.NS, "ND": mcc.ND, "MU": mcc.MU, "H": mcc.H, "L": mcc.L,
            "seed": mcc.LSH_SEED, "sigma_s": mcc.SIGMA_S, "sigma_d": mcc.SIGMA_D,
        }  # fmt: skip
        if not meta.exists():
            if not create:
                raise GalleryError(f"no fingerprint gallery at {self.path} (meta.json missing)")
            self.path.mkdir(parents=True, exist_ok=True)
            for name in ("templates.dat", "slots.bin", "keys.bin"):
                (self.path / name).touch()
            meta.write_text(
                json.dumps({"format": FORMAT, "algorithm": ALGORITHM, "mcc": params}, indent=1)
            )
        doc = json.loads(meta.read_text())
        if doc.get("format") != FORMAT:
            raise GalleryError(f"{meta} is not a {FORMAT} gallery (format {doc.get('format')!r})")
        if doc.get("mcc") != params:
            raise GalleryError(
                f"the gallery at {self.path} was built with other MCC/LSH parameters",
                hint="rebuild it from its templates (FingerprintGallery.reindex)",
            )
        self._sorted: tuple[npt.NDArray[np.uint32], npt.NDArray[np.int32]] | None = None
        self._slots: npt.NDArray[np.void] | None = None

    # --- reading ---------------------------------------------------------------------

    def _slot_rows(self) -> npt.NDArray[np.void]:
        if self._slots is None:
            self._slots = np.fromfile(self.path / "slots.bin", dtype=SLOT_DTYPE)
        return self._slots

    def __len__(self) -> int:
        return int(self._slot_rows().shape[0])

    @property
    def active(self) -> int:
        return int((self._slot_rows()["removed"] == 0).sum())

    def template(self, slot: int) -> Template:
        rows = self._slot_rows()
        if not 0 <= slot < len(rows):
            raise GalleryError(f"slot {slot} is not in the gallery ({len(rows)} slots)")
        with (self.path / "templates.dat").open("rb") as fh:
            fh.seek(int(rows[slot]["offset"]))
            return Template.from_iso(fh.read(int(rows[slot]["length"])))

    def removed(self, slot: int) -> bool:
        return bool(self._slot_rows()[slot]["removed"])

    # --- writing ---------------------------------------------------------------------

    def enrol(
        self, templates: Iterable[Template], progress: Callable[[int], None] | None = None
    ) -> list[int]:
        """Append templates; returns their slots (in order)."""
        first = len(self)
        tpl_path = self.path / "templates.dat"
        offset = tpl_path.stat().st_size
        slots: list[int] = []
        rows = []
        with (
            tpl_path.open("ab") as tf,
            (self.path / "keys.bin").open("ab") as kf,
        ):
            for i, t in enumerate(templates):
                data = t.to_iso()
                keys = mcc.template_keys(Template.from_iso(data))
                slot = first + i
                kr = np.zeros(keys.shape[1], dtype=KEY_DTYPE)
                kr["slot"] = slot
                kr["keys"] = keys.T
                kf.write(kr.tobytes())
                tf.write(data)
                rows.append((offset, len(data), keys.shape[1], 0, 0))
                offset += len(data)
                slots.append(slot)
                if progress is not None and (i + 1) % 1000 == 0:
                    progress(i + 1)
        with (self.path / "slots.bin").open("ab") as sf:
            sf.write(np.array(rows, dtype=SLOT_DTYPE).tobytes())
        self._slots = None
        return slots

    def remove(self, slots: Sequence[int]) -> int:
        """Tombstone slots (never returned by search again). Returns how many were active."""
        rows = np.memmap(self.path / "slots.bin", dtype=SLOT_DTYPE, mode="r+")
        n = 0
        for s in slots:
            if not 0 <= s < rows.shape[0]:
                raise GalleryError(f"slot {s} is not in the gallery ({rows.shape[0]} slots)")
            if rows[s]["removed"] == 0:
                rows[s]["removed"] = 1
                n += 1
        rows.flush()
        del rows
        self._slots = None
        return n

    def rebuild(self, progress: Callable[[int], None] | None = None) -> None:
        """Drop removed cylinders and sort the LSH tables (run after bulk enrolment)."""
        keys = np.fromfile(self.path / "keys.bin", dtype=KEY_DTYPE)
        removed = self._slot_rows()["removed"].astype(bool)
        keys = keys[~removed[keys["slot"]]] if len(keys) else keys
        tmp = self.path / "keys.bin.tmp"
        keys.tofile(tmp)
        os.replace(tmp, self.path / "keys.bin")
        sk = np.empty((mcc.L, len(keys)), dtype=np.uint32)
        ss = np.empty((mcc.L, len(keys)), dtype=np.int32)
        for t in range(mcc.L):
            order = np.argsort(keys["keys"][:, t], kind="stable")
            sk[t] = keys["keys"][order, t]
            ss[t] = keys["slot"][order]
            if progress is not None:
                progress(t + 1)
        np.save(self.path / "sorted-keys.npy", sk)
        np.save(self.path / "sorted-slots.npy", ss)
        self._sorted = None

    # --- search ----------------------------------------------------------------------

    def _index(self) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int32]]:
        if self._sorted is None:
            kp = self.path / "sorted-keys.npy"
            if kp.exists():
                self._sorted = (
                    np.load(kp, mmap_mode="r"),
                    np.load(self.path / "sorted-slots.npy", mmap_mode="r"),
                )
            else:
                self._sorted = (
                    np.zeros((mcc.L, 0), dtype=np.uint32),
                    np.zeros((mcc.L, 0), dtype=np.int32),
                )
        return self._sorted

    def prefilter(self, probe: Template) -> npt.NDArray[np.float64]:
        """MCC-LSH vote of every slot for a probe (removed slots 0)."""
        rows = self._slot_rows()
        n = len(rows)
        votes = np.zeros(n, dtype=np.float64)
        if n == 0:
            return votes
        pk = mcc.template_keys(probe)
        n_p = pk.shape[1]
        sk, ss = self._index()
        m = sk.shape[1]
        tail = np.fromfile(self.path / "keys.bin", dtype=KEY_DTYPE, offset=m * KEY_DTYPE.itemsize)
        total = m + len(tail)
        cap = max(8, int(total * MAX_BUCKET_FRACTION))
        flat: list[npt.NDArray[np.int64]] = []
        weight: list[npt.NDArray[np.float64]] = []
        for t in range(mcc.L):
            keys = pk[t]
            lo = np.searchsorted(sk[t], keys, "left")
            cnt = np.searchsorted(sk[t], keys, "right") - lo
            if len(tail):
                col = tail["keys"][:, t]
                hit = np.flatnonzero(np.isin(col, keys))
                if hit.size:
                    # pair each tail hit with the probe cylinders holding its key
                    order = np.argsort(keys, kind="stable")
                    sorted_keys = keys[order]
                    for j in hit:
                        a = np.searchsorted(sorted_keys, col[j], "left")
                        b = np.searchsorted(sorted_keys, col[j], "right")
                        pcs = order[a:b]
                        c = cnt[pcs] + int((col == col[j]).sum())
                        w = np.where(c > cap, 0.0, np.log(total / c))
                        flat.append(int(tail["slot"][j]) * n_p + pcs.astype(np.int64))
                        weight.append(w)
            ok = (cnt > 0) & (cnt <= cap)
            if not ok.any():
                continue
            pcs = np.flatnonzero(ok)
            lo, cnt = lo[ok], cnt[ok]
            starts = np.repeat(lo - np.cumsum(cnt) + cnt, cnt) + np.arange(cnt.sum())
            slots = np.asarray(ss[t][starts]).astype(np.int64)
            flat.append(slots * n_p + np.repeat(pcs, cnt))
            weight.append(np.repeat(np.log(total / cnt), cnt))
        if flat:
            f = np.concatenate(flat)
            uniq, inv = np.unique(f, return_inverse=True)
            per_pair = np.bincount(inv, weights=np.concatenate(weight))
            # a probe cylinder counts once per template, with diminishing returns
            votes += np.bincount(uniq // n_p, weights=np.log1p(per_pair), minlength=n)
        votes /= np.sqrt(np.maximum(rows["ncyl"], 1))
        votes[rows["removed"] != 0] = 0.0
        return votes

    def search(
        self,
        probe: Template,
        *,
        candidates: int = 20,
        shortlist: int = DEFAULT_SHORTLIST,
        extend_below: int | None = EXTEND_BELOW,
        budget_s: float = BUDGET_S,
    ) -> list[Candidate]:
        """Ranked candidates for a probe: MCC-LSH shortlist, then Bozorth3 re-ranking.

        ``shortlist`` templates (best votes) are always compared. While the best Bozorth3
        score so far is below ``extend_below`` and the search has used less than
        ``budget_s`` seconds, the next ``shortlist // 2`` by vote are compared too (a mate the
        pre-filter ranked low is then still found when time allows; a non-mated search uses
        its whole budget). ``extend_below=None`` turns this off.
        """
        if candidates < 1 or shortlist < 1:
            raise GalleryError("candidates and shortlist must be at least 1")
        t0 = time.perf_counter()
        votes = self.prefilter(probe)
        positive = int((votes > 0).sum()) if len(votes) else 0
        if positive == 0:
            return []
        k = min(positive, shortlist * 8 if extend_below is not None else shortlist)
        order = np.argpartition(-votes, k - 1)[:k]
        order = order[np.argsort(-votes[order], kind="stable")]
        pp = Packed(probe)
        out: list[Candidate] = []
        rows = self._slot_rows()
        done = 0
        step = max(1, shortlist // 2)
        with (self.path / "templates.dat").open("rb") as fh:
            while done < len(order):
                end = shortlist if done == 0 else done + step
                for s in order[done:end]:
                    fh.seek(int(rows[s]["offset"]))
                    g = Template.from_iso(fh.read(int(rows[s]["length"])))
                    out.append(Candidate(int(s), match_packed(pp, Packed(g)), float(votes[s])))
                done = min(end, len(order))
                best = max(c.score for c in out)
                if (
                    extend_below is None
                    or best >= extend_below
                    or time.perf_counter() - t0 > budget_s
                ):
                    break
        out.sort(key=lambda c: (-c.score, -c.prefilter, c.slot))
        return out[:candidates]

    def reindex(self, progress: Callable[[int], None] | None = None) -> None:
        """Recompute every cylinder key from the stored templates (after a parameter change)."""
        rows = self._slot_rows()
        with (
            (self.path / "templates.dat").open("rb") as fh,
            (self.path / "keys.bin.tmp").open("wb") as kf,
        ):
            for s in range(len(rows)):
                fh.seek(int(rows[s]["offset"]))
                keys = mcc.template_keys(Template.from_iso(fh.read(int(rows[s]["length"]))))
                kr = np.zeros(keys.shape[1], dtype=KEY_DTYPE)
                kr["slot"], kr["keys"] = s, keys.T
                kf.write(kr.tobytes())
                if progress is not None and (s + 1) % 1000 == 0:
                    progress(s + 1)
        os.replace(self.path / "keys.bin.tmp", self.path / "keys.bin")
        self.rebuild()
