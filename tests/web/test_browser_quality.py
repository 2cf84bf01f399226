"""Screens 9 and 10 as a person uses them (Playwright driving Debian's Chromium, over the
richer world): a data steward opens Data quality from the navigation, then Biometric
performance, runs a small face evaluation from the form with the keyboard and reads its
figures, demographic tables and plots (each image served through its recorded route); a
facial-search operator reads the same screen without the form. Each screen is screenshotted
and checked with axe-core (helpers of tests/web/test_browser.py)."""

from __future__ import annotations

from typing import Any

from test_browser import check, sign_in

STEWARD = ("admin-process", "checking the sources today", "")
CRIME = ("crime", "image of an unknown suspect", "WY-2026-0042")


def test_quality_and_performance_screens(served_rich: tuple[Any, str], page: Any) -> None:
    _, base = served_rich
    sign_in(page, base, "steward", STEWARD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Data quality").click()
    page.wait_for_url("**/sources/quality")
    assert page.get_by_role("heading", name="Sources and data quality").is_visible()
    per_source = page.get_by_role("table", name="Per source")
    assert "pnc" in per_source.inner_text()
    assert page.get_by_role("table", name="Linkage runs").is_visible()
    assert page.get_by_role("heading", name="Model parameters").is_visible()
    assert "No retention rules are configured yet" in page.locator("#retention-state").inner_text()
    check(page, "80-data-quality")

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Biometric performance"
    ).click()
    page.wait_for_url("**/biometrics/performance")
    if page.get_by_text("No face evaluation recorded yet").count():
        check(page, "81-biometric-performance-empty")
    field = page.get_by_label("Persons in the gallery")
    field.fill("100")
    field.press("Enter")  # keyboard-first: submit from the field
    page.wait_for_url("**/biometrics/performance?evaluated=*")
    assert "was recorded" in page.get_by_role("status").first.inner_text()
    page.get_by_role("table", name="Face figures by sex").wait_for()
    assert page.get_by_role("table", name="Headline figures").first.is_visible()
    page.wait_for_load_state("networkidle")
    loaded = page.evaluate(
        "() => [...document.querySelectorAll('main img')]"
        ".map(i => i.complete && i.naturalWidth > 0)"
    )
    assert loaded
    assert all(loaded)
    check(page, "82-biometric-performance")

    page.context.clear_cookies()  # sign out
    sign_in(page, base, "operator", CRIME)
    page.goto(f"{base}/biometrics/performance")
    page.get_by_role("table", name="Face figures by sex").wait_for()
    assert page.get_by_role("button", name="Run a new evaluation").count() == 0
    assert "Evaluations are run by" in page.locator("#evaluate-not-permitted").inner_text()
