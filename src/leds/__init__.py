"""leds: Law Enforcement Data Service (synthetic data only)."""

__version__ = "0.1.0"
