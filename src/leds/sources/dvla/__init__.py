"""DVLA (driver and vehicle register): three CSV kinds, see docs/extracts.md."""

from leds.sources.dvla.parser import DvlaSource

__all__ = ["DvlaSource"]
