"""Progress across a patient's sessions and adherence to the planned protocol."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from analysis.tests.support import AUDIT_ENTRY, AUDIT_PURPOSE, analysed
from patients.progress import CHART_MAX_POINTS, chart_points
from sessions.models import TherapySession


def at(days_ago):
    return timezone.now() - dt.timedelta(days=days_ago)


@pytest.fixture
def url(alices_patient):
    return reverse("patients:progress", args=[alices_patient.pk])


def test_the_trend_charts_cover_every_non_voided_session(
    client, alice, carol, alices_patient, session_of, url
):
    for day in (6, 4, 2):
        analysed(session_of(alices_patient, started_at=at(day), rpe=day), f"d{day}.c3d")
    voided = session_of(alices_patient, started_at=at(1))
    voided.void(by=carol, reason="wrong patient")
    client.force_login(alice)
    html = client.get(url).content.decode()
    for title in ("Session score", "Compliance per muscle", "Symmetry", "MDF slope per muscle"):
        assert f">{title}</text>" in html
    assert html.count('class="chart"') == 5
    table = html.split('class="progress-table"', 1)[1]
    assert table.count("<tr>") == 1 + 3  # header and three sessions, not the voided one


def test_adherence_counts_this_patients_sessions_against_the_plan(
    client, alice, alices_patient, bobs_patient, session_of, url
):
    alices_patient.treatment_start = timezone.localdate() - dt.timedelta(days=13)
    alices_patient.save()
    for day in (12, 10, 8):
        session_of(alices_patient, started_at=at(day))
    for day in (12, 11, 10, 9, 8):  # another patient's sessions never count
        session_of(bobs_patient, started_at=at(day))
    client.force_login(alice)
    html = client.get(url).content.decode()
    assert 'data-metric="done">3<' in html
    assert 'data-metric="expected">10<' in html  # 5 a week for 2 weeks, all due by today
    assert ">30 %<" in html


def test_a_patient_without_sessions_has_an_empty_page_not_an_error(client, alice, url):
    client.force_login(alice)
    response = client.get(url)
    assert response.status_code == 200
    assert "No session yet" in response.content.decode()


def test_the_page_costs_the_same_queries_for_many_sessions(
    client, alice, alices_patient, session_of, url, django_assert_max_num_queries
):
    for day in range(1, 13):
        analysed(session_of(alices_patient, started_at=at(day), rpe=3), f"d{day}.c3d")
    client.force_login(alice)
    client.get(url)
    with django_assert_max_num_queries(14 + AUDIT_ENTRY + AUDIT_PURPOSE):
        response = client.get(url)
    assert response.content.decode().count('class="chart"') == 5


def test_a_session_with_bfr_outside_the_safe_band_says_its_score_is_withheld(
    client, alice, alices_patient, session_of, url
):
    analysed(session_of(alices_patient, started_at=at(2), rpe=5, bfr_pressure_pct_aop=70), "b.c3d")
    client.force_login(alice)
    table = client.get(url).content.decode().split('class="progress-table"', 1)[1]
    assert "withheld (BFR)" in table
    assert "70 % AOP outside the safe band" in table


def _weekly_sessions(patient, weeks, per_week=3):
    start = timezone.now() - dt.timedelta(weeks=weeks)
    return TherapySession.objects.bulk_create(
        TherapySession(
            patient=patient,
            therapist=patient.therapists.first(),
            started_at=start + dt.timedelta(weeks=w, days=2 * d),
            rpe=3 + d,
        )
        for w in range(weeks)
        for d in range(per_week)
    )


def test_sessions_that_fit_on_a_chart_are_drawn_one_by_one(
    client, alice, alices_patient, session_of, url
):
    for day in range(1, CHART_MAX_POINTS + 1):
        session_of(alices_patient, started_at=at(day), rpe=2)
    client.force_login(alice)
    html = client.get(url).content.decode()
    assert "data-chart-unit" not in html
    assert html.count('class="chart"') == 5


def test_beyond_a_chart_the_trends_are_weekly_means(client, alice, alices_patient, url):
    sessions = _weekly_sessions(alices_patient, weeks=30, per_week=3)  # 90 sessions
    for session in sessions[-3:]:
        analysed(session, f"s{session.pk}.c3d")
    client.force_login(alice)
    html = client.get(url).content.decode()
    assert 'data-chart-unit="week"' in html
    unit, points = chart_points(alices_patient)
    assert unit == "week"
    assert 30 <= len(points) <= 31  # a week boundary may split the first week
    assert sum(p["sessions"] for p in points) == 90
    assert {p["rpe"] for p in points if p["sessions"] == 3} == {4.0}  # mean of 3, 4 and 5
    scored = [p for p in points if p["score"]["overall"] is not None]
    assert scored
    assert scored[-1]["recordings"] >= 1
    assert scored[-1]["compliance"]  # per muscle from the stored channels


def test_a_long_history_is_drawn_per_month(alices_patient):
    _weekly_sessions(alices_patient, weeks=150, per_week=1)
    unit, points = chart_points(alices_patient)
    assert unit == "month"
    assert 34 <= len(points) <= 36


def test_the_table_comes_a_page_at_a_time_newest_first(client, alice, alices_patient, url):
    sessions = _weekly_sessions(alices_patient, weeks=10, per_week=3)  # 30 sessions
    client.force_login(alice)
    table = client.get(url).content.decode().split('class="progress-table"', 1)[1]
    assert table.count("<tr>") == 1 + 25
    newest = reverse("sessions:detail", args=[sessions[-1].pk])
    assert table.index(newest) < table.index(reverse("sessions:detail", args=[sessions[-2].pk]))
    assert reverse("sessions:detail", args=[sessions[0].pk]) not in table
    second = client.get(url, {"page": 2}).content.decode().split('class="progress-table"', 1)[1]
    assert second.count("<tr>") == 1 + 5
    assert reverse("sessions:detail", args=[sessions[0].pk]) in second


def test_the_page_costs_the_same_queries_per_session_or_per_week(
    client, alice, alices_patient, url, django_assert_max_num_queries
):
    client.force_login(alice)
    counts, firsts = [], []
    for weeks in (2, 60):  # 6 sessions drawn one by one, then 186 drawn per week
        _weekly_sessions(alices_patient, weeks=weeks)
        with django_assert_max_num_queries(14 + AUDIT_ENTRY + AUDIT_PURPOSE) as first:
            client.get(url)
        with django_assert_max_num_queries(14 + AUDIT_ENTRY + AUDIT_PURPOSE) as captured:
            client.get(url)
        firsts.append(len(first))
        counts.append(len(captured))
    # Per week: three aggregates for the charts and the reads for the table page, in place
    # of the reads that scored every session (sessions and analyses: none analysed here, so
    # no channel read); the same at any number of sessions. A second look reads the weekly
    # figures and the table page's rows from the cache (kept under the patient's
    # ProgressVersion, read in the page's first aggregate): none of those queries.
    assert firsts[1] == counts[0] + 3
    assert counts[1] == counts[0] - 2
