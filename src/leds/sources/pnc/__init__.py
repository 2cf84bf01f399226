"""PNC (criminal records): pipe-delimited typed lines, see docs/extracts.md."""

from leds.sources.pnc.parser import PncSource

__all__ = ["PncSource"]
