"""The face model interface: replace dlib by another model by implementing :class:`FaceModel`.

A model detects faces (box, detector score, five landmarks: two corners of each eye and the
nose tip, in image pixels) and turns one detected face into a template. Templates are compared
by cosine similarity after unit normalisation (the gallery stores unit vectors).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

RGBImage = npt.NDArray[np.uint8]  # (height, width, 3)
Template = npt.NDArray[np.float32]  # (dim,), unit length


@dataclass(frozen=True, slots=True)
class FaceBox:
    """A face's bounding box in image pixels (right/bottom exclusive) and detector score."""

    left: int
    top: int
    right: int
    bottom: int
    score: float

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def describe(self) -> str:
        return (
            f"box left={self.left} top={self.top} width={self.width} height={self.height}"
            f" score={self.score:.2f}"
        )

    def as_dict(self) -> dict[str, int | float]:
        return {
            "left": self.left,
            "top": self.top,
            "width": self.width,
            "height": self.height,
            "score": round(self.score, 3),
        }


@dataclass(frozen=True, slots=True)
class Detection:
    """One detected face: its box and five landmarks ``(x, y)`` (eye corners 0-3, nose 4)."""

    box: FaceBox
    landmarks: tuple[tuple[float, float], ...]

    @property
    def eye_distance(self) -> float:
        """Distance in pixels between the two eye centres (landmarks 0+1 and 2+3)."""
        (ax, ay), (bx, by), (cx, cy), (dx, dy) = self.landmarks[:4]
        return float(np.hypot((ax + bx) / 2 - (cx + dx) / 2, (ay + by) / 2 - (cy + dy) / 2))


class FaceModel(ABC):
    """A face detector + embedder. ``algorithm`` names it in templates and search records."""

    name: str
    version: str
    dim: int

    @property
    def algorithm(self) -> str:
        return f"{self.name}/{self.version}"

    @abstractmethod
    def detect(self, image: RGBImage) -> list[Detection]:
        """Faces in the image, best first; detections too weak to be faces are left out."""

    @abstractmethod
    def embed(self, image: RGBImage, face: Detection) -> Template:
        """Align the face (from its landmarks) and return its unit-length template."""


def unit(vector: npt.ArrayLike) -> Template:
    """The vector as float32 scaled to unit length."""
    v = np.asarray(vector, dtype=np.float64).reshape(-1)
    norm = float(np.linalg.norm(v))
    if not np.isfinite(norm) or norm == 0.0:
        raise ValueError("a template must be a finite, non-zero vector")
    out: Template = (v / norm).astype(np.float32)
    return out
