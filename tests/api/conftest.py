"""Fixtures of the API tests: one small world per backend per module."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from kit import World, backend_store, build

# starlette's test client warns, at import, that it prefers httpx2 over httpx (DEPENDENCIES.md):
# a third-party deprecation, ignored here for that import only.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    root = tmp_path_factory.mktemp("api")
    pg = request.getfixturevalue("pg_admin") if request.param == "postgres" else None
    with backend_store(request.param, root, pg) as store:
        yield build(store, root)


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    with TestClient(world.app) as http:
        yield http
