"""Real photos for face tests: the registry test images fetched by ``make venv`` into
``.cache/faces`` (never copied into the repo) and scikit-image's astronaut. Tests that need
them skip with a message saying how to fetch them."""

from __future__ import annotations

from pathlib import Path

import pytest

FACES = Path(__file__).resolve().parents[2] / ".cache" / "faces"


def photo(name: str) -> bytes:
    path = FACES / name
    if not path.is_file():
        pytest.skip(f"registry test photo {path} is missing: run `make venv` to fetch it")
    return path.read_bytes()


def astronaut() -> bytes:
    try:
        import skimage  # type: ignore[import-untyped]
    except ImportError:
        pytest.skip("scikit-image is not installed (its astronaut.png is a test photo)")
    path = Path(skimage.__file__).parent / "data" / "astronaut.png"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return path.read_bytes()


def needs_dlib() -> None:
    from leds.biometrics.face.errors import FaceModelUnavailable

    try:
        from leds.biometrics.face.dlib_model import _load

        _load()
    except FaceModelUnavailable as exc:
        pytest.skip(f"face model unavailable: {exc}")
