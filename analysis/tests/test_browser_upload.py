"""A therapist uploads a game recording and watches it become results without reloading.

Everything is real: a Daphne server (HTTP and websockets) as a subprocess on the test database
and the test Redis, a Celery worker on the real broker, the system Chromium driven by
Playwright, and a real GHOSTLY recording chosen through the file picker.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from analysis.grading import FAILURE_ADVICE_DEFAULT
from analysis.tests.support import login_session
from conftest import shared_c3d_dir

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.server,
    pytest.mark.django_db(transaction=True),
]

REPO = Path(__file__).resolve().parents[2]
GHOSTLY = "ghostly/Ghostly_Emg_20230321_17-23-09-0409.c3d"
UNUSABLE = "other/Kistler.c3d"  # a C3D header, but analog rate 0: the analysis fails


@pytest.fixture
def server_env(server_env, tmp_path):
    """Daphne's environment (the root conftest's), with the static files collected once."""
    env = {**server_env, "STATIC_ROOT": str(tmp_path / "static")}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=REPO,
        env=env,
        check=True,
        timeout=120,
    )
    return env


def rows_html(page) -> list[str]:
    """The recording rows' markup, whitespace and <progress> values aside (a float on the
    server, a number once the browser has set it)."""
    rows = page.eval_on_selector_all("[data-recording-id]", "rows => rows.map(r => r.outerHTML)")
    return [
        re.sub(r"\s+", " ", re.sub(r'(<progress[^>]*?) value="[^"]*"', r"\1", row)).strip()
        for row in rows
    ]


def signed_in(context, user, base_url):
    """A page of Chromium logged in as ``user`` (a real database session), and its errors."""
    context.add_cookies([{"name": "sessionid", "value": login_session(user), "url": base_url}])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Failed requests are reported by URL below; a CSP violation or a script error lands here.
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )
    return page, errors


def test_a_therapist_watches_an_upload_become_results_without_reloading(
    daphne, worker, browser_context, alice, alices_patient, session_of
):

    path = shared_c3d_dir() / GHOSTLY
    session = session_of(alices_patient)
    page, errors = signed_in(browser_context, alice, daphne)
    page.goto(daphne + reverse("sessions:detail", args=[session.pk]))
    page.wait_for_selector("[data-recording-list][data-live=connected]", timeout=15000)
    # A marker that a reload would wipe out.
    page.evaluate("window.__noReload = 'still here'")

    # A file that is not C3D is refused at once, with the reason, and never becomes a row.
    page.set_input_files(
        "[data-upload-form] input[type=file]",
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not EMG\n" * 200}],
    )
    refused = page.wait_for_selector("[data-upload-list] .upload-refused", timeout=15000)
    assert "notes.txt is not a C3D recording" in refused.inner_text()
    assert page.locator("[data-recording-id]").count() == 0

    page.set_input_files("[data-upload-form] input[type=file]", str(path))

    row = page.wait_for_selector("[data-recording-id]", timeout=15000)
    # a fast worker may finish before the browser draws the row (seen on a loaded machine)
    assert row.get_attribute("data-status") in {"pending", "processing", "done"}
    page.wait_for_selector("[data-recording-id][data-status=done] details[data-results]")
    # The session score panel follows without a reload too.
    page.wait_for_selector(
        '[data-session-score] [data-score="overall"]:not(.metric-missing)', timeout=15000
    )
    # The upload list tells the file's real state until it is done.
    page.wait_for_selector("[data-upload-list] [data-upload-status=done]", timeout=15000)
    assert "done: analysed" in page.locator("[data-upload-list] .upload-ok").inner_text()

    # A file the analysis cannot use: the live row says what to do first, the technical
    # reason behind <details>, and the upload list gives the same advice.
    page.set_input_files("[data-upload-form] input[type=file]", str(shared_c3d_dir() / UNUSABLE))
    failed = page.locator("[data-recording-id][data-status=failed]")
    failed.wait_for(timeout=60000)
    advice = failed.locator("[data-failure-advice]")
    page.wait_for_function(
        "text => document.querySelector('[data-status=failed] [data-failure-advice]')"
        "?.textContent.trim() === text",
        arg=FAILURE_ADVICE_DEFAULT,
        timeout=15000,
    )
    assert advice.is_visible()
    detail = failed.locator("details [data-failure-reason]")
    assert "duration cannot be computed" in detail.text_content()
    assert not detail.is_visible()  # behind "Technical detail"
    page.wait_for_selector("[data-upload-list] [data-upload-status=failed]", timeout=15000)
    note = page.locator("[data-upload-list] [data-upload-status=failed] .upload-note")
    assert note.inner_text() == f"analysis failed: {FAILURE_ADVICE_DEFAULT}"
    # One rendering of a row: the live rows (done and failed) are the rows a reload shows.
    live_rows = rows_html(page)
    assert page.locator("[data-recording-id] svg.chart").count() == 0  # results on demand

    page.get_by_text("Charts and metrics").click()
    page.wait_for_selector("[data-recording-id] svg.chart", timeout=15000)
    assert page.evaluate("window.__noReload") == "still here"
    assert page.locator("[data-recording-id] svg.chart").count() == 2
    assert page.locator('[data-recording-id] [data-metric="count"]').count() == 2
    assert page.locator('[data-recording-id] [data-metric="game_count"]').count() == 2
    assert "Done" in page.locator("[data-status-badge]").first.inner_text()
    assert page.locator("[data-upload-list] .upload-ok").count() == 2  # both accepted
    # The refusal answered 400 by design; nothing else failed.
    expected = {f"400 {daphne}/sessions/{session.pk}/upload/"}
    assert [e for e in errors if e not in expected] == [], errors
    assert os.path.basename(path) in page.content()

    page.reload()
    page.wait_for_selector("[data-recording-list][data-live=connected]", timeout=15000)
    assert rows_html(page) == live_rows
    assert len(live_rows) == 2
    reloaded = page.locator("[data-recording-id][data-status=failed] [data-failure-advice]")
    assert reloaded.inner_text() == FAILURE_ADVICE_DEFAULT
    page.get_by_text("Charts and metrics").click()
    page.wait_for_selector("[data-recording-id] svg.chart", timeout=15000)
    assert page.locator("[data-recording-id] svg.chart").count() == 2
