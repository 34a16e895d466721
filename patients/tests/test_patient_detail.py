"""Patient page: session history, actions by permission, identity masked for researchers."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from analysis.selectors import session_score
from analysis.tests.support import AUDIT_ENTRY, AUDIT_PURPOSE, analysed
from conftest import names_in
from sessions.models import TherapySession

pytestmark = pytest.mark.django_db


def test_it_shows_the_session_history(client, alice, alices_patient, session_of):
    session = session_of(alices_patient, rpe=6)
    client.force_login(alice)
    body = client.get(reverse("patients:detail", args=[alices_patient.pk])).content.decode()
    assert reverse("sessions:detail", args=[session.pk]) in body
    assert "Agatha Aldersley" in body
    assert "MRN-P001" in body


def test_each_session_row_shows_its_score_as_the_session_page_computes_it(
    client, alice, alices_patient, session_of
):
    scored, unscored = session_of(alices_patient, rpe=6), session_of(alices_patient, rpe=4)
    analysed(scored)
    client.force_login(alice)
    body = client.get(reverse("patients:detail", args=[alices_patient.pk])).content.decode()
    overall = session_score(list(scored.recordings.get().analyses.all()), rpe=6)["overall"]
    assert overall is not None
    assert f'data-score="{scored.pk}">{overall:.0f}<' in body
    assert f'data-score="{unscored.pk}"><span class="muted">–</span>' in body


def test_a_researcher_sees_code_sex_and_age_band_only(client, rita, alices_patient):
    alices_patient.notes = "Lives with her daughter Agnes"
    alices_patient.save()
    client.force_login(rita)
    response = client.get(reverse("patients:detail", args=[alices_patient.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "P001" in body
    assert "Female" in body
    assert names_in(body) == set()
    assert "MRN-P001" not in body
    assert "1950" not in body
    assert "Agnes" not in body
    for action in ("patients:edit", "patients:void", "patients:session-create"):
        assert reverse(action, args=[alices_patient.pk]) not in body


def test_actions_follow_permissions(client, alice, carol, alices_patient):
    client.force_login(alice)
    body = client.get(reverse("patients:detail", args=[alices_patient.pk])).content.decode()
    assert reverse("patients:edit", args=[alices_patient.pk]) in body
    assert reverse("patients:void", args=[alices_patient.pk]) not in body
    client.force_login(carol)
    body = client.get(reverse("patients:detail", args=[alices_patient.pk])).content.decode()
    assert reverse("patients:void", args=[alices_patient.pk]) in body


def test_an_unknown_or_foreign_id_is_404(client, alice, bobs_patient):
    client.force_login(alice)
    assert client.get(reverse("patients:detail", args=[bobs_patient.pk])).status_code == 404
    assert client.get("/patients/999999/").status_code == 404
    assert client.get("/patients/abc/").status_code == 404
    assert client.get("/patients/99999999999999999999999/").status_code == 404  # beyond bigint
    assert client.get("/sessions/99999999999999999999999/").status_code == 404
    assert client.get("/sessions/recordings/99999999999999999999999/download/").status_code == 404


def _many_sessions(patient, count, *, rpe=4):
    start = timezone.now() - dt.timedelta(days=count)
    return TherapySession.objects.bulk_create(
        TherapySession(
            patient=patient,
            therapist=patient.therapists.first(),
            started_at=start + dt.timedelta(days=i),
            rpe=rpe,
        )
        for i in range(count)
    )


def test_sessions_come_a_page_at_a_time_newest_first(client, alice, alices_patient):
    sessions = _many_sessions(alices_patient, 30)
    client.force_login(alice)
    url = reverse("patients:detail", args=[alices_patient.pk])
    first = client.get(url).content.decode()
    table = first.split('class="session-table"', 1)[1]
    assert table.count('<tr class="voided">') + table.count("<tr>") == 1 + 25
    newest, oldest = sessions[-1], sessions[0]
    assert table.index(reverse("sessions:detail", args=[newest.pk])) < table.index(
        reverse("sessions:detail", args=[sessions[-2].pk])
    )
    assert reverse("sessions:detail", args=[oldest.pk]) not in table
    second = client.get(url, {"page": 2}).content.decode()
    assert second.split('class="session-table"', 1)[1].count("<tr>") == 1 + 5
    assert reverse("sessions:detail", args=[oldest.pk]) in second
    assert 'rel="prev"' in second
    assert client.get(url, {"page": "junk"}).status_code == 200  # first page, not a 500


def test_the_summary_figures_cover_every_session_not_only_the_page(
    client, alice, carol, alices_patient, session_of
):
    _many_sessions(alices_patient, 30, rpe=4)
    session_of(alices_patient, rpe=7, started_at=timezone.now())
    analysed(session_of(alices_patient, rpe=None, started_at=timezone.now()), "a.c3d")
    session_of(alices_patient, rpe=10).void(by=carol, reason="wrong patient")
    client.force_login(alice)
    body = client.get(reverse("patients:detail", args=[alices_patient.pk])).content.decode()
    assert 'data-metric="sessions">32<' in body
    assert 'data-metric="mean-rpe">4.1<' in body  # (30*4 + 7) / 31, the void one left out
    assert 'data-metric="recordings">1<' in body
    assert " void</span>" not in body  # a therapist never sees voided sessions
    client.force_login(carol)
    body = client.get(reverse("patients:detail", args=[alices_patient.pk])).content.decode()
    assert "and 1 void</span>" in body


def test_the_page_costs_the_same_queries_for_three_or_three_hundred_sessions(
    client, alice, alices_patient, django_assert_num_queries
):
    url = reverse("patients:detail", args=[alices_patient.pk])
    client.force_login(alice)
    counts = []
    for count in (3, 297):
        _many_sessions(alices_patient, count)
        client.get(url)
        # + the audit entry, alice's assignment (its purpose) and whether she reads under an
        # emergency access (the page says so): fixed costs, not per session; the scores of
        # the page's sessions are one query
        with django_assert_num_queries(10 + AUDIT_ENTRY + AUDIT_PURPOSE + 1) as captured:
            client.get(url)
        counts.append(len(captured))
    assert counts[0] == counts[1]
