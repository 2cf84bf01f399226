"""Screens 3 and 4 as a person uses them (Playwright driving Debian's Chromium): an analyst
narrows person results by a facet, removes the filter, sorts by name and exports the page
(a CSV download, recorded as a disclosure), then narrows vehicle results by a facet and
exports that page too; a constable opens a person's link chart (drawn
by cytoscape.js, a related person expanded one hop and a path found), timeline
(vis-timeline) and map (Leaflet over the offline outline). Each screen is screenshotted and
checked with axe-core (helpers of tests/web/test_browser.py)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from test_browser import check, sign_in

ANALYSIS = ("crime-support", "mapping a burglary series", "WY-2026-0042")
CRIME = ("crime", "suspect named by a witness", "WY-2026-0042")


def test_results_facets_sort_and_export(served_rich: tuple[Any, str], page: Any) -> None:
    rich, base = served_rich
    sign_in(page, base, "analyst", ANALYSIS)
    page.get_by_label("Surname").fill(rich.surname[0] + "*")
    page.keyboard.press("Enter")
    page.wait_for_url("**surname=**")
    table = page.get_by_role("table", name="People found")
    table.wait_for()
    assert "answered" in page.locator(".source-status").inner_text()
    check(page, "26-results-facets")
    before = page.locator(".understood").inner_text()
    sex = page.locator(".facets a[href*='filter_sex=']").first
    sex.click()
    page.wait_for_url("**filter_sex=**")
    assert "Filtered by:" in page.locator(".active-filters").inner_text()
    check(page, "27-results-filtered")
    page.locator("a.badge.filter").first.click()
    page.wait_for_url(re.compile(r"^(?!.*filter_sex).*$"))
    assert page.locator(".understood").inner_text() == before
    page.get_by_role("navigation", name="Sort results").get_by_role("link", name="Name").click()
    page.wait_for_url("**sort=name**")
    names = page.get_by_role("table", name="People found").locator("tbody tr td:nth-child(2)")
    surnames = [n.split()[-1] for n in names.all_inner_texts()]
    assert surnames == sorted(surnames)
    check(page, "28-results-sorted")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export this page (CSV)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["rank", "person", "name"]
    assert len(rows) - 1 == names.count()
    assert re.fullmatch(r"leds-persons-\d+\.csv", download.value.suggested_filename)
    _vehicle_results_filtered_and_exported(rich, page)


def _vehicle_results_filtered_and_exported(rich: Any, page: Any) -> None:
    """The vehicle tab of the same screen: a facet narrows, the page downloads (PNC only, the
    analyst's vehicle source)."""
    with rich.service._store.engine.connect() as conn:  # the PNC marks' commonest start
        prefix = conn.exec_driver_sql(
            "SELECT substr(subject_id, 1, 2) AS p FROM records "
            "WHERE source='pnc' AND kind='vehicle' GROUP BY p ORDER BY count(*) DESC, p LIMIT 1"
        ).scalar_one()
    page.get_by_role("link", name="Vehicle", exact=True).click()
    page.get_by_label("Registration mark (partial allowed)").fill(prefix + "*")
    page.keyboard.press("Enter")
    table = page.get_by_role("table", name="Vehicles found")
    table.wait_for()
    assert "PNC: answered" in page.locator(".source-status").inner_text()
    check(page, "32-vehicle-results")
    marker = page.locator(".facets a[href*='filter_marker=']").first
    expected = int(marker.locator("xpath=following-sibling::span").inner_text())
    marker.click()
    page.wait_for_url("**filter_marker=**")
    assert "Filtered by:" in page.locator(".active-filters").inner_text()
    marks = table.locator("tbody tr")
    assert marks.count() == expected
    check(page, "33-vehicle-results-filtered")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export this page (CSV)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["rank", "vrm"]
    assert [r[1] for r in rows[1:]] == [
        t.strip() for t in table.locator("tbody tr td:nth-child(2) a").all_inner_texts()
    ]
    assert re.fullmatch(r"leds-vehicles-\d+\.csv", download.value.suggested_filename)


def test_person_link_chart_timeline_and_map(served_rich: tuple[Any, str], page: Any) -> None:
    rich, base = served_rich
    sign_in(page, base, "constable", CRIME)
    page.get_by_label("Surname").fill(rich.misspelt)
    page.keyboard.press("Enter")
    page.get_by_role("table", name="People found").get_by_role("link").filter(
        has_text=rich.surname
    ).first.click()
    page.wait_for_url("**/persons/**")
    page.get_by_role("navigation", name="Views of this person").get_by_role(
        "link", name="Link chart"
    ).click()
    page.wait_for_url("**/chart")
    page.locator("#chart canvas").first.wait_for()
    assert page.locator("#chart").is_visible()
    nodes = page.evaluate(
        "() => JSON.parse(document.getElementById('chart-data').textContent).nodes.length"
    )
    assert nodes >= 3
    related = page.locator("#chart-node option", has_text="(can expand)")
    if related.count():  # a related person: expand one hop (a recorded view of that person)
        page.get_by_label("Node", exact=True).select_option(related.first.get_attribute("value"))
        page.get_by_role("button", name="Expand one hop").click()
        page.wait_for_function(
            "() => document.getElementById('chart-selected').textContent.startsWith('Expanded')"
        )
        assert "audit entry" in page.locator("#chart-selected").inner_text()
    page.get_by_role("button", name="Find path").click()
    assert page.locator("#path-result").inner_text().startswith(("Path:", "No path"))
    check(page, "29-person-link-chart")
    page.get_by_role("link", name="Timeline").click()
    page.wait_for_url("**/timeline")
    page.locator("#timeline .vis-timeline").wait_for()
    assert page.locator("#timeline .vis-item").count() >= 1
    check(page, "30-person-timeline")
    page.get_by_role("link", name="Map", exact=True).click()
    page.wait_for_url("**/map")
    page.locator("#map[data-markers]").wait_for()
    assert int(page.locator("#map").get_attribute("data-markers") or 0) >= 1
    assert page.locator("#map canvas").count() >= 1
    assert "Approximate positions" in page.locator(".approx").inner_text()
    check(page, "31-person-map")
    outside = [u for u in page.requests if not u.startswith(base)]
    assert not outside, outside  # no tiles or anything else fetched from the network
