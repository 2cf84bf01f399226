"""Screen 4's panels as a person uses them (Playwright driving Debian's Chromium): a data
steward reads the linkage panel, opens a pair's waterfall and reports a wrong link with a
reason (back on the person page); an analyst takes the sensitive-data step on the
Intelligence tab; a constable sees the Biometrics tab (templates, no images; a search starts
from an upload); an auditor sees who viewed the person. Each screen is screenshotted and
checked with axe-core (helpers of tests/web/test_browser.py)."""

from __future__ import annotations

from typing import Any

from test_browser import check, sign_in
from test_person_panels import _person_with

STEWARD = ("admin-process", "checking the linkage today", "")
ANALYSIS = ("intelligence", "linked series of burglaries", "WY-2026-0077")
CRIME = ("crime", "suspect named by a witness", "WY-2026-0042")
OVERSIGHT = ("oversight", "reviewing recent access today", "")


def test_person_panels_by_role(served_rich: tuple[Any, str], page: Any) -> None:
    rich, base = served_rich
    linked = _person_with(rich, "links")
    intel = _person_with(rich, "intel")
    bio = _person_with(rich, "template")

    sign_in(page, base, "steward", STEWARD)
    page.goto(f"{base}/persons/{linked}")
    panel = page.get_by_role("region", name="Linkage")
    panel.get_by_role("table", name="Linkage").wait_for()
    check(page, "60-person-linkage-panel")
    panel.get_by_role("link", name="Waterfall").first.click()
    page.wait_for_url("**/links/explain?**")
    assert page.get_by_role("table", name="Match weight waterfall").is_visible()
    page.go_back()
    form = page.get_by_role("form").filter(has_text="Report wrong link").first
    form.get_by_label("Report wrong link").check()
    form.get_by_label("Reason (at least 3 words)").fill("the two dates of birth differ")
    form.get_by_label("Reason (at least 3 words)").press("Enter")  # keyboard-first
    page.wait_for_url("**/persons/R*?decided=*")
    assert "recorded" in page.get_by_role("status").first.inner_text()
    check(page, "61-person-linkage-decided")

    page.context.clear_cookies()  # sign out
    sign_in(page, base, "analyst", ANALYSIS)
    page.goto(f"{base}/persons/{intel}")
    page.get_by_role("navigation", name="Views of this person").get_by_role(
        "link", name="Intelligence"
    ).click()
    page.wait_for_url("**/intelligence")
    page.get_by_label("Why do you need the intelligence fields? (at least 3 words)").fill(
        "grading needed for the series"
    )
    page.get_by_role("button", name="Show sensitive fields").click()
    page.wait_for_url("**/intelligence?sensitive=*")
    assert "Sensitive-data step taken" in page.content()
    assert page.get_by_role("heading", name="Convictions (PNC)").is_visible()
    check(page, "62-person-intelligence")

    page.context.clear_cookies()  # sign out
    sign_in(page, base, "constable", CRIME)
    page.goto(f"{base}/persons/{linked}")  # a constable sees no linkage evidence, and is told
    assert "not available to your role" in page.locator("#linkage-not-permitted").inner_text()
    page.goto(f"{base}/persons/{bio}/biometrics")
    page.get_by_role("table", name="Enrolled templates").wait_for()
    assert page.locator("main img").count() == 0
    assert "starts from an uploaded photo" in page.locator("#no-probe").inner_text()
    check(page, "63-person-biometrics")

    page.context.clear_cookies()  # sign out
    sign_in(page, base, "auditor", OVERSIGHT)
    page.goto(f"{base}/persons/{linked}")
    viewed = page.get_by_role("table", name="Viewed by")
    viewed.wait_for()
    assert "pc123" in viewed.inner_text()
    check(page, "64-person-viewed-by")
