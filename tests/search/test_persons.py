"""Person search on the indexed, linked world (both backends): every mode, wildcards, variants,
swapped names, dates, description, postcode, identifiers, aliases, grouping, markers, facets,
paging."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from searchworld import SearchWorld
from sqlalchemy import text

from leds.link.names import name_variants
from leds.search.errors import BadQuery
from leds.search.persons import MARKER_ORDER, PersonQuery, PersonResults, search_persons

TODAY = date(2026, 11, 26)


def _rows(world: SearchWorld, sql: str) -> list[Any]:
    with world.store.engine.connect() as conn:
        return list(conn.execute(text(sql)))


def _search(world: SearchWorld, **kw: Any) -> PersonResults:
    kw.setdefault("today", TODAY)
    kw.setdefault("limit", 10)
    with world.store.engine.connect() as conn:
        return search_persons(conn, PersonQuery(**kw))


def _pnc_person(world: SearchWorld, offset: int = 0) -> Any:
    return _rows(
        world,
        "SELECT id, surname, forenames, dob, sex, pnc_id FROM records WHERE source='pnc' AND "
        "kind='person' AND dob IS NOT NULL AND forenames IS NOT NULL AND surname IS NOT NULL "
        f"AND length(surname) >= 5 ORDER BY id LIMIT 1 OFFSET {offset}",
    )[0]


def _rank_of(world: SearchWorld, results: PersonResults, record_id: int) -> int | None:
    pid = world.person_of_truth[world.truth[record_id]]
    for i, hit in enumerate(results.hits):
        if hit.person_id == pid:
            return i
    return None


def _dob(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def test_exact_name_and_dob_put_the_person_first(search_world: SearchWorld) -> None:
    p = _pnc_person(search_world)
    found = _search(search_world, surname=p.surname.lower(), forenames=p.forenames, dob=_dob(p.dob))
    assert _rank_of(search_world, found, p.id) == 0
    top = found.hits[0]
    assert top.matched["surname"] == "exact"
    assert top.matched["dob"] == "exact"
    assert top.band == "high"
    assert top.sources["pnc"] >= 1
    assert p.pnc_id in top.identifiers["pnc_id"]
    assert p.id in top.record_ids
    assert found.record_ids
    assert found.person_ids


def test_a_person_is_one_row_across_sources(search_world: SearchWorld) -> None:
    # a person with records in three sources
    pid, n = max(
        ((pid, sum(1 for v in search_world.truth.values() if v == pid)) for pid in
         set(search_world.truth.values())),
        key=lambda x: x[1],
    )  # fmt: skip
    rid = min(r for r, v in search_world.truth.items() if v == pid)
    row = _rows(search_world, f"SELECT surname, forenames, dob FROM records WHERE id = {rid}")[0]
    found = _search(
        search_world, surname=row.surname, forenames=row.forenames, year=_dob(row.dob).year
    )
    rank = _rank_of(search_world, found, rid)
    assert rank is not None
    hit = found.hits[rank]
    assert sum(hit.sources.values()) == n
    keys = [h.key for h in found.hits]
    assert len(keys) == len(set(keys))


def test_misspelt_surname_is_found_phonetically_and_fuzzily(search_world: SearchWorld) -> None:
    p = _pnc_person(search_world, 3)
    s = p.surname
    doubled = s[:2] + s[2] + s[2:]  # HARRISON -> HARRRISON
    phon = _search(
        search_world, surname=doubled, forenames=p.forenames, year=_dob(p.dob).year,
        mode="phonetic",
    )  # fmt: skip
    assert _rank_of(search_world, phon, p.id) == 0
    typo = s[0] + s[2] + s[1] + s[3:]  # transposition
    fuzzy = _search(search_world, surname=typo, forenames=p.forenames, dob=_dob(p.dob))
    assert _rank_of(search_world, fuzzy, p.id) == 0
    assert fuzzy.hits[0].matched["surname"] in ("fuzzy", "phonetic")
    exact = _search(
        search_world, surname=typo, forenames=p.forenames, dob=_dob(p.dob), mode="exact"
    )
    assert _rank_of(search_world, exact, p.id) is None


def test_nickname_variants_match(search_world: SearchWorld) -> None:
    candidates = _rows(
        search_world,
        "SELECT id, surname, forenames, dob FROM records WHERE kind='person' AND "
        "source='pnc' AND dob IS NOT NULL ORDER BY id",
    )
    for row in candidates:
        first = row.forenames.split(" ")[0]
        others = sorted(
            v for v in name_variants(first) if v != first and v[0] != first[0] and len(v) > 2
        )
        if others:
            break
    else:
        pytest.skip("no forename with a variant in this world")
    found = _search(
        search_world, surname=row.surname, forenames=others[0], dob=_dob(row.dob), mode="phonetic"
    )
    rank = _rank_of(search_world, found, row.id)
    assert rank == 0
    assert found.hits[0].matched["forenames"] == "variant"


def test_swapped_names_are_found(search_world: SearchWorld) -> None:
    p = _pnc_person(search_world, 5)
    first = p.forenames.split(" ")[0]
    found = _search(search_world, surname=first, forenames=p.surname, dob=_dob(p.dob))
    assert _rank_of(search_world, found, p.id) == 0
    assert "swapped" in found.hits[0].matched["surname"]


def test_wildcards(search_world: SearchWorld) -> None:
    p = _pnc_person(search_world, 7)
    s = p.surname
    for pattern in (s[:3] + "*", s[:2] + "?" + s[3:], s[0] + "*" + s[-1]):
        found = _search(search_world, surname=pattern, year=_dob(p.dob).year, limit=50)
        assert _rank_of(search_world, found, p.id) is not None, pattern
        assert all(h.matched["surname"] == "wildcard" for h in found.hits)
    with pytest.raises(BadQuery, match="first letter"):
        _search(search_world, surname="*SON")


def test_dates_of_birth_exact_range_year_and_age(search_world: SearchWorld) -> None:
    p = _pnc_person(search_world, 9)
    dob = _dob(p.dob)
    age = TODAY.year - dob.year - ((TODAY.month, TODAY.day) < (dob.month, dob.day))
    queries = [
        {"dob": dob},
        {"year": dob.year},
        {"dob_from": date(dob.year, 1, 1), "dob_to": date(dob.year, 12, 31)},
        {"age_from": age, "age_to": age},
    ]
    for extra in queries:
        found = _search(search_world, surname=p.surname, limit=50, **extra)
        assert _rank_of(search_world, found, p.id) is not None, extra
        for hit in found.hits:
            if hit.dob and "dob" in hit.matched:
                assert hit.matched["dob"] in ("exact", "transposed", "year", "range")
    wrong_year = _search(search_world, surname=p.surname, year=dob.year + 30)
    assert _rank_of(search_world, wrong_year, p.id) is None
    older = _search(search_world, surname=p.surname, age_from=age + 1, age_to=age + 5)
    assert _rank_of(search_world, older, p.id) is None


def test_transposed_day_and_month_still_scores(search_world: SearchWorld) -> None:
    p = next(
        r
        for r in _rows(
            search_world,
            "SELECT id, surname, forenames, dob FROM records WHERE source='pnc' AND "
            "kind='person' AND dob IS NOT NULL ORDER BY id",
        )
        if _dob(r.dob).day <= 12 and _dob(r.dob).day != _dob(r.dob).month
    )
    d = _dob(p.dob)
    found = _search(
        search_world, surname=p.surname, forenames=p.forenames, dob=date(d.year, d.day, d.month)
    )
    rank = _rank_of(search_world, found, p.id)
    assert rank is not None
    assert found.hits[rank].matched["dob"] in ("transposed", "exact")


def test_sex_height_and_build_filter(search_world: SearchWorld) -> None:
    rid, payload = _rows(
        search_world,
        "SELECT id, payload FROM records WHERE source='pnc' AND kind='person' "
        'AND payload LIKE \'%"marks":"%\' ORDER BY id LIMIT 1 OFFSET 3',
    )[0]
    body = json.loads(payload)
    s, h, build = body["surname"], body["height_cm"], body["build"]
    ok = _search(
        search_world, surname=s, sex=body["sex"], height_from=h - 2, height_to=h + 2,
        build=build.lower(), limit=50,
    )  # fmt: skip
    assert _rank_of(search_world, ok, rid) is not None
    other = "F" if body["sex"] == "M" else "M"
    assert _rank_of(search_world, _search(search_world, surname=s, sex=other), rid) is None
    assert _rank_of(search_world, _search(search_world, surname=s, height_from=h + 5), rid) is None
    mark = body["marks"].split(" ")[-1].lower()
    with_mark = _search(search_world, surname=s, marks=mark, limit=50)
    rank = _rank_of(search_world, with_mark, rid)
    assert rank is not None
    assert with_mark.hits[rank].matched["marks"] == "exact"
    no_mark = _search(search_world, surname=s, marks="ZZZZ", limit=50)
    assert _rank_of(search_world, no_mark, rid) is None


def test_postcode_sector_and_address_fragment(search_world: SearchWorld) -> None:
    rid, payload, surname = _rows(
        search_world,
        "SELECT r.id, a.payload, r.surname FROM records r JOIN records a ON a.source='pnc' AND "
        "a.kind='address' AND a.subject_id = r.source_record_id WHERE r.source='pnc' AND "
        "r.kind='person' ORDER BY r.id LIMIT 1",
    )[0]
    addr = json.loads(payload)
    postcode = addr["postcode"]
    by_pc = _search(search_world, postcode=postcode.lower(), limit=50)
    assert _rank_of(search_world, by_pc, rid) is not None
    sector = postcode[:-2]
    by_sector = _search(search_world, surname=surname, postcode=sector, limit=50)
    assert _rank_of(search_world, by_sector, rid) is not None
    street = " ".join(addr["line1"].split(" ")[1:])
    by_addr = _search(search_world, surname=surname, address=street.lower(), limit=50)
    assert _rank_of(search_world, by_addr, rid) is not None
    assert all(h.matched.get("address") == "exact" for h in by_addr.hits)
    with pytest.raises(BadQuery, match="postcode"):
        _search(search_world, surname=surname, postcode="NOT A PC")


def test_identifier_in_a_person_search(search_world: SearchWorld) -> None:
    p = _pnc_person(search_world, 13)
    found = _search(search_world, identifier=p.pnc_id)
    assert _rank_of(search_world, found, p.id) == 0
    assert found.hits[0].matched["identifier"] == "exact"


def test_aliases_are_searched(search_world: SearchWorld) -> None:
    rows = _rows(
        search_world,
        "SELECT a.id AS alias_id, a.payload, r.id, r.surname FROM records a JOIN records r ON "
        "r.source='pnc' AND r.kind='person' AND r.source_record_id = a.subject_id "
        "WHERE a.source='pnc' AND a.kind='alias' ORDER BY a.id",
    )
    row = next(r for r in rows if json.loads(r.payload)["surname"] != r.surname)
    alias = json.loads(row.payload)
    found = _search(
        search_world, surname=alias["surname"], forenames=alias["forenames"],
        dob=date.fromisoformat(alias["dob"]), mode="exact",
    )  # fmt: skip
    rank = _rank_of(search_world, found, row.id)
    assert rank is not None
    assert found.hits[rank].matched_record_id == row.alias_id
    assert row.alias_id in found.hits[rank].record_ids


def test_markers_come_first_and_facets_count_results(search_world: SearchWorld) -> None:
    rid, surname, marker = _rows(
        search_world,
        "SELECT r.id, r.surname, m.payload FROM records r JOIN records m ON m.source='pnc' AND "
        "m.kind='marker' AND m.subject_id = r.source_record_id WHERE r.source='pnc' AND "
        "r.kind='person' ORDER BY r.id LIMIT 1",
    )[0]
    kind = json.loads(marker)["marker_type"]
    found = _search(search_world, surname=surname[:2] + "*", limit=200)
    rank = _rank_of(search_world, found, rid)
    assert rank is not None
    assert kind in found.hits[rank].markers
    scores = [h.score for h in found.hits]
    assert scores == sorted(scores, reverse=True)
    for score in set(scores):  # at equal score, marked persons come before unmarked ones
        flags = [bool(h.markers) for h in found.hits if h.score == score]
        assert flags == sorted(flags, reverse=True)
    for hit in found.hits:  # warning signals first within each hit
        order = [MARKER_ORDER.index(m) if m in MARKER_ORDER else 99 for m in hit.markers]
        assert order == sorted(order)
    assert found.facets["marker"][kind] >= 1
    assert sum(found.facets["sex"].values()) == found.total
    assert sum(found.facets["age_band"].values()) == found.total
    assert set(found.facets["source"]) <= {"pnc", "pnd", "dvla", "iabs"}


def test_paging_is_consistent(search_world: SearchWorld) -> None:
    p = _pnc_person(search_world)
    everything = _search(search_world, surname=p.surname[:2] + "*", limit=100)
    assert everything.total > 3
    first = _search(search_world, surname=p.surname[:2] + "*", limit=2)
    second = _search(search_world, surname=p.surname[:2] + "*", limit=2, offset=2)
    assert [h.key for h in first.hits + second.hits] == [h.key for h in everything.hits[:4]]
    assert first.total == everything.total


def test_vague_or_malformed_person_searches_are_refused(search_world: SearchWorld) -> None:
    with pytest.raises(BadQuery, match="needs a surname"):
        _search(search_world, sex="M")
    with pytest.raises(BadQuery, match="mode"):
        _search(search_world, surname="SMITH", mode="psychic")
    with pytest.raises(BadQuery, match="limit"):
        _search(search_world, surname="SMITH", limit=0)


def test_saved_model_weights_replace_the_defaults(search_world: SearchWorld, tmp_path: Any) -> None:
    from leds.search.weights import model_weights

    assert model_weights(tmp_path) is None
    models = tmp_path / "link" / "models"
    models.mkdir(parents=True)
    (models / "CURRENT").write_text("m1\n")
    levels = [
        {"is_null_level": True, "label_for_charts": "null"},
        {"label_for_charts": "exact", "m_probability": 0.9, "u_probability": 0.0009},
        {"label_for_charts": "day/month swapped", "m_probability": 0.02, "u_probability": 0.001},
        {"label_for_charts": "year only", "m_probability": 0.04, "u_probability": 0.01},
        {"label_for_charts": "else", "m_probability": 0.04, "u_probability": 0.988},
    ]
    (models / "m1.json").write_text(
        json.dumps({"splink": {"comparisons": [
            {"output_column_name": "dob", "comparison_levels": levels}
        ]}})
    )  # fmt: skip
    version, weights = model_weights(tmp_path) or ("", {})
    assert version == "m1"
    assert weights["dob"]["exact"] == pytest.approx(9.966, abs=1e-3)  # log2(1000)
    assert weights["dob"]["year"] == pytest.approx(2.0)
    assert weights["dob"]["none"] < 0
    p = _pnc_person(search_world)
    query = PersonQuery(surname=p.surname, forenames=p.forenames, dob=_dob(p.dob), today=TODAY)
    with search_world.store.engine.connect() as conn:
        default = search_persons(conn, query).hits[0]
        tuned = search_persons(conn, query, weights={"dob": {"exact": 20.0}}).hits[0]
    assert tuned.key == default.key
    assert tuned.score == pytest.approx(default.score + 10.0)


def test_sources_restrict_the_records_searched_and_shown(search_world: SearchWorld) -> None:
    p = _pnc_person(search_world)
    everything = _search(search_world, surname=p.surname, forenames=p.forenames, dob=_dob(p.dob))
    assert "pnc" in everything.hits[0].sources
    only = _search(
        search_world, surname=p.surname, forenames=p.forenames, dob=_dob(p.dob),
        sources=frozenset({"dvla", "pnd", "iabs"}),
    )  # fmt: skip
    assert all(r.source != "pnc" for h in only.hits for r in h.records)
    assert all("pnc" not in h.sources for h in only.hits)
    assert "pnc" not in only.facets["source"]
