"""POST /api/v1/analyze/: the CLI's document for an uploaded file, nothing stored, throttled."""

import json
import subprocess
import sys

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from analysis.models import RecordingAnalysis
from conftest import REPO_ROOT, shared_c3d_dir
from sessions.models import Recording

pytestmark = pytest.mark.django_db
URL = "/api/v1/analyze/"


@pytest.fixture
def two_per_minute(monkeypatch, alice, rita):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "analyze", "2/minute")
    keys = [f"throttle_analyze_{user.pk}" for user in (alice, rita)]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


def post(user, name, data):
    client = APIClient()
    client.force_authenticate(user)
    return client.post(URL, {"file": SimpleUploadedFile(name, data)}, format="multipart")


def test_same_document_as_the_cli_nothing_stored_and_throttled(alice, rita, two_per_minute):
    path = sorted((shared_c3d_dir() / "ghostly").glob("*.c3d"))[0]
    response = post(alice, path.name, path.read_bytes())
    assert response.status_code == 200, response.content
    document = response.json()
    cli = subprocess.run(
        [sys.executable, "-m", "analysis.core", "analyse", str(path), "--json", "--envelope"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    assert document == json.loads(cli.stdout)
    assert document["channels"][0]["envelope"]
    assert Recording.objects.count() == 0
    assert RecordingAnalysis.objects.count() == 0
    refused = post(alice, "notes.c3d", b"not a c3d file at all" * 30)
    assert refused.status_code == 400
    assert "not a C3D recording" in refused.json()["errors"]["file"][0]
    throttled = post(alice, path.name, path.read_bytes())
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    assert throttled.json()["code"] == "throttled"
    # Per user: another user still may.
    assert post(rita, "x.c3d", b"nope" * 200).status_code == 400


def test_anonymous_and_missing_file(db):
    assert APIClient().post(URL).status_code == 401
