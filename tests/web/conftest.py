"""Fixtures of the web tests: the small world of tests/api/kit.py, served by uvicorn on
loopback for the browser tests, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "api"))

from kit import World, backend_store, build

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    root = tmp_path_factory.mktemp("web")
    pg = request.getfixturevalue("pg_admin") if request.param == "postgres" else None
    with backend_store(request.param, root, pg) as store:
        yield build(store, root)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(world.app, follow_redirects=False) as http:
        yield http


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, str]]:
    """The app over a SQLite world, served by uvicorn on 127.0.0.1 (a free port)."""
    import uvicorn

    root = tmp_path_factory.mktemp("served")
    with backend_store("sqlite", root, None) as store:
        world = build(store, root)
        config = uvicorn.Config(world.app, host="127.0.0.1", port=0, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield world, f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Debian's Chromium under Playwright (never a downloaded browser); HOME and XDG_* point
    at a temporary folder, since Chromium writes there."""
    if not CHROMIUM.exists():
        pytest.skip(
            "no /usr/bin/chromium: run `make chromium` (as root: apt-get install -y chromium) "
            "to run the browser tests"
        )
    from playwright.sync_api import sync_playwright

    home = tmp_path_factory.mktemp("chromium-home")
    saved = {k: os.environ.get(k) for k in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
    os.environ.update(
        HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), XDG_CACHE_HOME=str(home / "cache")
    )
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab (downloads accepted) whose console errors fail the test. The pages'
    Content-Security-Policy stays on: axe-core is loaded from /static/vendor. ``page.requests``
    lists every URL the tab fetched (the map must fetch no tiles)."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    requests: list[str] = []
    tab.on("request", lambda req: requests.append(req.url))
    tab.requests = requests
    yield tab
    context.close()
    # Refused, not-found and check-the-input pages log their HTTP status; nothing else may
    # fail in the page.
    unexpected = [e for e in errors if "status of 4" not in e]
    assert not unexpected, unexpected


@pytest.fixture(scope="session")
def rich(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The richer world of richworld.py (PNC, DVLA, PND, IABS; linked; faces enrolled)."""
    from richworld import build_rich

    root = tmp_path_factory.mktemp("rich")
    with backend_store("sqlite", root, None) as store:
        yield build_rich(store, root)


@pytest.fixture(scope="module")
def served_rich(rich: Any) -> Iterator[tuple[Any, str]]:
    """The rich world's app served by uvicorn on 127.0.0.1 (a free port)."""
    import uvicorn

    config = uvicorn.Config(rich.app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield rich, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
