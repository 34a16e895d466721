"""In a real browser: a therapist voids a poor round and moves another to the right session, and
the session score, its count and the patient's adherence (game rounds) follow at once."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from analysis.models import ChannelResult, RecordingAnalysis
from analysis.tests.support import analysed
from conftest import PASSWORD

pytestmark = pytest.mark.browser

REASON = "Patient stopped after two contractions"


def sign_in(page, base, email):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def metric(page, name):
    return page.locator(f'[data-score="{name}"] .metric-value')


def test_void_and_move_a_recording_and_see_score_and_adherence_follow(
    live_server, transactional_db, page, alice, alices_patient, session_of
):
    page.set_default_timeout(15_000)
    base = live_server.url
    now = timezone.now()
    first = session_of(alices_patient, started_at=now - dt.timedelta(hours=3))
    second = session_of(alices_patient, started_at=now - dt.timedelta(hours=1))
    good = analysed(first, "good.c3d")
    poor = analysed(first, "poor.c3d")
    RecordingAnalysis.objects.filter(recording=poor).update(score_compliance=20.0)
    ChannelResult.objects.filter(analysis__recording=poor).update(compliance=10.0)
    progress_url = f"{base}{reverse('patients:progress', args=[alices_patient.pk])}"

    sign_in(page, base, "alice@north.test")
    page.goto(f"{base}{first.get_absolute_url()}")
    expect(metric(page, "compliance")).to_have_text("50")
    expect(page.locator("[data-session-score]")).to_contain_text("2 of 2")
    page.goto(progress_url)
    expect(page.locator('[data-metric="rounds-done"]')).to_have_text("2")

    # Void the poor round: kept, struck through with its reason, out of the score.
    page.goto(f"{base}{first.get_absolute_url()}")
    page.locator(f"#recording-{poor.pk} [data-action=recording-void]").click()
    page.get_by_label("Reason").fill(REASON)
    page.get_by_role("button", name="Void").click()
    expect(page).to_have_url(f"{base}{first.get_absolute_url()}")
    expect(metric(page, "compliance")).to_have_text("80")
    expect(page.locator("[data-session-score]")).to_contain_text("1 of 1")
    voided = page.locator(f"[data-voided-list] #recording-{poor.pk}")
    expect(voided.locator("s")).to_contain_text("poor.c3d")
    expect(voided).to_contain_text(REASON)
    expect(page.locator(f"[data-recording-list] #recording-{poor.pk}")).to_have_count(0)
    page.goto(progress_url)
    expect(page.locator('[data-metric="rounds-done"]')).to_have_text("1")
    expect(page.locator('[data-metric="sessions-short"]')).to_have_text("2")

    # Move the good round to the later session: the score goes with it.
    page.goto(f"{base}{first.get_absolute_url()}")
    page.locator(f"#recording-{good.pk} [data-action=recording-move]").click()
    page.get_by_label("Move to session").select_option(str(second.pk))
    page.get_by_role("button", name="Move").click()
    expect(page).to_have_url(f"{base}{second.get_absolute_url()}")
    expect(metric(page, "compliance")).to_have_text("80")
    expect(page.locator("[data-session-score]")).to_contain_text("1 of 1")
    expect(page.locator(f"[data-recording-list] #recording-{good.pk}")).to_have_count(1)
    page.goto(f"{base}{first.get_absolute_url()}")
    expect(page.locator("[data-session-score]")).to_contain_text("0 of 0")
    expect(page.locator(f"#recording-{good.pk}")).to_have_count(0)
    page.goto(progress_url)
    expect(page.locator('[data-metric="rounds-done"]')).to_have_text("1")
