"""The no-JavaScript upload form, end to end through a real Celery worker on the real broker."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from analysis.pipeline.queue import recordings_wait
from conftest import shared_c3d_dir
from sessions.models import Recording

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

GHOSTLY = "ghostly/Ghostly_Emg_20230321_17-23-09-0409.c3d"


def test_a_form_upload_ends_with_charts_and_metrics_on_the_session_page(
    worker, client, alice, alices_patient, session_of
):
    session = session_of(alices_patient, rpe=5)
    path = shared_c3d_dir() / GHOSTLY
    page = reverse("sessions:upload", args=[session.pk])
    client.force_login(alice)
    response = client.post(
        page, {"files": [SimpleUploadedFile(path.name, path.read_bytes())], "next": page}
    )
    assert response.status_code == 302
    recording = Recording.objects.get(session=session)
    statuses = recordings_wait(recording_ids=[recording.pk], timeout_s=60, poll_s=0.2)
    assert statuses[recording.pk] == "done", Recording.objects.get(pk=recording.pk).failure_reason

    html = client.get(page).content.decode()
    assert f'data-recording-id="{recording.pk}" data-status="done"' in html
    row = client.get(reverse("analysis:recording_row", args=[recording.pk]) + "?results=1")
    row_html = row.content.decode()
    assert row_html.count('class="chart"') >= 2
    assert 'data-metric="game_count"' in row_html
    assert "MVC estimated" in row_html  # this patient has no calibration yet
