"""A therapist watches a GHOSTLY file streamed live: the chart moves and the counter rises.

Real Daphne, the Redis channel layer, the system Chromium, and ``manage.py stream_recording``
as the device.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from analysis.tests.test_browser_upload import signed_in
from conftest import shared_c3d_dir

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parents[2]
GHOSTLY = "ghostly/Ghostly_Emg_20231004_13-18-43-0464.c3d"


@pytest.fixture
def server_env(server_env, tmp_path):
    env = {**server_env, "STATIC_ROOT": str(tmp_path / "static")}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=REPO,
        env=env,
        check=True,
        timeout=120,
    )
    return env


def canvas_pixels(page):
    return page.evaluate(
        """() => { const c = document.querySelector('[data-live-channel] canvas');
        return c ? c.toDataURL() : ''; }"""
    )


def test_the_chart_moves_and_the_counter_rises_while_a_recording_streams(
    daphne, server_env, browser_context, alice, alices_patient, session_of
):
    session = session_of(alices_patient)
    page, errors = signed_in(browser_context, alice, daphne)
    page.goto(daphne + reverse("analysis:session_live", args=[session.pk]))
    page.wait_for_selector("[data-live-connection][data-state=waiting]", timeout=15000)
    device = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "stream_recording",
            str(shared_c3d_dir() / GHOSTLY),
            "--session",
            str(session.pk),
            "--url",
            daphne.replace("http://", "ws://"),
            "--speed",
            "4",
        ],
        cwd=REPO,
        env=server_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        page.wait_for_selector("[data-live-connection][data-state=streaming]", timeout=20000)
        page.wait_for_selector("[data-live-channel] canvas", timeout=10000)
        first = canvas_pixels(page)
        page.wait_for_timeout(700)
        assert canvas_pixels(page) != first  # the chart scrolls
        page.wait_for_function(
            """() => [...document.querySelectorAll('[data-live-count]')]
                 .some(e => Number(e.getAttribute('data-live-count')) >= 2)""",
            timeout=40000,
        )
        pct = page.locator("[data-live-pct]").first.inner_text()
        assert "% MVC" in pct
        page.screenshot(path=str(Path(server_env["MEDIA_ROOT"]) / "live.png"))
        out, _ = device.communicate(timeout=60)
        assert device.returncode == 0, out.decode()
        page.wait_for_selector("[data-live-connection][data-state=offline]", timeout=15000)
    finally:
        if device.poll() is None:
            device.kill()
    assert errors == []
