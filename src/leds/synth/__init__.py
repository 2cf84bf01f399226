"""Synthetic world generator: persons with known ground truth, written as four source systems.

All data is synthetic. Name data credits: see ``NOTICE.md`` and :mod:`leds.synth.names`.
"""

from leds.synth.world import WorldManifest, generate_world

__all__ = ["WorldManifest", "generate_world"]
