"""`manage.py export_reports`: one PDF per session, one progress report per patient, one line
per file, non-zero exit when any failed."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from pypdf import PdfReader

from analysis.tests.support import analysed
from reports.tests.support import pdf_text

pytestmark = pytest.mark.django_db


def _session(session_of, patient, day):
    started = timezone.make_aware(dt.datetime.combine(day, dt.time(9, 30)))
    session = session_of(patient, started_at=started, rpe=5)
    analysed(session, f"{day}.c3d")
    return session


def test_sessions_by_id(tmp_path, session_of, alices_patient):
    first = _session(session_of, alices_patient, dt.date(2026, 4, 1))
    second = _session(session_of, alices_patient, dt.date(2026, 4, 3))
    out = io.StringIO()
    call_command(
        "export_reports",
        "--session",
        str(first.pk),
        str(second.pk),
        "--out",
        str(tmp_path),
        stdout=out,
    )
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert all(line.startswith("ok ") for line in lines)
    files = sorted(tmp_path.glob("*.pdf"))
    assert [f.name.split("-")[1] for f in files] == [str(first.pk), str(second.pk)]
    assert "P001" in pdf_text(files[0].read_bytes())


def test_a_missing_session_fails_the_run_but_the_others_are_written(
    tmp_path, session_of, alices_patient
):
    session = _session(session_of, alices_patient, dt.date(2026, 4, 1))
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 report"):
        call_command(
            "export_reports",
            "--session",
            str(session.pk),
            "999999",
            "--out",
            str(tmp_path),
            stdout=out,
        )
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("ok ")
    assert lines[1] == "failed session 999999: no such session"
    assert len(list(tmp_path.glob("*.pdf"))) == 1


def test_a_patient_and_range(tmp_path, session_of, alices_patient):
    for day in (1, 8, 15):
        _session(session_of, alices_patient, dt.date(2026, 4, day))
    out = io.StringIO()
    call_command(
        "export_reports",
        "--patient",
        "P001",
        "--from",
        "2026-04-05",
        "--to",
        "2026-04-30",
        "--out",
        str(tmp_path),
        "--pseudonymised",
        stdout=out,
    )
    lines = out.getvalue().splitlines()
    assert len(lines) == 3  # two sessions in the range and the progress report
    names = sorted(p.name for p in tmp_path.glob("*.pdf"))
    assert sum(n.startswith("session-") for n in names) == 2
    (progress,) = [n for n in names if n.startswith("progress-P001-2026-04-05-to-2026-04-30")]
    pdf = (tmp_path / progress).read_bytes()
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 1
    assert "Aldersley" not in pdf_text(pdf)


def test_bad_arguments_are_clear(tmp_path):
    with pytest.raises(CommandError, match="no patient with code NOPE"):
        call_command("export_reports", "--patient", "NOPE", "--out", str(tmp_path))
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command(
            "export_reports", "--patient", "NOPE", "--from", "4/5/26", "--out", str(tmp_path)
        )
