"""`manage.py import_recordings PATH... (--session ID | --patient CODE) [--wait] [--json]`.

For clinics that collect the game's files from tablets. Every file goes through the same upload
service as the pages (same checks, same queue). With ``--patient``, the recordings are grouped
into one session per recording date (the date in the game's file name, else the file's
modification date), reusing the patient's session of that day when there is one.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from analysis.models import RecordingAnalysis
from analysis.pipeline.queue import recordings_wait
from patients.models import Patient
from patients.selectors import patient_by_code
from sessions.models import Recording, TherapySession
from sessions.services import session_of_day
from sessions.uploads import UploadRefused, recording_upload

GHOSTLY_NAME = re.compile(r"(\d{4})(\d{2})(\d{2})_(\d{2})-(\d{2})-(\d{2})")


def recording_files(paths: list[str]) -> list[Path]:
    """The files named, and the *.c3d files found under the folders named, in a stable order."""
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".c3d")
            )
        elif path.is_file():
            found.append(path)
        else:
            raise CommandError(f"{raw}: no such file or folder")
    return found


def recorded_at(path: Path) -> dt.datetime:
    """When the game recorded the file: from its name, else the file's modification time."""
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    match = GHOSTLY_NAME.search(path.name)
    if match:
        try:
            return dt.datetime(*map(int, match.groups()), tzinfo=tz)
        except ValueError:
            pass
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=tz)


class Command(BaseCommand):
    help = "Import C3D recordings (files or folders) through the upload service."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--session", type=int, metavar="ID", help="add all to this session")
        target.add_argument("--patient", metavar="CODE", help="one session per recording date")
        parser.add_argument("--clinic", metavar="CODE", help="the patient's clinic, if ambiguous")
        parser.add_argument("--wait", action="store_true", help="wait for the analyses to finish")
        parser.add_argument("--timeout", type=float, default=1800.0, help="seconds for --wait")
        parser.add_argument("--json", action="store_true", help="one JSON line per file")

    def handle(self, *args, **options):
        files = recording_files(options["paths"])
        session = patient = None
        if options["session"] is not None:
            session = TherapySession.objects.filter(pk=options["session"]).first()
            if session is None:
                raise CommandError(f"no session with id {options['session']}")
        else:
            patient = self.patient(options["patient"], options["clinic"])

        rows = []
        for path in files:
            row = {"file": str(path), "recording": None, "status": "refused"}
            row |= {"failure_reason": "", "results": None}
            target = session or session_of_day(patient=patient, when=recorded_at(path))
            try:
                with path.open("rb") as handle:
                    recording = recording_upload(
                        session=target, uploaded_file=File(handle, name=path.name)
                    )
            except UploadRefused as exc:
                row["failure_reason"] = exc.messages[0]
            else:
                row["recording"] = recording.pk
                row["status"] = recording.status
            rows.append(row)

        ids = [row["recording"] for row in rows if row["recording"] is not None]
        if options["wait"] and ids:
            recordings_wait(recording_ids=ids, timeout_s=options["timeout"])
        self.report(rows, as_json=options["json"])

    def report(self, rows, *, as_json):
        recordings = Recording.objects.in_bulk([r["recording"] for r in rows if r["recording"]])
        analyses = {
            a.recording_id: a
            for a in RecordingAnalysis.objects.filter(
                recording__in=list(recordings), is_current=True
            ).prefetch_related("channels")
        }
        for row in rows:
            recording = recordings.get(row["recording"])
            if recording is not None:
                row["status"] = recording.status
                row["failure_reason"] = recording.failure_reason
                analysis = analyses.get(recording.pk)
                if recording.status == Recording.Status.DONE and analysis is not None:
                    row["results"] = analysis.full_document()
            if as_json:
                self.stdout.write(json.dumps(row))
            else:
                reason = f": {row['failure_reason']}" if row["failure_reason"] else ""
                ident = f"recording {row['recording']}" if row["recording"] else "no recording"
                self.stdout.write(f"{row['file']}: {ident}, {row['status']}{reason}")

    @staticmethod
    def patient(code, clinic_code):
        try:
            return patient_by_code(code, clinic_code=clinic_code)
        except (Patient.DoesNotExist, Patient.MultipleObjectsReturned) as exc:
            raise CommandError(str(exc)) from None
