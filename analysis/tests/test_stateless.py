"""Stateless analysis: the same isolated reader and analysis, and nothing stored anywhere."""

import os
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from analysis import core
from analysis.models import RecordingAnalysis
from analysis.pipeline.stateless import STATELESS_PREFIX, analysis_stateless
from conftest import shared_c3d_dir
from sessions.models import Recording
from sessions.uploads import UploadRefused

GHOSTLY = "ghostly/Ghostly_Emg_20231004_13-18-43-0464.c3d"


def stored_files():
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def temp_copies():
    """Temporary copies the service left behind (other processes' files do not count)."""
    return [n for n in os.listdir(tempfile.gettempdir()) if n.startswith(STATELESS_PREFIX)]


def upload(relative, data=None):
    path = shared_c3d_dir() / relative
    return SimpleUploadedFile(path.name, path.read_bytes() if data is None else data)


def test_it_returns_the_core_document_and_stores_nothing(db):
    before_files = stored_files()
    document = analysis_stateless(uploaded_file=upload(GHOSTLY))
    assert document["version"] == core.__version__
    assert [c["label"] for c in document["channels"]] == ["CH1 Raw", "CH2 Raw"]
    assert document["channels"][0]["envelope"]["values"]
    assert document["recording"]["duration_s"] == pytest.approx(63.88, abs=0.01)
    assert not Recording.objects.exists()
    assert not RecordingAnalysis.objects.exists()
    assert stored_files() == before_files
    assert temp_copies() == []  # its temporary copy is gone


def test_a_file_that_is_not_c3d_is_refused_before_reading(db):
    with pytest.raises(UploadRefused, match="the file is empty"):
        analysis_stateless(uploaded_file=upload("other/Empty.c3d"))


def test_an_unreadable_file_gives_the_readers_reason(db):
    data = (shared_c3d_dir() / GHOSTLY).read_bytes()[:4096]
    with pytest.raises(core.InvalidRecording) as refused:
        analysis_stateless(uploaded_file=upload(GHOSTLY, data))
    assert str(refused.value)
    assert temp_copies() == []


def test_a_file_of_another_system_is_analysed_by_its_labels(db):
    document = analysis_stateless(uploaded_file=upload("other/BTS.c3d"))
    assert "Left Rectus femoris" in [c["label"] for c in document["channels"]]
