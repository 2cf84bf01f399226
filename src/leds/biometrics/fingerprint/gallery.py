"""The fingerprint gallery on disk: append-only enrolment, tombstones, rebuild, 1:N search.

Layout of the directory the caller gives (``DATA/biometrics/fingerprint`` in a deployment)::

    meta.json        format version, algorithm, MCC/LSH parameters
    templates.dat    ISO/IEC 19794-2 records, appended
    slots.bin        one 16-byte row per slot: offset u8, length u4, cylinders u2, removed u1
    keys.bin         one row per cylinder: slot i4, its minutia x, y, theta f4 (centred on
                     the image, y up), L LSH keys u4 (appended at enrolment)
    sorted-keys.npy  (L, M) keys sorted per table    } written by rebuild(); rows of
    sorted-rows.npy  (L, M) their rows of keys.bin   } keys.bin beyond M are scanned
    cylinders.npy    (M,) slot, x, y, theta per row  } linearly
    mcc.bin          matching cylinders (``mcc_match.CYL_DTYPE``, 72 bytes each), appended
    mcc-index.bin    one 12-byte row per slot: its first row of mcc.bin u8, count u4

A *slot* is the row of a template; it never changes (``biometric_templates.slot``).
Enrolment appends (no training: the LSH functions are fixed). Removal sets a tombstone (the
slot is never returned again); ``rebuild()`` drops removed cylinders from the index and
sorts everything enrolled since the last rebuild.

Search: the LSH collisions of the probe's MCC cylinders (``leds.biometrics.fingerprint.mcc``),
weighted by inverse bucket frequency, vote for the pose (rotation, translation) that maps
the colliding gallery minutia onto the probe minutia; a template's pre-filter score is its
best pose cell (``prefilter``). The best ``shortlist`` by vote are re-ranked by MCC LSS-R
(``leds.biometrics.fingerprint.mcc_match``, compiled) over their stored matching cylinders;
the result is a list of candidates with that score (0-100), best first. (Layouts 1 and 2
re-ranked a short list with Bozorth3, whose own mated/non-mated overlap on this generator
capped hit@1 near 0.97: ``docs/biometrics.md``.)
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from leds.biometrics.fingerprint import _vote, mcc, mcc_match
from leds.biometrics.fingerprint.errors import GalleryError
from leds.biometrics.fingerprint.extract import ALGORITHM, Template

FORMAT_FAMILY = "leds-fingerprint-gallery/"
# 3: matching cylinders stored (mcc.bin) for MCC LSS-R re-ranking; 2: L = 48 keys a cylinder
# of H = 18 bits; 1: 32 keys of 14 bits
FORMAT = FORMAT_FAMILY + "3"
SEARCH_ALGORITHM = f"{ALGORITHM.split('+')[0]}+mcc-lsh-hough+{mcc_match.VERSION}"
MIDX_DTYPE = np.dtype([("start", "<u8"), ("count", "<u4")])
SLOT_DTYPE = np.dtype(
    [("offset", "<u8"), ("length", "<u4"), ("ncyl", "<u2"), ("removed", "u1"), ("pad", "u1")]
)
KEY_DTYPE = np.dtype(
    [("slot", "<i4"), ("x", "<f4"), ("y", "<f4"), ("theta", "<f4"), ("keys", "<u4", (mcc.L,))]
)
GEO_DTYPE = np.dtype([("slot", "<i4"), ("x", "<f4"), ("y", "<f4"), ("theta", "<f4")])
# Hough vote of the pre-filter: a colliding (probe cylinder, gallery cylinder) pair implies a
# rotation and a translation of the probe onto the template; a mate's collisions agree on
# one, chance collisions scatter. Cells: ROT_BINS x TRANS_BINS^2, two grids offset by half a
# cell (a mate's votes split by a cell border are still counted together in one of them).
ROT_BINS = 12
TRANS_CELL = 40.0  # px
TRANS_BINS = 24
MAX_BUCKET_FRACTION = 0.002
MAX_COLLISIONS = 3_000_000  # collisions a search examines at most (rarest buckets first)
DEFAULT_SHORTLIST = 5000  # templates re-ranked by MCC LSS-R (about 0.11 ms of CPU each)


@dataclass(frozen=True)
class Candidate:
    slot: int
    score: float  # MCC LSS-R similarity x 100 (0-100)
    prefilter: float  # MCC-LSH pose vote


class FingerprintGallery:
    """An on-disk fingerprint gallery (see the module docstring)."""

    def __init__(
        self, path: str | os.PathLike[str], *, create: bool = True, reindex: bool = False
    ) -> None:
        """Open (or, with ``create``, make) the gallery at ``path``.

        A gallery of an older layout or other MCC/LSH parameters is refused (its keys mean
        nothing to this code) with the hint to open it with ``reindex=True``, which
        recomputes every key from ``templates.dat`` (``reindex()``) and only then records
        the current layout in ``meta.json`` (an interrupted reindex is simply run again). A
        layout-2 gallery with the current LSH parameters only gains its matching cylinders.
        """
        self.path = Path(path)
        meta = self.path / "meta.json"
        current = {
            "format": FORMAT,
            "algorithm": ALGORITHM,
            "search": SEARCH_ALGORITHM,
            "mcc": _params(),
            "match": mcc_match.params(),
        }
        if not meta.exists():
            if not create:
                raise GalleryError(f"no fingerprint gallery at {self.path} (meta.json missing)")
            self.path.mkdir(parents=True, exist_ok=True)
            for name in ("templates.dat", "slots.bin", "keys.bin", "mcc.bin", "mcc-index.bin"):
                (self.path / name).touch()
            meta.write_text(json.dumps(current, indent=1))
        doc = json.loads(meta.read_text())
        fmt = str(doc.get("format"))
        if not fmt.startswith(FORMAT_FAMILY):
            raise GalleryError(f"{meta} is not a {FORMAT} gallery (format {fmt!r})")
        self._sorted: (
            tuple[npt.NDArray[np.uint32], npt.NDArray[np.int32], npt.NDArray[np.void]] | None
        ) = None
        self._slots: npt.NDArray[np.void] | None = None
        if fmt != FORMAT or any(doc.get(k) != current[k] for k in ("mcc", "match", "search")):
            if not reindex:
                raise GalleryError(
                    f"the gallery at {self.path} has another layout ({fmt}) or other MCC/LSH "
                    f"parameters than this code ({FORMAT})",
                    hint="reindex it from its templates: `leds biometrics enrol --modality "
                    "fingerprint --reindex` (or FingerprintGallery(path, reindex=True))",
                )
            self.reindex(keys=doc.get("mcc") != current["mcc"])
            meta.write_text(json.dumps(current, indent=1))

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
        if rows[slot]["removed"]:
            raise GalleryError(f"slot {slot} was removed: its template is erased")
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
        mcc_start = (self.path / "mcc.bin").stat().st_size // mcc_match.CYL_DTYPE.itemsize
        index = self.path / "mcc-index.bin"
        if index.stat().st_size > first * MIDX_DTYPE.itemsize:  # rows of an interrupted enrol
            os.truncate(index, first * MIDX_DTYPE.itemsize)
        with (
            tpl_path.open("ab") as tf,
            (self.path / "keys.bin").open("ab") as kf,
            (self.path / "mcc.bin").open("ab") as mf,
            (self.path / "mcc-index.bin").open("ab") as xf,
        ):
            for i, t in enumerate(templates):
                data = t.to_iso()
                slot = first + i
                stored = Template.from_iso(data)  # what a search will read back
                kr = _key_rows(stored, slot)
                cyl = mcc_match.cylinders(stored)
                kf.write(kr.tobytes())
                mf.write(cyl.tobytes())
                xf.write(np.array([(mcc_start, len(cyl))], dtype=MIDX_DTYPE).tobytes())
                mcc_start += len(cyl)
                tf.write(data)
                rows.append((offset, len(data), len(kr), 0, 0))
                offset += len(data)
                slots.append(slot)
                if progress is not None and (i + 1) % 1000 == 0:
                    progress(i + 1)
        with (self.path / "slots.bin").open("ab") as sf:
            sf.write(np.array(rows, dtype=SLOT_DTYPE).tobytes())
        self._slots = None
        return slots

    def remove(self, slots: Sequence[int]) -> int:
        """Tombstone slots (never returned by search again) and erase their templates: the
        ISO record and the matching cylinders are overwritten with zeros at once; the LSH
        keys and cylinder positions leave the index at the next ``rebuild()``. Returns how
        many were active."""
        rows = np.memmap(self.path / "slots.bin", dtype=SLOT_DTYPE, mode="r+")
        index = np.fromfile(self.path / "mcc-index.bin", dtype=MIDX_DTYPE)
        n = 0
        with (
            (self.path / "templates.dat").open("r+b") as tf,
            (self.path / "mcc.bin").open("r+b") as mf,
        ):
            for s in slots:
                if not 0 <= s < rows.shape[0]:
                    raise GalleryError(f"slot {s} is not in the gallery ({rows.shape[0]} slots)")
                if rows[s]["removed"] == 0:
                    rows[s]["removed"] = 1
                    n += 1
                tf.seek(int(rows[s]["offset"]))
                tf.write(bytes(int(rows[s]["length"])))
                if s < len(index):
                    mf.seek(int(index[s]["start"]) * mcc_match.CYL_DTYPE.itemsize)
                    mf.write(bytes(int(index[s]["count"]) * mcc_match.CYL_DTYPE.itemsize))
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
        sr = np.empty((mcc.L, len(keys)), dtype=np.int32)
        for t in range(mcc.L):
            order = np.argsort(keys["keys"][:, t], kind="stable")
            sk[t] = keys["keys"][order, t]
            sr[t] = order  # rows of keys.bin (cylinders), not slots: the vote needs geometry
            if progress is not None:
                progress(t + 1)
        geo = np.empty(len(keys), dtype=GEO_DTYPE)
        for name in GEO_DTYPE.names or ():
            geo[name] = keys[name]
        np.save(self.path / "sorted-keys.npy", sk)
        np.save(self.path / "sorted-rows.npy", sr)
        np.save(self.path / "cylinders.npy", geo)
        self._sorted = None

    # --- search ----------------------------------------------------------------------

    def _index(self) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int32], npt.NDArray[np.void]]:
        if self._sorted is None:
            kp = self.path / "sorted-keys.npy"
            if kp.exists():
                self._sorted = (
                    np.load(kp, mmap_mode="r"),
                    np.load(self.path / "sorted-rows.npy", mmap_mode="r"),
                    np.load(self.path / "cylinders.npy", mmap_mode="r"),
                )
            else:
                self._sorted = (
                    np.zeros((mcc.L, 0), dtype=np.uint32),
                    np.zeros((mcc.L, 0), dtype=np.int32),
                    np.zeros(0, dtype=GEO_DTYPE),
                )
        return self._sorted

    def _buckets(
        self, probe_keys: npt.NDArray[np.uint32], bucket_fraction: float, max_entries: int
    ) -> tuple[list[tuple[Any, ...]], int]:
        """The LSH buckets a probe's cylinder keys ``(L, n_p)`` fall in, as segment groups.

        Returns ``(groups, M)``: each group ``(table, lo, count, probe cylinder, weight,
        rows (L, n), slot, x, y, theta)`` lists buckets (``rows[table, lo : lo + count]``
        are rows of the geometry arrays ``slot``, ``x``, ``y``, ``theta``) -- one group for
        the sorted index (rows ``< M`` of ``keys.bin``), one for the rows enrolled since the
        last rebuild, if any. A bucket weighs ``log(total / its size)``; buckets over
        ``bucket_fraction`` of all cylinders are skipped (stop-words: near-empty cylinders),
        and so are the most common of the rest when there would be more than
        ``max_entries`` collisions (the rarest first: bounded work a search).
        """
        sk, sr, geo = self._index()
        m = sk.shape[1]
        tail = np.fromfile(self.path / "keys.bin", dtype=KEY_DTYPE, offset=m * KEY_DTYPE.itemsize)
        total = m + len(tail)
        cap = max(8, int(total * bucket_fraction))
        n_p = probe_keys.shape[1]
        lo = np.empty((mcc.L, n_p), dtype=np.int64)
        cnt = np.empty((mcc.L, n_p), dtype=np.int64)
        for t in range(mcc.L):
            lo[t] = np.searchsorted(sk[t], probe_keys[t], "left")
            cnt[t] = np.searchsorted(sk[t], probe_keys[t], "right") - lo[t]
        groups = [(lo, cnt, np.asarray(sr), geo)]
        if len(tail):  # rows enrolled since the last rebuild: sort each table's column
            order = np.argsort(tail["keys"], axis=0, kind="stable").T.astype(np.int32)
            tsorted = np.take_along_axis(tail["keys"], order.T, axis=0).T
            tlo = np.empty_like(lo)
            tcnt = np.empty_like(cnt)
            for t in range(mcc.L):
                tlo[t] = np.searchsorted(tsorted[t], probe_keys[t], "left")
                tcnt[t] = np.searchsorted(tsorted[t], probe_keys[t], "right") - tlo[t]
            tgeo = np.empty(len(tail), dtype=GEO_DTYPE)
            for name in GEO_DTYPE.names or ():
                tgeo[name] = tail[name]
            groups.append((tlo, tcnt, order, tgeo))
        size: npt.NDArray[np.int64] = cnt + groups[1][1] if len(groups) > 1 else cnt
        sizes = np.sort(size[(size > 0) & (size <= cap)])
        if sizes.size and int(sizes.sum()) > max_entries:
            last = int(np.searchsorted(np.cumsum(sizes), max_entries, "right")) - 1
            cap = int(sizes[max(0, last)])
        ok = (size > 0) & (size <= cap)
        table, probe = np.nonzero(ok)
        weight = np.log(total / size[table, probe])
        out = []
        for g_lo, g_cnt, rows, g_geo in groups:
            c = g_cnt[table, probe]
            keep = c > 0
            out.append(
                (
                    table[keep], g_lo[table, probe][keep], c[keep], probe[keep], weight[keep],
                    rows, g_geo["slot"], g_geo["x"], g_geo["y"], g_geo["theta"],
                )
            )  # fmt: skip
        return out, m

    def collisions(
        self,
        probe_keys: npt.NDArray[np.uint32],
        *,
        bucket_fraction: float = MAX_BUCKET_FRACTION,
        max_entries: int = MAX_COLLISIONS,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64], int]:
        """LSH collisions of a probe's cylinder keys ``(L, n_p)`` with the gallery's, one
        entry each: ``(row of keys.bin, probe cylinder, weight, M)`` (rows from ``M`` on
        were enrolled after the last rebuild); the buckets as ``_buckets`` chooses them."""
        groups, m = self._buckets(probe_keys, bucket_fraction, max_entries)
        rows_out, probe_out, weight_out = [], [], []
        for i, (table, lo, cnt, probe, weight, rows, *_geo) in enumerate(groups):
            k = int(cnt.sum())
            if k == 0:
                continue
            at = np.repeat(lo - np.cumsum(cnt) + cnt, cnt) + np.arange(k)
            got = np.asarray(rows[np.repeat(table, cnt), at]).astype(np.int64)
            rows_out.append(got + (m if i else 0))
            probe_out.append(np.repeat(probe, cnt).astype(np.int64))
            weight_out.append(np.repeat(weight, cnt))
        if not rows_out:
            z = np.zeros(0, dtype=np.int64)
            return z, z, np.zeros(0), m
        return np.concatenate(rows_out), np.concatenate(probe_out), np.concatenate(weight_out), m

    def prefilter(
        self,
        probe: Template,
        *,
        bucket_fraction: float = MAX_BUCKET_FRACTION,
        max_entries: int = MAX_COLLISIONS,
    ) -> npt.NDArray[np.float64]:
        """Pre-filter score of every slot for a probe (removed slots 0): MCC-LSH + Hough.

        Each LSH collision of a probe cylinder with a gallery cylinder votes, with its
        weight, for the rotation and translation that bring the gallery minutia onto the
        probe minutia; a slot's score is its best pose cell (``ROT_BINS`` x
        ``TRANS_BINS``^2 cells of ``TRANS_CELL`` px, two grids offset by half a cell). A
        mate's true collisions agree on one pose even when they are few (large elastic
        distortion breaks most cylinders); chance collisions scatter over the cells. The
        vote is compiled (``_vote.pose_vote``: exact (slot, cell) sums, slot ranges on
        numba's threads).
        """
        rows_s = self._slot_rows()
        n = len(rows_s)
        if n == 0:
            return np.zeros(0, dtype=np.float64)
        pk, pwhere = mcc.template_keys_at(probe)
        if pk.shape[1] == 0:
            return np.zeros(n, dtype=np.float64)
        groups, _m = self._buckets(pk, bucket_fraction, max_entries)
        votes: npt.NDArray[np.float64] = _vote.pose_vote(
            groups, pwhere, n, rot_bins=ROT_BINS, trans_bins=TRANS_BINS,
            trans_cell=TRANS_CELL,
        )  # fmt: skip
        votes[rows_s["removed"] != 0] = 0.0
        return votes

    def similarities(
        self, probe: Template, slots: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float64]:
        """MCC LSS-R similarity (0-1) of a probe with the templates in ``slots``."""
        indexed = (self.path / "mcc-index.bin").stat().st_size // MIDX_DTYPE.itemsize
        if indexed < len(self):
            raise GalleryError(
                f"the gallery at {self.path} lacks matching cylinders for slots "
                f"{indexed}-{len(self) - 1}",
                hint="reindex it: `leds biometrics enrol --modality fingerprint --reindex`",
            )
        rows = np.asarray(np.memmap(self.path / "mcc-index.bin", dtype=MIDX_DTYPE, mode="r")[slots])
        counts = rows["count"].astype(np.int64)
        starts = rows["start"].astype(np.int64)
        total = int(counts.sum())
        if total == 0:
            return np.zeros(len(slots))
        take = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
        stored = np.memmap(self.path / "mcc.bin", dtype=mcc_match.CYL_DTYPE, mode="r")
        gathered = np.asarray(stored[take])
        del stored
        local = np.cumsum(counts) - counts
        return mcc_match.similarity_many(mcc_match.cylinders(probe), gathered, local, counts)

    def search(
        self,
        probe: Template,
        *,
        candidates: int = 20,
        shortlist: int = DEFAULT_SHORTLIST,
        bucket_fraction: float = MAX_BUCKET_FRACTION,
        max_entries: int = MAX_COLLISIONS,
    ) -> list[Candidate]:
        """Ranked candidates for a probe: MCC-LSH + Hough shortlist, then MCC LSS-R.

        The ``shortlist`` templates with the best pre-filter votes (those with any vote) are
        compared with the probe by MCC LSS-R; the best ``candidates`` by that score are
        returned (ties by vote, then slot).
        """
        if candidates < 1 or shortlist < 1:
            raise GalleryError("candidates and shortlist must be at least 1")
        votes = self.prefilter(probe, bucket_fraction=bucket_fraction, max_entries=max_entries)
        positive = int((votes > 0).sum()) if len(votes) else 0
        if positive == 0:
            return []
        k = min(positive, shortlist)
        order = np.argpartition(-votes, k - 1)[:k]
        sims = self.similarities(probe, order.astype(np.int64))
        out = [
            Candidate(int(s), mcc_match.score_of(float(x)), float(votes[s]))
            for s, x in zip(order, sims, strict=True)
        ]
        out.sort(key=lambda c: (-c.score, -c.prefilter, c.slot))
        return out[:candidates]

    def reindex(self, progress: Callable[[int], None] | None = None, *, keys: bool = True) -> None:
        """Recompute every template's matching cylinders and, with ``keys``, its LSH keys
        from the stored templates (after a parameter or layout change)."""
        rows = self._slot_rows()
        key_tmp, mcc_tmp, idx_tmp = (
            self.path / "keys.bin.tmp", self.path / "mcc.bin.tmp", self.path / "mcc-index.bin.tmp"
        )  # fmt: skip
        start = 0
        with (
            (self.path / "templates.dat").open("rb") as fh,
            key_tmp.open("wb") as kf,
            mcc_tmp.open("wb") as mf,
            idx_tmp.open("wb") as xf,
        ):
            for s in range(len(rows)):
                if rows[s]["removed"]:  # erased: nothing to index
                    xf.write(np.array([(start, 0)], dtype=MIDX_DTYPE).tobytes())
                    continue
                fh.seek(int(rows[s]["offset"]))
                t = Template.from_iso(fh.read(int(rows[s]["length"])))
                if keys:
                    kf.write(_key_rows(t, s).tobytes())
                cyl = mcc_match.cylinders(t)
                mf.write(cyl.tobytes())
                xf.write(np.array([(start, len(cyl))], dtype=MIDX_DTYPE).tobytes())
                start += len(cyl)
                if progress is not None and (s + 1) % 1000 == 0:
                    progress(s + 1)
        os.replace(mcc_tmp, self.path / "mcc.bin")
        os.replace(idx_tmp, self.path / "mcc-index.bin")
        if keys:
            os.replace(key_tmp, self.path / "keys.bin")
            self.rebuild()
        else:
            key_tmp.unlink()


def warm_up() -> None:
    """Compile the search's numba kernels (or load them from numba's cache beside the
    modules) by searching a gallery of three synthetic prints in a temporary directory, so
    that the first real search does not wait for the compiler (~10 s once per checkout).
    No personal data: the prints come from the synthetic generator."""
    import tempfile

    from leds.biometrics.fingerprint import minutiae_synth

    with tempfile.TemporaryDirectory(prefix="leds-fp-warm-") as work:
        gallery = FingerprintGallery(work)
        gallery.enrol(minutiae_synth.impression_minutiae(0, f, 0) for f in range(3))
        gallery.rebuild()
        gallery.search(minutiae_synth.impression_minutiae(0, 0, 1), candidates=3)


def _params() -> dict[str, Any]:
    """The MCC/LSH parameters a gallery's keys depend on (recorded in ``meta.json``)."""
    return {
        "R": mcc.R, "NS": mcc.NS, "ND": mcc.ND, "MU": mcc.MU, "H": mcc.H, "L": mcc.L,
        "seed": mcc.LSH_SEED, "sigma_s": mcc.SIGMA_S, "sigma_d": mcc.SIGMA_D,
        "cylinder_geometry": True,
    }  # fmt: skip


def _key_rows(t: Template, slot: int) -> npt.NDArray[np.void]:
    """``keys.bin`` rows of a template: slot, cylinder minutia (centred, y up), LSH keys."""
    keys, where = mcc.template_keys_at(t)
    kr = np.zeros(keys.shape[1], dtype=KEY_DTYPE)
    kr["slot"] = slot
    kr["x"], kr["y"], kr["theta"] = where[:, 0], where[:, 1], where[:, 2]
    kr["keys"] = keys.T
    return kr
