"""The stateless analysis page: the same results from a file, nothing stored, form errors."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from analysis.models import RecordingAnalysis
from conftest import shared_c3d_dir
from sessions.models import Recording

GHOSTLY = "ghostly/Ghostly_Emg_20230321_17-23-09-0409.c3d"


def post(client, upload):
    return client.post(reverse("analysis:stateless"), {"file": upload})


def stored_files(settings):

    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_game_recording_is_analysed_and_nothing_is_stored(client, alice, settings):
    before = stored_files(settings)
    path = shared_c3d_dir() / GHOSTLY
    client.force_login(alice)
    response = post(client, SimpleUploadedFile(path.name, path.read_bytes()))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="chart"') >= 2
    assert 'data-metric="count"' in html
    assert 'data-metric="game_count"' in html
    assert "Game registered " in html  # the game's count and its agreement with ours
    assert "; matched " in html
    assert "MVC estimated" in html  # a file alone has no calibration
    assert not Recording.objects.exists()
    assert not RecordingAnalysis.objects.exists()
    assert stored_files(settings) == before


def test_a_file_that_is_not_c3d_is_a_form_error(client, alice):
    client.force_login(alice)
    response = post(client, SimpleUploadedFile("photo.jpg", b"\xff\xd8\xff\xe0" + b"0" * 2000))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="errorlist' in html
    assert "photo.jpg is not a C3D recording" in html


def test_a_truncated_c3d_is_a_form_error_with_the_readers_reason(client, alice):
    data = (shared_c3d_dir() / GHOSTLY).read_bytes()[:4096]
    client.force_login(alice)
    response = post(client, SimpleUploadedFile("cut.c3d", data))
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert "cut.c3d" in response.content.decode()


def test_posting_without_a_file_is_a_form_error(client, alice):
    client.force_login(alice)
    response = client.post(reverse("analysis:stateless"), {})
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()


@pytest.mark.parametrize("persona", ["bob", "dave"])
def test_it_does_not_depend_on_any_patient(client, everyone, persona):
    client.force_login(everyone[persona])
    assert client.get(reverse("analysis:stateless")).status_code == 200
