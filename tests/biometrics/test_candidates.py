"""Candidate lists: recorded searches (hash, parameters, threshold in force), ranks, leads."""

from __future__ import annotations

import json

import pytest
from biometric_rows import (
    ALGORITHM,
    NOW,
    Gallery,
    make_gallery,
    probe_hash,
    remove_template,
    shared_store,  # noqa: F401 - the module-scoped store fixture
)
from sqlalchemy import func, select

from leds.biometrics.candidates import (
    NOTICE,
    GalleryOutOfStep,
    SearchError,
    check_list_length,
    load_candidates,
    record_search,
)
from leds.errors import NotFound
from leds.store import Store
from leds.store.tables_biometrics import biometric_candidates, biometric_searches


@pytest.fixture
def store(shared_store: Store) -> Store:  # noqa: F811 - the imported fixture, requested
    """This module's tests share one store per backend (see biometric_rows.shared_store)."""
    return shared_store


@pytest.fixture
def gallery(store: Store) -> Gallery:
    with store.transaction() as conn:
        return make_gallery(conn, 30)


def _count(store: Store) -> int:
    with store.transaction() as conn:
        return int(conn.execute(select(func.count()).select_from(biometric_searches)).scalar_one())


def _search(store: Store, gallery: Gallery, person: int, **kw: object):  # type: ignore[no-untyped-def]
    with store.transaction() as conn:
        return record_search(
            conn,
            modality="face",
            probe_sha256=probe_hash(person),
            search=gallery.search_for(person),
            algorithm=ALGORITHM,
            actor_id="fso1",
            purpose="crime",
            case_ref="CASE/1",
            now=NOW,
            **kw,  # type: ignore[arg-type]
        )


def test_a_search_is_recorded_with_hash_parameters_and_threshold(
    store: Store, gallery: Gallery
) -> None:
    cl = _search(store, gallery, 7, parameters={"face": 0, "quality": 0.91})
    assert cl.notice == NOTICE == "investigative lead — not an identification"
    assert len(cl.candidates) == 20
    assert cl.list_length == 20
    assert [c.rank for c in cl.candidates] == list(range(1, 21))
    scores = [c.score for c in cl.candidates]
    assert scores == sorted(scores, reverse=True)
    top = cl.candidates[0]  # the probe's mate ranks first
    assert top.template_id == gallery.template_ids[7]
    assert top.record_id == gallery.custody_ids[7]
    assert top.record_kind == "custody"
    assert top.person_record_id == gallery.person_ids[7]
    assert top.person_source_id.startswith("PNDP000007")
    assert top.sample_ref.startswith("CI00000007")
    assert cl.threshold_version == 0
    assert cl.threshold == pytest.approx(0.82)
    assert [c.above_threshold for c in cl.candidates] == [s >= cl.threshold for s in scores]
    assert top.above_threshold
    assert not cl.candidates[-1].above_threshold
    assert set(cl.records_read) == {
        i for c in cl.candidates for i in (c.record_id, c.person_record_id)
    }
    with store.transaction() as conn:
        row = conn.execute(
            select(biometric_searches).where(biometric_searches.c.id == cl.search_id)
        ).one()
        n = conn.execute(
            select(func.count())
            .select_from(biometric_candidates)
            .where(biometric_candidates.c.search_id == cl.search_id)
        ).scalar()
    assert row.probe_sha256 == probe_hash(7)
    assert row.status == "open"
    assert row.algorithm == ALGORITHM
    assert row.threshold_version == 0
    assert (row.actor_id, row.purpose, row.case_ref) == ("fso1", "crime", "CASE/1")
    assert json.loads(row.parameters) == {"face": 0, "quality": 0.91, "list_length": 20}
    assert n == 20
    assert load_candidates_again(store, cl.search_id) == cl


def load_candidates_again(store: Store, search_id: int):  # type: ignore[no-untyped-def]
    with store.transaction() as conn:
        return load_candidates(conn, search_id)


def test_list_length_is_2_to_50_default_20(store: Store, gallery: Gallery) -> None:
    assert check_list_length(None) == 20
    before = _count(store)
    for length in (2, 50):
        cl = _search(store, gallery, 3, list_length=length)
        assert len(cl.candidates) == min(length, 30)  # the gallery holds 30
        assert cl.parameters["list_length"] == length
    for bad in (0, 1, 51, 200, -3, True, 2.5, "20"):
        with pytest.raises(SearchError, match="candidate list length") as err:
            _search(store, gallery, 3, list_length=bad)
        if isinstance(bad, int) and not isinstance(bad, bool):
            assert "outside 2-50" in str(err.value)
    assert _count(store) == before + 2  # nothing recorded for the refused ones


def test_a_probe_hash_is_required_and_parameters_cannot_carry_the_probe(
    store: Store, gallery: Gallery
) -> None:
    before = _count(store)
    for digest in ("", "abc", "z" * 64, "a" * 63):
        with store.transaction() as conn, pytest.raises(SearchError, match="SHA-256"):
            record_search(
                conn,
                modality="face",
                probe_sha256=digest,
                search=gallery.search_for(1),
                algorithm=ALGORITHM,
                actor_id="fso1",
                purpose="crime",
            )
    refused: list[tuple[dict[str, object], str]] = [
        ({"vector": [0.1, 0.2]}, "never stored"),
        ({"Image": "abc"}, "never stored"),
        ({"when": object()}, "plain JSON"),
        ({"quality": float("nan")}, "plain JSON"),
        ({"notes": "x" * 5000}, "limit"),
    ]
    for params, message in refused:
        with pytest.raises(SearchError, match=message):
            _search(store, gallery, 1, parameters=params)
    assert _count(store) == before


def test_removed_templates_are_never_candidates(store: Store, gallery: Gallery) -> None:
    with store.transaction() as conn:
        remove_template(conn, gallery.template_ids[4])
    cl = _search(store, gallery, 4, list_length=29)
    assert gallery.template_ids[4] not in {c.template_id for c in cl.candidates}
    assert len(cl.candidates) == 29  # the list is filled from further down
    assert cl.parameters["removed_templates_skipped"] == 1


def test_a_slot_without_a_template_is_refused(store: Store, gallery: Gallery) -> None:
    def search(k: int) -> list[tuple[int, float]]:
        return [(999, 0.9), *gallery.search_for(2)(k - 1)]

    with store.transaction() as conn, pytest.raises(GalleryOutOfStep, match="999"):
        record_search(
            conn,
            modality="face",
            probe_sha256=probe_hash(2),
            search=search,
            algorithm=ALGORITHM,
            actor_id="fso1",
            purpose="crime",
        )
    with store.transaction() as conn, pytest.raises(NotFound):
        load_candidates(conn, 12345)
