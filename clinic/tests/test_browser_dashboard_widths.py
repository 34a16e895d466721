"""In Chromium at 1366 and 768 px (issue 16): the dashboards (a therapist's, a manager's with the
clinic-wide tables) and a recording's results fit the window: nothing but a table's own
scrolling frame is wider than the page."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from analysis.tests.support import analysed, make_recording
from conftest import PASSWORD

pytestmark = pytest.mark.browser

OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > width + 1 && !e.closest('.table-wrap'))
    .map((e) => `${e.tagName}.${e.className}`)
    .slice(0, 10);
}"""


def sign_in(page, base, email):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


@pytest.mark.parametrize("width", [1366, 768])
def test_dashboards_and_results_fit_the_window(
    live_server, transactional_db, browser_context, alice, carol, alices_patient, session_of, width
):
    alices_patient.treatment_start = timezone.localdate() - dt.timedelta(days=6)
    alices_patient.save()
    session = session_of(alices_patient, started_at=timezone.now(), rpe=4)
    recording = analysed(session, "Ghostly_Emg_20261105_09-30-00-0000.c3d")
    make_recording(session, name="a-very-long-file-name-without-breaks.c3d", status="failed")
    page = browser_context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    for user, paths in (
        (alice, ["/", f"/sessions/recordings/{recording.pk}/"]),
        (carol, ["/", f"/?therapist={alice.pk}"]),
    ):
        page.context.clear_cookies()
        sign_in(page, live_server.url, user.email)
        for path in paths:
            response = page.goto(live_server.url + path)
            assert response.status == 200, path
            assert page.evaluate(OVERFLOW) == [], (user.email, path, width)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        if user == carol:
            expect(page.get_by_role("heading", name="Adherence per therapist")).to_be_visible()
