"""In a real browser: a therapist logs in, finds her patient, and cannot open a colleague's."""

import re

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_a_therapist_finds_her_patient_and_not_a_colleagues(
    live_server, transactional_db, page, alice, alices_patient, bobs_patient
):
    page.set_default_timeout(15_000)
    console_errors = []
    page.on("console", lambda msg: msg.type == "error" and console_errors.append(msg.text))
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))

    page.get_by_label("Email").fill("alice@north.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    page.get_by_role("searchbox", name="Search").fill("Aldersley")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("row")).to_have_count(2)  # header + Agatha
    page.get_by_role("link", name="P001", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Patient P001 – Agatha Aldersley")
    expect(page).to_have_url(f"{live_server.url}/patients/{alices_patient.pk}/")

    response = page.goto(f"{live_server.url}/patients/{bobs_patient.pk}/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    assert "Brockhurst" not in page.content()
    # The strict CSP (no inline script or style) must not have blocked anything on the way.
    assert [e for e in console_errors if "Content Security Policy" in e] == []


def test_the_skip_link_is_the_first_stop_of_the_keyboard(live_server, transactional_db, page):
    page.goto(f"{live_server.url}/accounts/login/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
