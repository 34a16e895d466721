"""The session's recordings: score and what was missing, live rows, re-analysis."""

import pytest
from django.template import Context, Template
from django.urls import reverse

from analysis.models import RecordingAnalysis
from analysis.tests.support import (
    AUDIT_ENTRY,
    AUDIT_LOOKUP,
    AUDIT_PURPOSE,
    analysed,
    make_recording,
)
from sessions.models import Recording


@pytest.fixture
def session(session_of, alices_patient):
    return session_of(alices_patient, rpe=6)


def upload_page(client, user, session):
    client.force_login(user)
    response = client.get(reverse("sessions:upload", args=[session.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_rows_carry_id_and_status_for_the_live_script(client, alice, session):
    done = analysed(session, "a.c3d")
    failed = make_recording(session, "b.c3d", status="failed", failure_reason="file is cut short")
    html = upload_page(client, alice, session)
    assert f'data-recording-id="{done.pk}" data-status="done"' in html
    assert f'data-recording-id="{failed.pk}" data-status="failed"' in html
    assert "file is cut short" in html
    assert f'data-ws-path="/ws/sessions/{session.pk}/status/"' in html
    assert '<progress max="1" value="1.0" data-progress' in html
    assert "/static/js/session-status.js" in html


def test_the_session_score_names_what_was_missing(client, alice, session):
    analysed(session, "a.c3d", overall=60.0)
    analysed(session, "b.c3d", overall=80.0)
    html = upload_page(client, alice, session)
    assert 'data-score="overall"' in html
    # The stored components (compliance 80, symmetry 87.5) with the session's RPE 6 (effort
    # 100), weighted 0.5/0.2/0.2 over 0.9: the documents' own "overall" does not count.
    assert ">86<" in html
    assert "Not computed: game." in html
    assert "The clinic has no maximum game score set." in html
    assert "Recordings analysed</dt><dd>2 of 2<" in html


def test_the_page_costs_the_same_queries_for_many_recordings(
    client, alice, session, django_assert_max_num_queries
):
    for i in range(8):
        analysed(session, f"r{i}.c3d")
    for i in range(4):
        make_recording(session, f"p{i}.c3d")
    client.force_login(alice)
    for url in (
        reverse("sessions:detail", args=[session.pk]),
        reverse("sessions:upload", args=[session.pk]),
    ):
        client.get(url)  # warm the session and permission caches of the login
        with django_assert_max_num_queries(9 + AUDIT_ENTRY + AUDIT_LOOKUP + AUDIT_PURPOSE):
            response = client.get(url)
        assert response.content.decode().count("data-recording-id=") == 12


def test_reanalysis_queues_every_finished_recording(
    client, alice, session, django_capture_on_commit_callbacks
):
    first = analysed(session, "a.c3d")
    second = make_recording(session, "b.c3d", status="failed", failure_reason="bad")
    still = make_recording(session, "c.c3d", status="processing")
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            reverse("analysis:session_reanalyse", args=[session.pk]), follow=True
        )
    assert "2 recording(s) queued for re-analysis" in response.content.decode()
    statuses = dict(Recording.objects.filter(session=session).values_list("pk", "status"))
    assert statuses == {first.pk: "pending", second.pk: "pending", still.pk: "processing"}
    assert len(callbacks) == 2
    # The old result stays current until the new one replaces it.
    assert RecordingAnalysis.objects.get(recording=first, is_current=True)


def test_reanalysis_of_a_voided_session_is_refused_with_a_message(client, alice, carol, session):
    analysed(session, "a.c3d")
    session.void(by=carol, reason="wrong patient")
    client.force_login(alice)
    url = reverse("analysis:session_reanalyse", args=[session.pk])
    assert client.post(url).status_code == 404  # hidden from its therapist, as on its page
    client.force_login(carol)
    response = client.post(url, follow=True)
    assert "voided" in response.content.decode()
    assert Recording.objects.get(session=session).status == "done"


def test_a_voided_session_offers_no_reanalysis(client, carol, session):
    # The button follows the same rule as the action: the permission, on a session not voided.
    analysed(session, "a.c3d")
    assert "Re-analyse session" in upload_page(client, carol, session)
    session.void(by=carol, reason="wrong patient")
    assert "Re-analyse session" not in upload_page(client, carol, session)


def test_reanalysis_is_a_post_only_action(client, alice, session):
    client.force_login(alice)
    url = reverse("analysis:session_reanalyse", args=[session.pk])
    assert client.get(url).status_code == 405


def test_the_row_fragment_brings_the_results_when_asked(client, alice, session):
    recording = analysed(session, "a.c3d")
    client.force_login(alice)
    url = reverse("analysis:recording_row", args=[recording.pk])
    plain = client.get(url).content.decode()
    full = client.get(url + "?results=1").content.decode()
    assert 'class="chart"' not in plain
    assert full.count('class="chart"') == 2
    assert full.strip().startswith("<li")


def test_the_session_pipeline_tag_renders_inside_another_page(rf, alice, session):

    analysed(session, "a.c3d")
    request = rf.get("/")
    request.user = alice
    html = Template("{% load analysis_ui %}{% session_pipeline session %}").render(
        Context({"request": request, "session": session})
    )
    assert "data-upload-form" in html
    assert "Re-analyse session" in html
    assert 'data-status="done"' in html


def test_the_score_panel_can_be_fetched_alone(client, alice, bob, session):
    analysed(session, "a.c3d", overall=64.0)
    client.force_login(alice)
    html = client.get(reverse("analysis:session_score", args=[session.pk])).content.decode()
    assert html.strip().startswith('<div class="score-panel" data-session-score')
    assert ">86<" in html  # computed from the stored components and the session's RPE
    client.force_login(bob)
    assert client.get(reverse("analysis:session_score", args=[session.pk])).status_code == 404
