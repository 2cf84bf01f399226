"""The web UI as a person uses it: Debian's Chromium driven by Playwright over a real server.

A data steward signs in, sets a purpose, views the imports and a rejected row, opens a
record; an auditor sees that access in the audit view, verifies the log and opens a proof; a
constable is refused the audit view with the policy's reason. Every screen is checked with
axe-core (no violations) and saved as a screenshot in tests/web/screenshots/ (git-ignored).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from kit import PASSWORD, USERS, World
from review_kit import second_operator

AXE = Path(__file__).resolve().parents[2] / "src/leds/web/static/vendor/axe.min.js"


SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


def check(page: Any, name: str) -> None:
    """Screenshot the screen and assert axe-core finds no accessibility violation."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    if not AXE.exists():
        pytest.skip(f"axe-core missing ({AXE}): run `make web-assets` for the accessibility check")
    page.add_script_tag(url="/static/vendor/axe.min.js")
    result = page.evaluate("async () => (await axe.run(document)).violations")
    problems = [
        f"{v['id']}: {v['help']} ({', '.join(n['target'][0] for n in v['nodes'][:3])})"
        for v in result
    ]
    assert not problems, f"{name}: " + json.dumps(problems, indent=1)


def sign_in(page: Any, base: str, who: str, purpose: tuple[str, str, str]) -> None:
    sign_in_as(page, base, USERS[who][0], purpose)


def sign_in_as(page: Any, base: str, user_id: str, purpose: tuple[str, str, str]) -> None:
    page.goto(f"{base}/")
    page.get_by_label("User ID").fill(user_id)
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")  # keyboard-first: submit from the field
    page.wait_for_url("**/purpose**")
    page.get_by_label("Purpose", exact=True).select_option(purpose[0])
    page.get_by_label("Justification").fill(purpose[1])
    page.get_by_label("Case or incident reference").fill(purpose[2])
    page.get_by_role("button", name="Set purpose").click()
    page.wait_for_url("**/search**")


def test_steward_auditor_and_refused_constable(served: tuple[World, str], page: Any) -> None:
    world, base = served
    page.goto(f"{base}/")
    page.wait_for_url("**/login**")
    check(page, "01-sign-in")

    # Wrong password: an error state, no session.
    page.get_by_label("User ID").fill("steward1")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().find("wrong password") >= 0
    check(page, "02-sign-in-refused")

    page.get_by_label("User ID").fill(USERS["steward"][0])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/purpose**")
    check(page, "03-purpose-gate")
    page.get_by_label("Purpose", exact=True).select_option("admin-process")
    page.get_by_label("Justification").fill("checking last night's import")
    page.get_by_role("button", name="Set purpose").click()
    page.wait_for_url("**/search**")
    assert "admin-process" in page.locator(".purpose-bar").inner_text()
    check(page, "04-search-form")

    page.get_by_label("Surname").fill("Smiht")
    page.keyboard.press("Enter")
    page.wait_for_url("**surname=Smiht**")
    # A data steward may not search persons: the refused state, with the policy's reason.
    assert "no policy permits it" in page.get_by_role("alert").inner_text()

    page.get_by_role("link", name="Sources").click()
    page.wait_for_url("**/imports")
    assert "pnc-00001.txt" in page.inner_text("main")
    check(page, "05-imports")
    page.get_by_role("link", name=f"rejected rows of import {world.import_id}").click()
    page.wait_for_url("**/rejections")
    assert "pnc_id" in page.inner_text("main")
    check(page, "06-rejections")

    page.get_by_role("link", name="Records").click()
    page.get_by_label("Source", exact=True).select_option("pnc")
    page.get_by_label("Kind", exact=True).fill("person")
    page.get_by_label("Source record ID").fill("2001/0171310W")
    page.get_by_role("button", name="Open record").click()
    page.wait_for_url("**/records/pnc/person/**")
    assert "SMITH" in page.inner_text("main")
    recorded = page.locator(".recorded").inner_text()
    check(page, "07-record")
    assert "admin-process" in recorded
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")

    sign_in(page, base, "auditor", ("oversight", "monthly review of record access", ""))
    page.get_by_role("link", name="Audit").click()
    page.wait_for_url("**/audit")
    table = page.get_by_role("table", name="Audit entries")
    steward_reads = table.locator("tr", has_text="view_record").filter(has_text="steward1")
    assert steward_reads.count() >= 1
    check(page, "08-audit")
    page.get_by_role("button", name="Verify the whole log").click()
    page.locator("#integrity-status").get_by_text("Verified").wait_for()
    row = steward_reads.last
    row.locator("summary").click()
    row.get_by_role("link", name="Inclusion proof").click()
    row.get_by_text("hashes prove it is in the signed log").wait_for()
    check(page, "09-audit-verified-and-proof")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, base, "constable", ("crime", "suspect named by a witness", "WY-2026-0042"))
    response = page.goto(f"{base}/audit")
    assert response is not None
    assert response.status == 403
    alert = page.get_by_role("alert").inner_text()
    assert "Refused" in alert
    assert "no policy permits it" in alert
    check(page, "10-refused")
    missing = page.goto(f"{base}/records/pnc/person/2099/0000001A")
    assert missing is not None
    assert missing.status == 404
    check(page, "11-not-found")


PHOTO = Path(__file__).resolve().parents[2] / ".cache/faces/obama.jpg"
# A file dropped on the face search's drop zone (a real drag of a file from the desktop is
# not something Playwright can drive): a DataTransfer with the photo, dragover then drop.
DROP = """(b64) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const dt = new DataTransfer();
  dt.items.add(new File([bytes], "dropped.jpg", { type: "image/jpeg" }));
  const zone = document.getElementById("drop-zone");
  for (const type of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  }
}"""
CASE = "WY-2026-0042"
CRIME = ("crime", "suspect named by a witness", CASE)


def test_search_person_vehicle_face_review_and_audit(
    served_rich: tuple[Any, str], page: Any
) -> None:
    """A constable finds a person by a misspelt surname, opens the person and follows a
    linked vehicle (PND unticked: "not asked"); a facial-search operator runs a face search,
    decides every candidate and opens a hidden identity; a second operator adds a second review,
    downloads the decision record (JSON), closes the search and downloads it again (CSV); an
    auditor sees the search and both downloads (disclosures) in the audit view and is refused
    a person search."""
    rich, base = served_rich
    sign_in(page, base, "constable", CRIME)
    # Only the sources a constable may search are offered, all ticked; PND is left out here.
    offered = page.get_by_role("group", name="Sources to search").get_by_role("checkbox")
    assert offered.count() == 3
    assert all(offered.nth(i).is_checked() for i in range(3))
    assert page.get_by_label("IABS (immigration and biometrics)").count() == 0
    check(page, "12-search-person-form")
    page.get_by_label("PND (intelligence and custody)").uncheck()
    page.get_by_label("Surname").fill(rich.misspelt)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**surname={rich.misspelt}**")
    results = page.get_by_role("table", name="People found")
    person_link = results.get_by_role("link").filter(has_text=rich.surname).first
    person_link.wait_for()
    assert "recorded as audit entry" in page.locator(".recorded").inner_text()
    status = page.get_by_role("status", name="What each source did").inner_text()
    assert "PND: not asked" in status
    assert "IABS: not permitted" in status
    assert not page.get_by_label("PND (intelligence and custody)").is_checked()
    check(page, "13-person-results")
    person_link.click()
    page.wait_for_url("**/persons/**")
    assert page.get_by_role("heading", name="Golden record").is_visible()
    check(page, "14-person")
    page.get_by_role("link", name=rich.vrm).first.click()
    page.wait_for_url(f"**/vehicles/{rich.vrm}")
    assert rich.surname in page.get_by_role("table", name="Keepers and linked people").inner_text()
    check(page, "15-vehicle")
    identifier = page.goto(f"{base}/search?tab=identifier&value=2001%2F0171310X")
    assert identifier is not None
    assert identifier.status == 422
    assert "Did you mean 2001/0171310W?" in page.locator("#results").inner_text()
    check(page, "16-identifier-did-you-mean")
    page.get_by_role("link", name="2001/0171310W").click()
    page.wait_for_url("**value=2001%2F0171310W**")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")

    if not PHOTO.exists():
        pytest.skip(f"registry test photo missing ({PHOTO}): run `make venv`")
    sign_in(page, base, "operator", ("crime", "image of an unknown suspect", "WY-2026-0042"))
    page.get_by_role("link", name="Face search").click()
    page.wait_for_url("**/faces")
    check(page, "17-face-search")
    quality = page.locator("#quality")
    cut_off = PHOTO.with_name("obama_partial_face.jpg")
    if cut_off.exists():  # a photo dropped on the zone goes into the input and is checked
        page.evaluate(DROP, base64.b64encode(cut_off.read_bytes()).decode())
        quality.get_by_text("too poor to search").wait_for()
        assert "face cut off" in quality.inner_text()
        assert page.evaluate("document.getElementById('image').files[0].name") == "dropped.jpg"
    page.get_by_label("Probe photo").set_input_files(str(PHOTO))
    quality.get_by_text("good enough to search").wait_for()  # checked when chosen
    page.evaluate("document.getElementById('quality').replaceChildren()")
    page.get_by_role("button", name="Check quality").click()  # and on request
    quality.get_by_text("good enough to search").wait_for()
    shown = quality.inner_text()
    assert "Faces found\n1" in shown or "Faces found\t1" in shown, shown
    assert "Nothing was searched and the photo was not kept" in shown
    check(page, "17-face-quality")
    page.get_by_label("Candidate list length").fill("3")
    page.get_by_role("button", name="Search the face gallery").click()
    page.wait_for_url("**/faces/*")
    assert "not an identification" in page.get_by_role("note").last.inner_text()
    check(page, "18-face-candidates")
    for rank in (1, 2, 3):
        page.get_by_label(f"Decision on candidate {rank}").select_option("not-a-match")
        page.get_by_label(f"Rationale for candidate {rank}").fill(
            "different jawline, nose and ear shape"
        )
        page.get_by_role("button", name=f"Record decision {rank}").click()
        page.wait_for_url(f"**/faces/*#rank-{rank}")
    assert "Every candidate is decided" in page.inner_text("main")
    check(page, "19-face-decided")
    search_id = page.url.split("/faces/")[1].split("#")[0]
    # The identity stays hidden until the reviewer opens it.
    identity = page.locator("#rank-1 td.identity details")
    assert not identity.locator("dl").is_visible()
    identity.locator("summary").click()
    assert identity.locator("dl").is_visible()
    assert "Candidate 1 beside the probe" in page.inner_text("main")
    check(page, "70-face-identity-opened")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")

    # A second reviewer, a different operator signed in as themselves, adds a second review.
    sign_in_as(page, base, second_operator(rich), ("crime", "second look at a face search", CASE))
    page.goto(f"{base}/faces/{search_id}")
    page.get_by_label("Second review of candidate 1").select_option("not-a-match")
    page.get_by_label("Rationale for candidate 1").fill("agree: the ears and jawline differ")
    page.get_by_role("button", name="Record second review 1").click()
    page.wait_for_url(f"**/faces/{search_id}#rank-1")
    assert "second review by fso2" in page.locator("#rank-1").inner_text()
    check(page, "71-face-second-review")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the decision record (JSON)").click()
    record = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert record["candidates"][0]["second"]["reviewer_id"] == "fso2"
    assert record["status"] == "open"
    page.get_by_role("button", name=f"Close search {search_id}").click()
    page.wait_for_url(f"**/faces/{search_id}")
    assert "closed" in page.get_by_role("heading", level=1).inner_text()
    check(page, "20-face-closed")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the decision record (CSV)").click()
    rows = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("search_id,modality,status")
    assert len(rows) == 4  # the header and one row per candidate
    assert "fso2" in rows[1]
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")

    sign_in(page, base, "auditor", ("oversight", "monthly review of face searches", ""))
    page.goto(f"{base}/audit?limit=1000")
    table = page.get_by_role("table", name="Audit entries")
    searches = table.locator("tr", has_text="face_search").filter(has_text="fso1")
    assert searches.count() >= 1
    assert table.locator("tr", has_text="biometric_close").count() >= 1
    records = table.locator("tr", has_text="biometric_record").filter(has_text="fso2")
    assert records.count() == 2
    assert "disclosure" in records.first.inner_text()
    check(page, "21-audit-face-search")
    refused = page.goto(f"{base}/search?tab=person&surname={rich.surname}")
    assert refused is not None
    assert refused.status == 403
    assert "no policy permits it" in page.get_by_role("alert").inner_text()
    check(page, "22-search-refused")


def test_link_review_queue_and_waterfall(served_rich: tuple[Any, str], page: Any) -> None:
    """A data steward opens the link review queue, compares a pair (the waterfall) and
    records a decision with the keyboard-reachable form, then undoes it."""
    _, base = served_rich
    sign_in(page, base, "steward", ("admin-process", "reviewing uncertain links today", ""))
    page.get_by_role("link", name="Link review").click()
    page.wait_for_url("**/links")
    check(page, "23-link-queue")
    page.get_by_role("table", name="Pairs to review").get_by_role("link").first.click()
    page.wait_for_url("**/links/explain**")
    assert page.get_by_role("table", name="Match weight waterfall").is_visible()
    check(page, "24-link-waterfall")
    page.get_by_label("Unsure").check()
    page.get_by_label("Reason for records").fill("needs a second look")
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_url("**/links?decided=*")
    check(page, "25-link-decided")
    page.get_by_label("Reason to undo").fill("recorded by mistake")
    page.get_by_role("button", name="Undo decision").click()
    page.wait_for_url("**/links?undone=*")
    assert "undone" in page.get_by_role("status").first.inner_text()


def test_fingerprint_search_decided_and_auditor_filters_and_exports(
    served_rich: tuple[Any, str], page: Any, tmp_path: Path
) -> None:
    """A facial-search operator runs a fingerprint search with a synthetic print (the
    project's own generator), decides every candidate and closes it; an auditor asks who
    viewed one of the candidate records (one click from the filters), exports the filtered
    entries as CSV (recorded), and looks at volumes per unit and the misuse alerts."""
    from fingerprints_kit import enrol_prints, probe_png

    rich, base = served_rich
    assert enrol_prints(rich) > 0
    print_file = tmp_path / "probe-print.png"
    print_file.write_bytes(probe_png(rich))
    sign_in(page, base, "operator", ("crime", "print lifted at the scene", "WY-2026-0042"))
    page.goto(f"{base}/search?tab=fingerprint")
    page.get_by_role("link", name="search with a print").click()
    page.wait_for_url("**/fingerprints")
    check(page, "40-fingerprint-search")
    page.get_by_label("Probe print").set_input_files(str(print_file))
    page.get_by_label("Candidate list length").fill("3")
    page.get_by_role("button", name="Search the fingerprint gallery").click()
    page.wait_for_url("**/fingerprints/*")
    assert "not an identification" in page.get_by_role("note").last.inner_text()
    check(page, "41-fingerprint-candidates")
    ranks = page.locator("form.decide input[name=rank]")
    count = ranks.count()
    assert count >= 1
    for rank in range(1, count + 1):
        page.get_by_label(f"Decision on candidate {rank}").select_option("not-a-match")
        page.get_by_label(f"Rationale for candidate {rank}").fill(
            "ridge detail differs at the core and delta"
        )
        page.get_by_role("button", name=f"Record decision {rank}").click()
        page.wait_for_url(f"**/fingerprints/*#rank-{rank}")
    search_id = page.url.split("/fingerprints/")[1].split("#")[0]
    page.get_by_role("button", name=f"Close search {search_id}").click()
    page.wait_for_url(f"**/fingerprints/{search_id}")
    assert "closed" in page.get_by_role("heading", level=1).inner_text()
    check(page, "42-fingerprint-closed")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")

    sign_in(page, base, "auditor", ("oversight", "review of fingerprint searches", ""))
    page.get_by_role("link", name="Audit").click()
    page.wait_for_url("**/audit")
    check(page, "43-audit-integrity-and-filters")
    searches = page.goto(f"{base}/audit?action=fingerprint_search&user=fso1")
    assert searches is not None
    subject = page.get_by_role("table", name="Audit entries").locator("td a[href*=subject]").first
    record = subject.inner_text()
    page.get_by_label("Who viewed subject").fill(record)
    page.get_by_role("button", name="Who viewed it").click()
    page.wait_for_url("**/audit?subject=**")
    table = page.get_by_role("table", name="Audit entries")
    assert table.locator("tr", has_text="fingerprint_search").filter(has_text="fso1").count() >= 1
    assert f"subject: {record}" in page.get_by_role("status").first.inner_text()
    check(page, "44-audit-who-viewed-subject")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert exported.startswith("seq,at,kind,operation")
    assert "fingerprint_search" in exported
    page.get_by_role("link", name="Volumes").click()
    page.wait_for_url("**/audit/volumes")
    assert "fso1" in page.get_by_role("table", name="Volumes per user").inner_text()
    check(page, "45-audit-volumes")
    page.get_by_role("link", name="Misuse alerts").click()
    page.wait_for_url("**/audit/alerts")
    check(page, "46-audit-alerts")
    exports = page.goto(f"{base}/audit?action=audit_export&user=aud1")
    assert exports is not None
    table = page.get_by_role("table", name="Audit entries")
    assert table.locator("tr", has_text="disclosure").count() == 1
