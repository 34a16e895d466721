"""One rendering of a recording row (issue 16): the row the session page shows after a reload is
the row the live page fetches when a recording is done, and its results open on demand."""

import re

import pytest
from django.urls import reverse

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
