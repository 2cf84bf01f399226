"""The probe pipeline: decode -> detect -> quality check -> align -> embed.

Probe bytes are only held in memory: nothing here writes them anywhere. The result carries the
probe's SHA-256 (for the search record), the chosen face, its quality figures and the template.

Decoding uses Pillow on JPEG and PNG only; the byte limit is checked before decoding and the
pixel limit from the header, before pixels are decompressed (Pillow's decompression-bomb
guard is kept as a second line).
"""

from __future__ import annotations

import hashlib
import io
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from leds.biometrics.face.errors import (
    FaceQualityRefused,
    ImageDecodeError,
    ImageTooLarge,
    MultipleFaces,
    NoFaceFound,
    UnsupportedImageFormat,
)
from leds.biometrics.face.model import Detection, FaceBox, FaceModel, RGBImage, Template

FORMATS = ("JPEG", "PNG")


@dataclass(frozen=True, slots=True)
class Limits:
    """What a probe must satisfy. Sizes in pixels of the original image."""

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000
    min_face_px: int = 80  # face box width and height
    min_eye_distance_px: float = 40.0  # between eye centres (ICAO asks 90 for passports)
    min_detector_score: float = 0.5  # detections below ~0.2 are not faces at all
    max_outside: float = 0.05  # share of the face box that may lie outside the image


@dataclass(frozen=True, slots=True)
class DecodedImage:
    format: str
    width: int
    height: int
    pixels: RGBImage


@dataclass(frozen=True, slots=True)
class FaceQuality:
    face_width: int
    face_height: int
    eye_distance: float
    detector_score: float
    outside: float  # share of the box outside the image

    def as_dict(self) -> dict[str, float]:
        return {
            "face_width": self.face_width,
            "face_height": self.face_height,
            "eye_distance": round(self.eye_distance, 1),
            "detector_score": round(self.detector_score, 3),
            "outside": round(self.outside, 3),
        }


@dataclass(frozen=True, slots=True)
class Probe:
    """A processed probe: never the image, only its hash, the face used and the template."""

    sha256: str
    format: str
    width: int
    height: int
    faces: tuple[FaceBox, ...]  # every face found (the operator's choice is face_index)
    face_index: int
    quality: FaceQuality
    algorithm: str
    template: Template
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def box(self) -> FaceBox:
        return self.faces[self.face_index]

    def parameters(self) -> dict[str, Any]:
        """What a search record keeps about the probe (JSON-ready; no pixels, no template)."""
        return {
            "probe_sha256": self.sha256,
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "faces": len(self.faces),
            "face_index": self.face_index,
            "face": self.box.as_dict(),
            "quality": self.quality.as_dict(),
            "algorithm": self.algorithm,
        }


@dataclass(frozen=True, slots=True)
class FaceCheck:
    """A probe decoded, its faces detected and the chosen one assessed (not embedded): held in
    memory only, like the probe. ``reasons`` is empty when the face is good enough to search."""

    sha256: str
    image: DecodedImage
    detections: tuple[Detection, ...]
    face_index: int
    quality: FaceQuality
    reasons: tuple[str, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def faces(self) -> tuple[FaceBox, ...]:
        return tuple(d.box for d in self.detections)

    @property
    def passed(self) -> bool:
        return not self.reasons


def decode(data: bytes, limits: Limits = Limits()) -> DecodedImage:
    """Decode JPEG/PNG bytes to RGB pixels, refusing anything else or anything too large."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ImageDecodeError(f"expected image bytes, got {type(data).__name__}")
    size = len(data)
    if size == 0:
        raise ImageDecodeError("the upload is empty", hint="send a JPEG or PNG photo")
    if size > limits.max_bytes:
        raise ImageTooLarge(
            f"the upload is {size:,} bytes; the limit is {limits.max_bytes:,}",
            hint="send a smaller JPEG (a face search needs no more than a few megapixels)",
        )
    from PIL import Image, ImageOps, UnidentifiedImageError

    fmt = "image"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(bytes(data)))
            fmt = img.format or "?"
            if fmt not in FORMATS:
                raise UnsupportedImageFormat(
                    f"the upload is a {fmt} image; only JPEG and PNG are accepted",
                    hint="convert it to JPEG or PNG",
                )
            width, height = img.size
            if width * height > limits.max_pixels:
                raise ImageTooLarge(
                    f"the image is {width}x{height} = {width * height:,} pixels;"
                    f" the limit is {limits.max_pixels:,}",
                    hint="scale the photo down before searching",
                )
            img.load()
            rgb = ImageOps.exif_transpose(img).convert("RGB")
    except UnidentifiedImageError as exc:
        raise ImageDecodeError(
            "the upload is not a readable image", hint="send a JPEG or PNG photo"
        ) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(f"the image is too large to decode safely: {exc}") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageDecodeError(
            f"the {fmt} is corrupt or truncated: {exc}", hint="send the original file again"
        ) from exc
    pixels: RGBImage = np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
    return DecodedImage(fmt, rgb.width, rgb.height, pixels)


def assess(
    face: Detection, width: int, height: int, limits: Limits
) -> tuple[FaceQuality, list[str]]:
    """Quality figures of one face and the reasons (if any) it is refused."""
    b = face.box
    inside_w = max(0, min(b.right, width) - max(b.left, 0))
    inside_h = max(0, min(b.bottom, height) - max(b.top, 0))
    area = max(1, b.width * b.height)
    outside = 1.0 - (inside_w * inside_h) / area
    quality = FaceQuality(b.width, b.height, face.eye_distance, b.score, outside)
    reasons = []
    if min(b.width, b.height) < limits.min_face_px:
        reasons.append(f"face is {b.width}x{b.height} px, at least {limits.min_face_px} needed")
    if face.eye_distance < limits.min_eye_distance_px:
        reasons.append(
            f"eyes are {face.eye_distance:.0f} px apart,"
            f" at least {limits.min_eye_distance_px:.0f} needed"
        )
    if b.score < limits.min_detector_score:
        reasons.append(
            f"detector confidence {b.score:.2f} is below {limits.min_detector_score:.2f}"
            " (blurred, turned or partly hidden face?)"
        )
    if outside > limits.max_outside:
        reasons.append(f"{outside:.0%} of the face lies outside the image (face cut off)")
    return quality, reasons


class FacePipeline:
    """Turns probe bytes into a template with a :class:`FaceModel` (dlib by default)."""

    def __init__(self, model: FaceModel | None = None, limits: Limits | None = None) -> None:
        if model is None:
            from leds.biometrics.face.dlib_model import DlibFaceModel

            model = DlibFaceModel()
        self.model = model
        self.limits = limits or Limits()

    @property
    def algorithm(self) -> str:
        return self.model.algorithm

    def check(self, data: bytes, *, face_index: int | None = None) -> FaceCheck:
        """Decode, detect and assess one face of the probe, without embedding it: the steps a
        search takes before it embeds, and all a quality check needs.

        Not an image, too large, no face and several faces (unless ``face_index`` picks one)
        raise; a face of poor quality does not: its reasons are in the result.
        """
        t0 = time.perf_counter()
        sha = hashlib.sha256(bytes(data)).hexdigest() if data else ""
        image = decode(data, self.limits)
        t1 = time.perf_counter()
        faces = self.model.detect(image.pixels)
        t2 = time.perf_counter()
        if not faces:
            raise NoFaceFound(
                "no face found in the image",
                hint="use a photo where one face is clearly visible, frontal and uncovered",
            )
        boxes = tuple(f.box for f in faces)
        if face_index is None:
            if len(faces) > 1:
                raise MultipleFaces(boxes)
            face_index = 0
        if not 0 <= face_index < len(faces):
            raise (
                MultipleFaces(boxes)
                if len(faces) > 1
                else NoFaceFound(
                    f"face_index {face_index} does not exist: the image shows one face (index 0)"
                )
            )
        face = faces[face_index]
        quality, reasons = assess(face, image.width, image.height, self.limits)
        return FaceCheck(
            sha256=sha,
            image=image,
            detections=tuple(faces),
            face_index=face_index,
            quality=quality,
            reasons=tuple(reasons),
            timings_ms={"decode": (t1 - t0) * 1000, "detect": (t2 - t1) * 1000},
        )

    def process(self, data: bytes, *, face_index: int | None = None) -> Probe:
        """Decode, detect, check quality (:meth:`check`), align and embed one face of the probe.

        Several faces raise :class:`MultipleFaces` (listing the boxes) unless ``face_index``
        picks one (0 = first in that list); a face of poor quality raises
        :class:`FaceQualityRefused`.
        """
        checked = self.check(data, face_index=face_index)
        if checked.reasons:
            raise FaceQualityRefused(checked.reasons)
        t2 = time.perf_counter()
        image = checked.image
        template = self.model.embed(image.pixels, checked.detections[checked.face_index])
        t3 = time.perf_counter()
        return Probe(
            sha256=checked.sha256,
            format=image.format,
            width=image.width,
            height=image.height,
            faces=checked.faces,
            face_index=checked.face_index,
            quality=checked.quality,
            algorithm=self.model.algorithm,
            template=template,
            timings_ms={**checked.timings_ms, "embed": (t3 - t2) * 1000},
        )
