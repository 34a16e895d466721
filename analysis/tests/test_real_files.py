"""Every real recording in ../shared/data/c3d through the whole pipeline, with a real worker.

Each file ends ``done`` or ``failed`` with the reason a clinician needs; the empty file is
refused at upload, before any worker sees it. And no stored file is reachable without the
access-checked download view.
"""

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from analysis.models import RecordingAnalysis
from analysis.pipeline.queue import recordings_wait
from conftest import shared_c3d_dir
from sessions.uploads import UploadRefused, recording_upload

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# file -> ("done", None) or ("failed", words of the reason) or ("refused", words of the reason)
EXPECTED = {
    "Ghostly_Emg_20230321_17-23-09-0409.c3d": ("done", None),
    "Ghostly_Emg_20230321_17-50-17-0881.c3d": ("done", None),
    "Ghostly_Emg_20231004_13-18-43-0464.c3d": ("done", None),
    "1123x01EMG.c3d": ("done", None),
    "BTS.c3d": ("done", None),
    "Gait.c3d": ("done", None),
    "Vicon.c3d": ("done", None),
    "sub_labels.c3d": ("done", None),
    "Analysis.c3d": ("failed", "too low for raw surface EMG"),
    "DEC_INT.C3D": ("failed", "no EMG channel found"),
    "pc_int.c3d": ("failed", "no EMG channel found"),
    "sgi_real.c3d": ("failed", "no EMG channel found"),
    "Kistler.c3d": ("failed", "duration cannot be computed"),
    "Empty.c3d": ("refused", "the file is empty"),
}


def test_every_real_file_ends_done_or_failed_with_the_right_reason(
    worker, session_of, alices_patient, alice, dave, zoe
):
    files = sorted(p for p in shared_c3d_dir().rglob("*") if p.is_file())
    assert {p.name for p in files} == set(EXPECTED), "a new file in ../shared needs a verdict"
    session = session_of(alices_patient)
    outcomes, recordings = {}, {}
    for path in files:
        try:
            recording = recording_upload(
                session=session,
                uploaded_file=SimpleUploadedFile(path.name, path.read_bytes()),
                user=alice,
            )
        except UploadRefused as exc:
            outcomes[path.name] = ("refused", exc.message)
        else:
            recordings[path.name] = recording
    statuses = recordings_wait(
        recording_ids=[r.pk for r in recordings.values()], timeout_s=120, poll_s=0.2
    )
    for name, recording in recordings.items():
        recording.refresh_from_db()
        assert statuses[recording.pk] == recording.status
        outcomes[name] = (recording.status, recording.failure_reason)

    for name, (status, words) in EXPECTED.items():
        got_status, reason = outcomes[name]
        assert got_status == status, f"{name}: {got_status} ({reason})"
        if words:
            assert words in reason, f"{name}: {reason!r}"
        else:
            assert RecordingAnalysis.objects.filter(
                recording=recordings[name], is_current=True
            ).exists()

    # No stored file is served by URL; the download view answers by the access policy.
    client = Client()
    client.force_login(zoe)
    for recording in recordings.values():
        assert client.get(settings.MEDIA_URL + recording.file.name).status_code == 404
    some = next(iter(recordings.values()))
    url = reverse("sessions:recording-download", args=[some.pk])
    client.force_login(dave)
    assert client.get(url).status_code == 404
    client.force_login(alice)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == some.file.open("rb").read()
