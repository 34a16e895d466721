"""`manage.py reanalyse`: queue sessions' recordings for analysis again, in bulk.

After an MVC calibration, a target or the scoring settings change. Old results stay current
until the new ones replace them atomically, and remain in the history.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from analysis.pipeline.queue import recordings_wait, session_reanalyse
from patients.models import Patient
from patients.selectors import patient_by_code
from sessions.models import TherapySession


class Command(BaseCommand):
    help = "Re-analyse the recordings of some sessions (or all) with the current settings."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--session", type=int, nargs="+", metavar="ID", help="session ids")
        which.add_argument("--patient", metavar="CODE", help="every session of this patient")
        which.add_argument("--all", action="store_true", help="every session")
        parser.add_argument("--clinic", metavar="CODE", help="the patient's clinic, if ambiguous")
        parser.add_argument("--wait", action="store_true", help="wait for the results")
        parser.add_argument("--timeout", type=float, default=3600.0, help="seconds for --wait")

    def handle(self, *args, **options):
        sessions = TherapySession.objects.active().select_related("patient").order_by("pk")
        if options["session"]:
            sessions = sessions.filter(pk__in=options["session"])
            missing = set(options["session"]) - set(sessions.values_list("pk", flat=True))
            if missing:
                raise CommandError(f"no active session with id {', '.join(map(str, missing))}")
        elif options["patient"]:
            sessions = sessions.filter(patient=self.patient(options["patient"], options["clinic"]))
        queued = []
        bar = tqdm(list(sessions), desc="sessions", unit="session", file=self.stderr._out)
        for session in bar:
            queued.extend(session_reanalyse(session=session))
        bar.close()
        self.stdout.write(f"queued {len(queued)} recording(s) from {bar.n} session(s)")
        if options["wait"] and queued:
            progress = tqdm(total=len(queued), desc="recordings", file=self.stderr._out)

            def advance(finished):
                progress.update(finished - progress.n)

            statuses = recordings_wait(
                recording_ids=queued, timeout_s=options["timeout"], on_progress=advance
            )
            progress.close()
            counts = {}
            for status in statuses.values():
                counts[status] = counts.get(status, 0) + 1
            self.stdout.write(", ".join(f"{n} {s}" for s, n in sorted(counts.items())))

    @staticmethod
    def patient(code, clinic_code):
        try:
            return patient_by_code(code, clinic_code=clinic_code, include_voided=True)
        except (Patient.DoesNotExist, Patient.MultipleObjectsReturned) as exc:
            raise CommandError(str(exc)) from None
