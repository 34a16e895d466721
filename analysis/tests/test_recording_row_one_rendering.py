"""One rendering of a recording row (issue 16): the row the session page shows after a reload is
the row the live page fetches when a recording is done, and its results open on demand."""

import re
from html import escape

import pytest
from django.urls import reverse

from analysis.grading import failure_advice
from analysis.tests.support import analysed, make_recording
from sessions.models import Recording

pytestmark = pytest.mark.django_db


def squeeze(html: str) -> str:
    return re.sub(r"\s+", " ", html).strip()


def test_the_live_row_is_the_reloaded_row_with_results_on_demand(
    client, alice, alices_patient, session_of
):
    session = session_of(alices_patient)
    done = analysed(session, "done.c3d")
    failed = make_recording(
        session, "failed.c3d", status=Recording.Status.FAILED, failure_reason="not EMG"
    )
    client.force_login(alice)
    page = squeeze(client.get(session.get_absolute_url()).content.decode())
    for recording in (done, failed):
        row = squeeze(
            client.get(reverse("analysis:recording_row", args=[recording.pk])).content.decode()
        )
        assert row in page, recording
    assert 'class="chart"' not in page  # charts open on demand, not with the page
    results_url = reverse("analysis:recording_results", args=[done.pk]) + "?fragment=1"
    assert f'data-results-url="{results_url}"' in page
    assert page.count('<details class="row-results"') == 1  # a failed file has no results
    fragment = client.get(results_url).content.decode()
    assert 'class="recording-results"' in fragment
    assert 'class="chart"' in fragment


def test_a_failed_row_gives_the_advice_first_and_the_reason_behind_it(
    client, alice, alices_patient, session_of
):
    """The row of a failed file, as the session page and the live page (its fetched row) show
    it: what to do, then the technical reason inside a closed <details>."""
    reason = "ANALOG:RATE is 0: the duration cannot be computed"
    failed = make_recording(
        session_of(alices_patient), "bad.c3d", status=Recording.Status.FAILED, failure_reason=reason
    )
    client.force_login(alice)
    row = squeeze(client.get(reverse("analysis:recording_row", args=[failed.pk])).content.decode())
    advice = row.index(f"<p data-failure-advice>{escape(failure_advice(reason))}</p>")
    details = row.index("<details><summary>Technical detail</summary>")
    assert advice < details < row.index(escape(reason))
    assert row.count(escape(reason)) == 1  # the reason only behind the <details>
    pending = make_recording(session_of(alices_patient), "next.c3d")
    row = squeeze(client.get(reverse("analysis:recording_row", args=[pending.pk])).content.decode())
    assert '<div class="failure-advice" data-failure hidden>' in row
    assert "<p data-failure-advice></p>" in row
