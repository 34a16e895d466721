"""`manage.py stream_recording FILE.c3d --session ID [--url ws://HOST:PORT] [--token T]
[--speed N]`: replay a recording into a session's live ingest websocket, as a device would.

Exits 0 once the server has confirmed every sample (its ``stopped`` message counts them all),
1 with the server's reason otherwise. Without ``--token`` an ingest token is issued for the
session's therapist (the command runs with the server's database).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from analysis import core
from analysis.core.live_protocol import MAX_SPEED
from analysis.pipeline import live
from analysis.pipeline.live_replay import ReplayRefused, ingest_url, replay
from sessions.models import TherapySession


class Command(BaseCommand):
    help = "Replay a C3D recording into a session's live ingest websocket, as a device would."

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE.c3d")
        parser.add_argument("--session", type=int, required=True)
        parser.add_argument("--url", default="ws://127.0.0.1:8000")
        parser.add_argument("--token", default=None)
        parser.add_argument("--speed", type=float, default=1.0)
        parser.add_argument(
            "--remove-file", action="store_true", help="delete FILE afterwards (demo replays)"
        )

    def handle(self, *args, **options):
        session = TherapySession.objects.select_related("therapist").filter(pk=options["session"])
        session = session.first()
        if session is None:
            raise CommandError(f"no session {options['session']}")
        if not 0 < options["speed"] <= MAX_SPEED:
            raise CommandError(f"--speed must be above 0 and at most {MAX_SPEED:g}")
        token = options["token"]
        if not token:
            if session.therapist is None:
                raise CommandError("the session has no therapist: pass --token")
            token = live.ingest_token_issue(session=session, user=session.therapist)
        try:
            rec = core.read_recording(options["file"])
        except (core.InvalidRecording, OSError) as exc:
            raise CommandError(f"{options['file']}: {exc}") from exc
        finally:
            if options["remove_file"]:
                Path(options["file"]).unlink(missing_ok=True)
        labels = [c.label for c in rec.channels]
        samples = np.stack([np.asarray(c.values, dtype="<f4") for c in rec.channels], axis=1)
        url = ingest_url(options["url"], session.pk)
        self.stdout.write(
            f"streaming {samples.shape[0]} samples x {len(labels)} channels at "
            f"{rec.rate_hz:g} Hz ({options['speed']:g}x) to {url}"
        )
        try:
            result = asyncio.run(
                replay(
                    url=url,
                    token=token,
                    labels=labels,
                    rate_hz=rec.rate_hz,
                    samples=samples,
                    speed=options["speed"],
                )
            )
        except ReplayRefused as exc:
            raise CommandError(f"the server refused the stream: {exc}") from exc
        except OSError as exc:
            raise CommandError(f"cannot reach {url}: {exc}") from exc
        if result.samples != samples.shape[0]:
            raise CommandError(
                f"the server confirmed {result.samples} of {samples.shape[0]} samples"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"all {result.samples} samples confirmed; recording {result.recording}"
                + (f" ({result.reconnects} reconnects)" if result.reconnects else "")
            )
        )
