"""The progress page's trend charts kept in the cache (issue 17): the same drawings as drawn
afresh, and any new, changed or voided session or analysis of the patient shows at once."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from analysis.tests.support import analysed
from patients.progress import chart_points
from patients.progress_charts import chart_specs, charts_key
from sessions.models import TherapySession


@pytest.fixture
def weekly(alices_patient):
    """70 sessions over 35 weeks (past a chart's worth: drawn per week), the last 2 analysed."""
    start = timezone.now() - dt.timedelta(weeks=35)
    sessions = TherapySession.objects.bulk_create(
        TherapySession(
            patient=alices_patient,
            therapist=alices_patient.therapists.first(),
            started_at=start + dt.timedelta(weeks=w, days=3 * d),
            rpe=3 + d,
        )
        for w in range(35)
        for d in range(2)
    )
    for session in sessions[-2:]:
        analysed(session, f"s{session.pk}.c3d")
    return sessions


def charts(client, patient, settings, *, kept: bool) -> str:
    settings.CHART_CACHE_SECONDS = 3600 if kept else 0
    html = client.get(reverse("patients:progress", args=[patient.pk])).content.decode()
    return html.split('<section class="progress-charts">', 1)[1].split("</section>", 1)[0]


def assert_kept_as_drawn(client, patient, settings) -> str:
    """The page with the cache (twice: drawn, then read back) shows what a fresh drawing
    shows, and the drawings are in the cache under their key."""
    fresh = charts(client, patient, settings, kept=False)
    assert charts(client, patient, settings, kept=True) == fresh
    assert charts(client, patient, settings, kept=True) == fresh
    unit, points = chart_points(patient)
    assert unit == "week"
    assert cache.get(charts_key(chart_specs(points))) is not None
    return fresh


def test_kept_charts_are_the_charts_drawn_afresh(client, alice, alices_patient, weekly, settings):
    client.force_login(alice)
    html = assert_kept_as_drawn(client, alices_patient, settings)
    assert html.count('class="chart"') == 5


def test_a_new_session_shows_in_the_kept_charts(
    client, alice, alices_patient, weekly, session_of, settings
):
    client.force_login(alice)
    before = assert_kept_as_drawn(client, alices_patient, settings)
    session_of(alices_patient, started_at=timezone.now() - dt.timedelta(hours=1), rpe=9)
    after = assert_kept_as_drawn(client, alices_patient, settings)
    assert after != before


def test_a_voided_session_leaves_the_kept_charts(
    client, alice, carol, alices_patient, weekly, settings
):
    client.force_login(alice)
    before = assert_kept_as_drawn(client, alices_patient, settings)
    weekly[-1].void(by=carol, reason="wrong patient")
    after = assert_kept_as_drawn(client, alices_patient, settings)
    assert after != before


def test_a_changed_session_and_a_new_analysis_show_in_the_kept_charts(
    client, alice, alices_patient, weekly, settings
):
    client.force_login(alice)
    first = assert_kept_as_drawn(client, alices_patient, settings)
    TherapySession.objects.filter(pk=weekly[-3].pk).update(rpe=10)
    second = assert_kept_as_drawn(client, alices_patient, settings)
    assert second != first
    analysed(weekly[-3], "late.c3d")  # a score where the week had none
    third = assert_kept_as_drawn(client, alices_patient, settings)
    assert third not in (first, second)


def test_charts_of_other_figures_never_share_a_key(alices_patient, weekly):
    _, points = chart_points(alices_patient)
    key = charts_key(chart_specs(points))
    points[-1]["rpe"] += 0.5
    assert charts_key(chart_specs(points)) != key
    points[-1]["rpe"] -= 0.5
    assert charts_key(chart_specs(points)) == key
