"""Vehicle results narrowed by facet filters, sorted and paged (the results screen's library
side): a filter keeps exactly the vehicles with that facet value and the counts become those of
the narrowed result; each sort reorders the same set; pages cover every vehicle once."""

from __future__ import annotations

from typing import Any

import pytest
from searchworld import SearchWorld
from sqlalchemy import text

from leds.search.errors import BadQuery
from leds.search.vehicles import (
    FACETS,
    VehicleQuery,
    VehicleResults,
    keeper_area,
    search_vehicles,
)


def _search(world: SearchWorld, **kw: Any) -> VehicleResults:
    kw.setdefault("limit", 1000)
    with world.store.engine.connect() as conn:
        return search_vehicles(conn, VehicleQuery(**kw))


def _broad(world: SearchWorld) -> dict[str, str]:
    """A search that finds many vehicles of several makes: the commonest colour."""
    column = "json_extract(payload, '$.COLOUR')"
    if world.backend != "sqlite":
        column = "payload::json->>'COLOUR'"
    with world.store.engine.connect() as conn:
        colour = conn.execute(
            text(
                f"SELECT {column} AS c, count(*) AS n FROM records "
                "WHERE source='dvla' AND kind='vehicle' GROUP BY c ORDER BY n DESC, c LIMIT 1"
            )
        ).scalar_one()
    return {"colour": str(colour)}


def test_each_facet_filter_keeps_exactly_its_vehicles(search_world: SearchWorld) -> None:
    broad = _broad(search_world)
    everyone = _search(search_world, **broad)
    assert everyone.total >= 5
    assert everyone.facets["source"]
    seen = 0
    for facet in FACETS:
        counts = everyone.facets[facet]
        if not counts:
            continue
        seen += 1
        value, n = next(iter(counts.items()))
        narrowed = _search(search_world, **broad, **{f"filter_{facet}": value.lower()})
        assert narrowed.total == n == len(narrowed.hits), (facet, value)
        assert narrowed.query.filters == {facet: value.lower()}
        assert narrowed.facets[facet][value] == n
        assert {h.vrm for h in narrowed.hits} <= {h.vrm for h in everyone.hits}
        # every facet counts the narrowed result: no value counts more vehicles than it holds
        assert all(c <= n for f in FACETS for c in narrowed.facets[f].values())
        for h in narrowed.hits:
            if facet == "make":
                assert h.make == value
            elif facet == "colour":
                assert h.colour == value
            elif facet == "marker":
                assert value in h.markers
            elif facet == "source":
                assert value in {r.source for r in h.records}
            else:
                current = [r for r in h.records if r.kind == "keeper"]
                assert any(
                    keeper_area(r.payload.get("KEEPER_POSTCODE")) == value
                    and not r.payload.get("END_DATE")
                    for r in current
                )
    assert seen >= 3
    none = _search(search_world, **broad, filter_make="NO SUCH MAKE")
    assert (none.total, none.hits) == (0, [])
    assert all(not c for c in none.facets.values())


def test_sorts_reorder_the_same_vehicles(search_world: SearchWorld) -> None:
    broad = _broad(search_world)
    by_relevance = _search(search_world, **broad)
    marked = [bool(h.markers) for h in by_relevance.hits]
    assert marked == sorted(marked, reverse=True)  # marked vehicles first
    vrms = {h.vrm for h in by_relevance.hits}
    by_vrm = _search(search_world, **broad, sort="vrm")
    assert [h.vrm for h in by_vrm.hits] == sorted(vrms)
    by_make = _search(search_world, **broad, sort="make")
    makes = [(h.make is None, h.make or "", h.model or "", h.vrm) for h in by_make.hits]
    assert makes == sorted(makes)
    newest = _search(search_world, **broad, sort="keeper_change")
    changes = [h.keeper_change or "" for h in newest.hits]
    assert changes == sorted(changes, reverse=True)
    assert any(changes)
    for other in (by_vrm, by_make, newest):
        assert {h.vrm for h in other.hits} == vrms
        assert other.facets == by_relevance.facets
    with pytest.raises(BadQuery, match="sort"):
        _search(search_world, **broad, sort="colour")


@pytest.mark.parametrize("sort", ["relevance", "make"])
def test_pages_cover_every_vehicle_once(search_world: SearchWorld, sort: str) -> None:
    broad = _broad(search_world)
    everyone = _search(search_world, **broad, sort=sort)
    source = next(iter(everyone.facets["source"]))
    whole = _search(search_world, **broad, sort=sort, filter_source=source)
    paged: list[str] = []
    offset = 0
    while True:
        page = _search(
            search_world, **broad, sort=sort, filter_source=source, limit=3, offset=offset
        )
        assert page.total == whole.total
        paged += [h.vrm for h in page.hits]
        offset += 3
        if offset >= page.total:
            break
    assert paged == [h.vrm for h in whole.hits]
    assert len(set(paged)) == len(paged) == whole.total


def test_keeper_area_is_the_leading_letters() -> None:
    assert keeper_area("LS2 6HU") == "LS"
    assert keeper_area("b1 1aa") == "B"
    assert keeper_area("") is None
    assert keeper_area(None) is None
