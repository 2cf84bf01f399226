"""IABS (immigration biometrics): JSON batch documents, see docs/extracts.md."""

from leds.sources.iabs.parser import IabsSource

__all__ = ["IabsSource"]
