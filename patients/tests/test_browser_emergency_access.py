"""In a real browser: a therapist breaks the glass for a colleague's patient, her manager
acknowledges it, and another clinic's patient stays out of reach."""

import re

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD

pytestmark = pytest.mark.browser

REASON = "Covering for Bob, who is off sick today"


def sign_in(page, base, email):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_emergency_access_end_to_end(
    live_server, transactional_db, page, alice, carol, bobs_patient, daves_patient
):
    page.set_default_timeout(15_000)
    console_errors = []
    page.on("console", lambda msg: msg.type == "error" and console_errors.append(msg.text))
    base = live_server.url
    sign_in(page, base, "alice@north.test")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    page.get_by_role("link", name="Emergency access").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Emergency access")

    # Another clinic's patient: the same answer as a code nobody has.
    page.get_by_label("Patient code or MRN").fill(daves_patient.code)
    page.get_by_label("Reason").fill(REASON)
    page.get_by_role("button", name="Open the record").click()
    expect(page.get_by_text("No patient of your clinic has this code or MRN.")).to_be_visible()
    assert "Dunleavy" not in page.content()

    page.get_by_label("Patient code or MRN").fill("P002")
    page.get_by_label("Reason").fill(REASON)
    page.get_by_role("button", name="Open the record").click()
    expect(page).to_have_url(f"{base}/patients/{bobs_patient.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Patient P002 – Bertram Brockhurst")
    expect(page.get_by_role("note")).to_contain_text(REASON)

    page.get_by_role("button", name="Log out").click()
    sign_in(page, base, "carol@north.test")
    table = page.get_by_role("region", name="Emergency accesses to acknowledge")
    expect(table).to_contain_text("Alice Therapist")
    expect(table).to_contain_text(REASON)
    table.get_by_role("button", name=re.compile("Acknowledge")).click()
    expect(page.get_by_text("seen.")).to_be_visible()
    expect(page.get_by_role("region", name="Emergency accesses to acknowledge")).to_have_count(0)
    assert [e for e in console_errors if "Content Security Policy" in e] == []
