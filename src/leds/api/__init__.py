"""The leds REST API and web UI (FastAPI): :func:`create_app` and :func:`serve`."""

from leds.api.app import create_app, serve

__all__ = ["create_app", "serve"]
