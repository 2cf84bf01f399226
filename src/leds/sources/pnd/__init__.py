"""PND (intelligence and custody): JSON Lines, see docs/extracts.md."""

from leds.sources.pnd.parser import PndSource

__all__ = ["PndSource"]
