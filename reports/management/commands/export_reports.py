"""`manage.py export_reports (--session ID ... | --patient CODE [--from D --to D]) --out DIR`.

Writes report PDFs for archiving: one session report per session, and with ``--patient`` one
per non-voided session in the range plus one progress report of the patient. Rendered by the
same services as the pages (``reports.services``), as the system (identified variant unless
``--pseudonymised``). Prints one line per file (``ok PATH`` or ``failed WHAT: REASON``) and exits
non-zero when any failed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from patients.models import Patient
from patients.selectors import patient_by_code
from reports import services
from reports.render import ReportRenderError
from reports.selectors import IDENTIFIED, PSEUDONYMISED
from sessions.models import TherapySession


def _day(value: str) -> dt.date:
    try:
        if len(value) != 10:
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date as YYYY-MM-DD") from None


class Command(BaseCommand):
    help = "Write session and progress report PDFs into a folder (for archiving)."

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument(
            "--session", type=int, nargs="+", action="extend", metavar="ID", help="session ids"
        )
        target.add_argument("--patient", metavar="CODE", help="a patient's sessions and progress")
        parser.add_argument("--clinic", metavar="CODE", help="the patient's clinic, if ambiguous")
        parser.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD")
        parser.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
        parser.add_argument(
            "--pseudonymised", action="store_true", help="code and age band only (research)"
        )

    def handle(self, *args, **options):
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        variant = PSEUDONYMISED if options["pseudonymised"] else IDENTIFIED
        date_from = _day(options["date_from"]) if options["date_from"] else None
        date_to = _day(options["date_to"]) if options["date_to"] else None
        if date_from and date_to and date_from > date_to:
            raise CommandError("--from must not be after --to")
        if options["session"] and (date_from or date_to):
            raise CommandError("--from/--to go with --patient")
        failures = 0
        if options["session"]:
            for session_id in options["session"]:
                session = (
                    TherapySession.objects.select_related("patient", "therapist")
                    .filter(pk=session_id)
                    .first()
                )
                if session is None:
                    self.stdout.write(f"failed session {session_id}: no such session")
                    failures += 1
                    continue
                failures += self._session(session, out, variant)
        else:
            try:
                patient = patient_by_code(options["patient"], clinic_code=options["clinic"])
            except (Patient.DoesNotExist, Patient.MultipleObjectsReturned) as exc:
                raise CommandError(str(exc)) from None
            sessions = TherapySession.objects.filter(
                patient=patient, voided_at__isnull=True
            ).select_related("patient", "therapist")
            for session in sessions.order_by("started_at", "pk"):
                day = timezone.localtime(session.started_at).date()
                if (date_from and day < date_from) or (date_to and day > date_to):
                    continue
                failures += self._session(session, out, variant)
            failures += self._write(
                f"progress report of {patient.code}",
                out,
                lambda: services.progress_report_pdf(
                    None, patient, date_from=date_from, date_to=date_to, variant=variant
                ),
            )
        if failures:
            raise CommandError(f"{failures} report(s) failed")

    def _session(self, session, out, variant) -> int:
        return self._write(
            f"session {session.pk}",
            out,
            lambda: services.session_report_pdf(None, session, variant=variant),
        )

    def _write(self, what, out: Path, build) -> int:
        try:
            report = build()
        except (ReportRenderError, OSError, ValueError) as exc:
            self.stdout.write(f"failed {what}: {exc}")
            return 1
        path = out / report.filename
        try:
            path.write_bytes(report.pdf)
        except OSError as exc:
            self.stdout.write(f"failed {what}: {exc}")
            return 1
        self.stdout.write(f"ok {path} ({len(report.pdf)} bytes)")
        return 0
