"""Face pipeline on real photos: decode errors, size limits, no face, several faces, quality
refusals, and three photos of one person ranking each other first among distractors."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from face_photos import astronaut, needs_dlib, photo
from PIL import Image

from leds.biometrics.face import (
    FaceQualityRefused,
    ImageDecodeError,
    ImageTooLarge,
    MultipleFaces,
    NoFaceFound,
    UnsupportedImageFormat,
)
from leds.biometrics.face.model import FaceModel
from leds.biometrics.face.pipeline import FacePipeline, Limits, Probe, decode
from leds.biometrics.gallery import FaceGallery
from leds.errors import LedsError
from leds.synth import biometrics as synth


@pytest.fixture(scope="module")
def pipeline() -> FacePipeline:
    needs_dlib()
    return FacePipeline()


@pytest.fixture(scope="module")
def probes(pipeline: FacePipeline) -> dict[str, Probe]:
    """Each usable test photo processed once (the pipeline costs ~0.3 s a photo)."""
    names = ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg", "32bit.png")
    out = {name: pipeline.process(photo(name)) for name in names}
    out["astronaut.png"] = pipeline.process(astronaut())
    return out


def _encode(img: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


# ---- decoding --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data",
    [b"", b"hello, this is not an image", bytes(range(256)) * 40, b"\x89PNG\r\n\x1a\n" + b"0" * 99],
    ids=["empty", "text", "binary", "png-signature-only"],
)
def test_non_images_are_refused_with_a_clear_error(data: bytes) -> None:
    with pytest.raises(ImageDecodeError) as info:
        decode(data)
    assert isinstance(info.value, LedsError)
    assert "JPEG or PNG" in str(info.value) or "image" in str(info.value)


def test_truncated_jpeg_is_refused() -> None:
    data = photo("obama.jpg")
    with pytest.raises(ImageDecodeError, match="corrupt or truncated"):
        decode(data[: len(data) // 3])


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_formats_are_refused(fmt: str) -> None:
    data = _encode(Image.new("RGB", (64, 64), (120, 90, 60)), fmt)
    with pytest.raises(UnsupportedImageFormat, match=f"{fmt} image; only JPEG and PNG"):
        decode(data)


def test_oversized_uploads_are_refused_before_decoding() -> None:
    data = photo("obama.jpg")
    with pytest.raises(ImageTooLarge, match="bytes; the limit is 1,000"):
        decode(data, Limits(max_bytes=1_000))
    with pytest.raises(ImageTooLarge, match="pixels; the limit is 100,000"):
        decode(data, Limits(max_pixels=100_000))
    # A small file that declares 81 megapixels: refused from its header alone.
    bomb = _encode(Image.new("1", (9_000, 9_000)), "PNG")
    assert len(bomb) < 200_000
    with pytest.raises(ImageTooLarge, match="81,000,000 pixels"):
        decode(bomb)


def test_png_with_alpha_decodes_to_rgb() -> None:
    img = decode(photo("32bit.png"))
    assert img.format == "PNG"
    assert img.pixels.shape == (img.height, img.width, 3)
    assert img.pixels.dtype == np.uint8


# ---- detection and quality -------------------------------------------------------------
def test_no_face(pipeline: FacePipeline) -> None:
    rng = np.random.default_rng(3)
    noise = Image.fromarray(rng.integers(0, 255, (400, 400, 3), dtype=np.uint8))
    with pytest.raises(NoFaceFound, match="no face found"):
        pipeline.process(_encode(noise, "PNG"))


def test_several_faces_are_listed_for_the_operator(pipeline: FacePipeline) -> None:
    a = Image.open(io.BytesIO(photo("obama.jpg"))).convert("RGB")
    b = Image.open(io.BytesIO(photo("biden.jpg"))).convert("RGB").resize((485, 1102))
    both = Image.new("RGB", (a.width + b.width, max(a.height, b.height)), (255, 255, 255))
    both.paste(a, (0, 0))
    both.paste(b, (a.width, 0))
    data = _encode(both, "JPEG")
    with pytest.raises(MultipleFaces) as info:
        pipeline.process(data)
    assert len(info.value.boxes) == 2
    assert "face_index" in str(info.value)
    assert "0: box left=" in str(info.value)
    assert "1: box left=" in str(info.value)
    chosen = [pipeline.process(data, face_index=i) for i in (0, 1)]
    assert {c.face_index for c in chosen} == {0, 1}
    # two different people: below cosine 0.91, dlib's raw distance 0.6 (see gallery.py)
    assert float(chosen[0].template @ chosen[1].template) < 0.91
    with pytest.raises(MultipleFaces):
        pipeline.process(data, face_index=2)


def test_cut_off_and_small_faces_are_refused(pipeline: FacePipeline) -> None:
    with pytest.raises(FaceQualityRefused, match="outside the image") as info:
        pipeline.process(photo("obama_partial_face.jpg"))
    assert info.value.reasons
    img = Image.open(io.BytesIO(photo("obama.jpg")))
    small = _encode(img.resize((img.width * 3 // 10, img.height * 3 // 10)), "JPEG")
    with pytest.raises(FaceQualityRefused, match="px apart, at least 40 needed"):
        pipeline.process(small)
    strict = FacePipeline(pipeline.model, Limits(min_detector_score=5.0))
    with pytest.raises(FaceQualityRefused, match="detector confidence"):
        strict.process(photo("obama2.jpg"))


def test_probe_result_holds_hash_and_template_not_the_image(probes: dict[str, Probe]) -> None:
    import hashlib

    probe = probes["obama.jpg"]
    assert probe.sha256 == hashlib.sha256(photo("obama.jpg")).hexdigest()
    assert probe.template.shape == (128,)
    assert abs(float(np.linalg.norm(probe.template)) - 1) < 1e-5
    params = probe.parameters()
    assert params["probe_sha256"] == probe.sha256
    assert params["algorithm"] == "dlib-resnet-v1/5pt-hog-1"
    for value in vars(probe).values() if hasattr(probe, "__dict__") else ():
        assert not isinstance(value, bytes)
    assert not any(isinstance(getattr(probe, f), bytes | bytearray) for f in probe.__slots__)


def test_the_same_photo_as_png_and_jpeg_gives_the_same_template(
    probes: dict[str, Probe],
) -> None:
    same = float(probes["obama2.jpg"].template @ probes["32bit.png"].template)
    assert same > 0.99


def test_model_is_replaceable() -> None:
    assert FaceModel.__abstractmethods__ == {"detect", "embed"}


# ---- ranking ---------------------------------------------------------------------------
def test_three_photos_of_one_person_rank_each_other_first(
    probes: dict[str, Probe], tmp_path: Path
) -> None:
    """Each Obama photo searched against a gallery of the other two, Biden, the astronaut
    and 2,000 synthetic templates: the two other Obama photos come first."""
    obamas = ["obama.jpg", "obama2.jpg", "obama3.jpg"]
    synthetic = np.stack(
        [synth.capture(4, i, 1, 70) for i in range(2_000)]
    )  # distractors from the generative model
    for probe_name in obamas:
        gallery = FaceGallery(tmp_path / probe_name)
        names = [n for n in obamas if n != probe_name] + ["biden.jpg", "astronaut.png"]
        gallery.append(np.stack([probes[n].template for n in names]))
        gallery.append(synthetic)
        hits = gallery.search(probes[probe_name].template, 5)
        assert {h.slot for h in hits[:2]} == {0, 1}, (probe_name, hits)
        assert hits[0].score > 0.85
        assert hits[2].score < hits[1].score - 0.05
