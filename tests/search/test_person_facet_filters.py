"""Person results narrowed by facet filters and sorted (the results screen's library side):
a filter keeps exactly the persons with that facet value and the counts become those of the
narrowed result; sorting by name or date of birth reorders the same set."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from searchworld import SearchWorld
from sqlalchemy import text

from leds.search.errors import BadQuery
from leds.search.persons import FACETS, PersonQuery, PersonResults, search_persons

TODAY = date(2026, 11, 26)


def _search(world: SearchWorld, **kw: Any) -> PersonResults:
    kw.setdefault("today", TODAY)
    kw.setdefault("limit", 500)
    with world.store.engine.connect() as conn:
        return search_persons(conn, PersonQuery(**kw))


def _broad(world: SearchWorld) -> str:
    """A surname wildcard that finds many persons."""
    with world.store.engine.connect() as conn:
        letter = conn.execute(
            text(
                "SELECT substr(surname, 1, 1) AS l, count(*) AS n FROM records "
                "WHERE source='pnc' AND kind='person' AND surname IS NOT NULL "
                "GROUP BY l ORDER BY n DESC LIMIT 1"
            )
        ).scalar_one()
    return f"{letter}*"


def test_each_facet_filter_keeps_exactly_its_persons(search_world: SearchWorld) -> None:
    surname = _broad(search_world)
    everyone = _search(search_world, surname=surname)
    assert everyone.total >= 10
    for facet in FACETS:
        counts = everyone.facets[facet]
        if not counts:
            continue
        value, n = next(iter(counts.items()))
        narrowed = _search(search_world, surname=surname, **{f"filter_{facet}": value})
        assert narrowed.total == n, (facet, value)
        assert narrowed.query.filters == {facet: value}
        # every facet now counts the narrowed result; the filtered facet only has its value
        assert narrowed.facets[facet][value] == n
        assert sum(narrowed.facets["sex"].values()) == n
        keys = {h.key for h in narrowed.hits}
        assert keys <= {h.key for h in everyone.hits}
        if facet == "source":
            assert all(value in h.sources for h in narrowed.hits)
        if facet == "marker":
            assert all(value in h.markers for h in narrowed.hits)


def test_filters_combine_and_an_unknown_value_finds_nothing(search_world: SearchWorld) -> None:
    surname = _broad(search_world)
    everyone = _search(search_world, surname=surname)
    sex = next(iter(everyone.facets["sex"]))
    band = next(iter(_search(search_world, surname=surname, filter_sex=sex).facets["age_band"]))
    both = _search(search_world, surname=surname, filter_sex=sex, filter_age_band=band)
    assert 0 < both.total <= everyone.facets["sex"][sex]
    assert set(both.facets["sex"]) == {sex}
    assert set(both.facets["age_band"]) == {band}
    none = _search(search_world, surname=surname, filter_nationality="ATLANTIS")
    assert none.total == 0
    assert none.hits == []


def test_sort_by_name_and_by_date_of_birth(search_world: SearchWorld) -> None:
    surname = _broad(search_world)
    by_score = _search(search_world, surname=surname)
    by_name = _search(search_world, surname=surname, sort="name")
    by_dob = _search(search_world, surname=surname, sort="dob")
    assert {h.key for h in by_name.hits} == {h.key for h in by_score.hits}
    assert by_name.total == by_score.total == by_dob.total
    names = [h.best_name.split()[-1] for h in by_name.hits if h.best_name]
    assert names == sorted(names)
    dobs = [h.dob for h in by_dob.hits]
    known = [d for d in dobs if d]
    assert known == sorted(known)
    assert dobs[: len(known)] == known  # unknown dates of birth last
    # paging follows the sort
    second = _search(search_world, surname=surname, sort="name", limit=5, offset=5)
    assert [h.key for h in second.hits] == [h.key for h in by_name.hits[5:10]]


def test_an_unknown_sort_is_refused(search_world: SearchWorld) -> None:
    with pytest.raises(BadQuery):
        _search(search_world, surname="SMITH", sort="height")  # type: ignore[arg-type]
