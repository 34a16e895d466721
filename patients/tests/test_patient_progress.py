"""Progress across a patient's sessions and adherence to the planned protocol."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from analysis.tests.support import AUDIT_ENTRY, AUDIT_PURPOSE, analysed


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
