"""Fingerprint extraction, quality, ISO/IEC 19794-2 templates and Bozorth3 1:1 matching.

Built on ``afis`` (NBIS MINDTCT minutiae extraction and Bozorth3 matching in C through its
native library, and its NFIQ2-style quality). What this module adds:

* decoding of uploaded bytes with clear errors (:class:`UnreadableImage`) -- not an image,
  not greyscale-convertible, too small/large, blank;
* a quality gate: NFIQ2-style score (0-100) and a minimum minutiae count; a print below
  either raises :class:`LowQuality` carrying both figures so the caller can count a
  *failure to enrol* (or to acquire, for a probe) instead of dropping it;
* :class:`Template`: minutiae ``(N, 5)`` = x, y, theta (radians), kind (0 ending,
  1 bifurcation), quality (0-1), with the image size and finger position, stored as an
  ISO/IEC 19794-2:2005 finger minutiae record (``FMR\\0`` / ``020\\0``; 24-byte record header,
  4-byte view header, 6 bytes a minutia, angle in 1.40625-degree units);
* Bozorth3 through the native library with templates packed once (:class:`Packed`) so that
  1:N re-ranking does not rebuild the probe for every candidate.
"""

from __future__ import annotations

import ctypes
import io
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from leds.biometrics.fingerprint.errors import (
    BadTemplate,
    LowQuality,
    NativeUnavailable,
    UnreadableImage,
)

ALGORITHM = "afis-1.2.7/nbis-mindtct+bozorth3"
MAX_IMAGE_BYTES = 8 * 1024 * 1024
MIN_SIDE = 128
MAX_SIDE = 2048
MIN_MINUTIAE = 12
MIN_QUALITY = 20  # NFIQ2-style score 0-100
MAX_MINUTIAE = 150  # Bozorth3 uses at most 150 (NBIS default)
ISO_MAGIC = b"FMR\x00"
ISO_VERSION = b" 20\x00"

F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Template:
    """A finger's minutiae and the frame they are measured in."""

    minutiae: F64  # (N, 5): x, y, theta (rad), kind (0 ending, 1 bifurcation), quality 0-1
    width: int
    height: int
    finger_position: int = 0  # ISO finger position code, 0 unknown
    quality: int = 0  # 0-100

    @property
    def n(self) -> int:
        return int(self.minutiae.shape[0])

    def to_iso(self) -> bytes:
        """ISO/IEC 19794-2:2005 finger minutiae record (one finger view)."""
        from afis.io import FingerprintTemplateHeader, encode_iso19794_2

        header = FingerprintTemplateHeader(
            width=self.width,
            height=self.height,
            finger_position=self.finger_position,
            image_quality=int(self.quality),
        )
        data: bytes = encode_iso19794_2(header, self.minutiae[:255])
        return data

    @classmethod
    def from_iso(cls, data: bytes) -> Template:
        """Read an ISO/IEC 19794-2:2005 record, checking its structure first."""
        if len(data) < 30 or data[:4] != ISO_MAGIC:
            raise BadTemplate(
                f"not an ISO/IEC 19794-2 finger minutiae record ({len(data)} bytes, "
                f"starts {bytes(data[:4])!r}, expected {ISO_MAGIC!r})"
            )
        total = struct.unpack(">I", data[8:12])[0]
        if total != len(data):
            raise BadTemplate(
                f"ISO/IEC 19794-2 record says {total} bytes but {len(data)} were given "
                "(truncated or padded)"
            )
        views = data[22]
        n = data[27]
        if views != 1:
            raise BadTemplate(f"expected one finger view, the record has {views}")
        if 24 + 4 + 6 * n + 2 > total:
            raise BadTemplate(f"record lists {n} minutiae but is only {total} bytes long")
        from afis.io import decode_iso19794_2

        header, minutiae = decode_iso19794_2(bytes(data))
        return cls(
            minutiae=np.asarray(minutiae, dtype=np.float64).reshape(-1, 5),
            width=int(header.width),
            height=int(header.height),
            finger_position=int(header.finger_position),
            quality=int(header.image_quality),
        )

    def quantised(self) -> Template:
        """The template as it reads back from its ISO record (what a gallery holds)."""
        m = self.minutiae[:255].copy()
        m[:, 0:2] = np.rint(m[:, 0:2])
        m[:, 2] = np.radians((np.rint(np.degrees(m[:, 2]) % 360.0 / 360.0 * 256) % 256) * 1.40625)
        m[:, 3] = np.where(m[:, 3].astype(np.int64) == 1, 1.0, 0.0)
        m[:, 4] = np.rint(np.clip(m[:, 4], 0.0, 1.0) * 255) / 255.0
        return Template(m, self.width, self.height, self.finger_position, int(self.quality))


def _native() -> Any:
    from afis._native import loader

    if not loader.available():
        raise NativeUnavailable(
            "the native NBIS library of afis (libafis_lfs.so) is not available",
            hint="run `make venv` (it builds afis/native and installs the library)",
        )
    return loader


def decode_image(data: bytes, *, max_bytes: int = MAX_IMAGE_BYTES) -> U8:
    """Uploaded bytes -> 8-bit greyscale array, or :class:`UnreadableImage` saying why."""
    if not data:
        raise UnreadableImage("the fingerprint image is empty (0 bytes)")
    if len(data) > max_bytes:
        raise UnreadableImage(
            f"the fingerprint image is {len(data)} bytes; the limit is {max_bytes}",
            hint="send a 500 ppi greyscale PNG or JPEG of one finger",
        )
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
            if max(w, h) > MAX_SIDE or min(w, h) < MIN_SIDE:
                raise UnreadableImage(
                    f"the fingerprint image is {w}x{h} pixels; expected each side between "
                    f"{MIN_SIDE} and {MAX_SIDE} (500 ppi, one finger)"
                )
            arr = np.asarray(im.convert("L"), dtype=np.uint8)
    except UnidentifiedImageError:
        raise UnreadableImage(
            "the upload is not an image this system can read",
            hint="send a PNG or JPEG (500 ppi greyscale)",
        ) from None
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise UnreadableImage(f"the image cannot be decoded: {exc}") from None
    return arr


def _as_array(image: bytes | U8) -> U8:
    if isinstance(image, bytes | bytearray | memoryview):
        return decode_image(bytes(image))
    arr = np.asarray(image)
    if arr.ndim != 2:
        raise UnreadableImage(f"expected a 2-D greyscale image, got shape {arr.shape}")
    h, w = arr.shape
    if max(w, h) > MAX_SIDE or min(w, h) < MIN_SIDE:
        raise UnreadableImage(
            f"the fingerprint image is {w}x{h} pixels; expected each side between "
            f"{MIN_SIDE} and {MAX_SIDE}"
        )
    return np.clip(arr, 0, 255).astype(np.uint8)


def quality_score(image: U8, minutiae: F64) -> int:
    """NFIQ2-style quality 0-100 (afis ``compute_nfiq2``) of a greyscale print."""
    import afis
    from afis.algorithms import orientation, segmentation
    from afis.algorithms.imageio import normalize

    normed = normalize(image.astype(np.float64))
    mask, _ = segmentation.segment(normed, block_size=16)
    ori = orientation.estimate_orientation(normed, block_size=16)
    coh = orientation.orientation_reliability(normed, ori)
    res = afis.compute_nfiq2(
        normed,
        mask=mask,
        orientation=ori,
        coherence=coh,
        n_minutiae=int(minutiae.shape[0]),
        minutiae=minutiae,
        block_size=16,
    )
    return round(float(res.score))


def extract(
    image: bytes | U8,
    *,
    finger_position: int = 0,
    min_quality: int = MIN_QUALITY,
    min_minutiae: int = MIN_MINUTIAE,
    with_quality: bool = True,
) -> Template:
    """Image (bytes or 8-bit array, 500 ppi) -> :class:`Template` (MINDTCT, native).

    Raises :class:`UnreadableImage` for bytes that are not a usable image and
    :class:`LowQuality` when the quality or the minutiae count is below the minimum
    (count that as a failure to enrol / acquire). ``with_quality=False`` skips the NFIQ2
    computation (about 0.2 s) and the quality gate -- for bulk calibration only.
    """
    arr = _as_array(image)
    if int(arr.max()) - int(arr.min()) < 16:
        raise LowQuality(
            "the image is blank (no ridge contrast)", quality=0, minutiae=0,
            hint="re-capture the finger",
        )  # fmt: skip
    loader = _native()
    try:
        minutiae, _meta = loader.mindtct_extract(arr, ppi=500.0)
    except RuntimeError as exc:
        raise UnreadableImage(f"minutiae extraction failed: {exc}") from None
    minutiae = np.asarray(minutiae, dtype=np.float64).reshape(-1, 5)
    if minutiae.shape[0] > MAX_MINUTIAE:
        keep = np.argsort(-minutiae[:, 4], kind="stable")[:MAX_MINUTIAE]
        minutiae = minutiae[np.sort(keep)]
    quality = quality_score(arr, minutiae) if with_quality else 0
    if with_quality and (quality < min_quality or minutiae.shape[0] < min_minutiae):
        raise LowQuality(
            f"print quality {quality} with {minutiae.shape[0]} minutiae is below the minimum "
            f"(quality {min_quality}, {min_minutiae} minutiae): failure to enrol",
            quality=quality,
            minutiae=int(minutiae.shape[0]),
            hint="re-capture the finger (clean, dry, pressed flat)",
        )
    h, w = arr.shape
    return Template(minutiae, int(w), int(h), int(finger_position), int(quality))


# --- Bozorth3 -------------------------------------------------------------------------


MATCH_MINUTIAE = 60  # Bozorth3 compares the most reliable 60 (its cost grows steeply)


class Packed:
    """A template packed once into the native library's struct (for repeated matching).

    Only the ``MATCH_MINUTIAE`` most reliable minutiae are used (as NBIS ``bozorth3 -m1``
    limits them): Bozorth3's time grows much faster than linearly with the count, and
    150-minutia pairs took up to 0.5 s each.
    """

    __slots__ = ("n", "struct")

    def __init__(self, t: Template, limit: int = MATCH_MINUTIAE) -> None:
        loader = _native()
        s = loader.AfisTemplate()
        m = t.minutiae
        if m.shape[0] > limit:
            keep = np.sort(np.argsort(-m[:, 4], kind="stable")[:limit])
            m = m[keep]
        n = min(int(m.shape[0]), int(loader.AFIS_MAX_MINUTIAE))
        s.n, s.width, s.height = n, int(t.width), int(t.height)
        if n:
            raw = (ctypes.c_char * ctypes.sizeof(s.minutiae)).from_buffer(s.minutiae)
            rec = np.frombuffer(memoryview(raw).cast("B"), dtype=_minutia_dtype(loader))
            rec["x"][:n] = np.rint(m[:n, 0]).astype(np.int32)
            rec["y"][:n] = np.rint(m[:n, 1]).astype(np.int32)
            deg = np.degrees(m[:n, 2]) % 360.0
            rec["direction"][:n] = np.rint((90.0 - deg) / (180.0 / 16)).astype(np.int64) % 32
            rec["reliability"][:n] = np.clip(m[:n, 4], 0.0, 1.0)
            rec["type"][:n] = np.where(m[:n, 3].astype(np.int64) == 0, 1, 0)
        self.struct = s
        self.n = n


_DTYPE: np.dtype[Any] | None = None


def _minutia_dtype(loader: Any) -> np.dtype[Any]:
    global _DTYPE
    if _DTYPE is None:
        c = loader.AfisMinutia
        _DTYPE = np.dtype(
            {
                "names": ["x", "y", "direction", "reliability", "type"],
                "formats": ["<i4", "<i4", "<i4", "<f8", "<i4"],
                "offsets": [getattr(c, f).offset for f in ("x", "y", "direction")]
                + [c.reliability.offset, c.type.offset],
                "itemsize": ctypes.sizeof(c),
            }
        )
    return _DTYPE


def match_packed(a: Packed, b: Packed) -> int:
    """Raw Bozorth3 score of two packed templates (symmetric maximum, as afis computes it)."""
    lib = _native()._LIB
    return int(lib.afis_bozorth3_match(ctypes.byref(a.struct), ctypes.byref(b.struct)))


def match(a: Template, b: Template) -> int:
    """Raw Bozorth3 score of two templates (customary decision threshold about 40)."""
    return match_packed(Packed(a), Packed(b))
