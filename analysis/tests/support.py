"""Helpers shared by the pipeline tests (real files, role groups, real workers)."""

from __future__ import annotations

import pytest


def ensure_role_groups():
    """Recreate the role groups with their permissions when missing.

    A transactional test flushes the groups the migrations created, and with --reuse-db the next
    run starts from that flushed database.
    """
    from django.contrib.auth.models import Group, Permission

    from clinic.roles import ROLE_PERMISSIONS

    for name, perms in ROLE_PERMISSIONS.items():
        group, created = Group.objects.get_or_create(name=name)
        if not created and group.permissions.exists():
            continue
        for dotted in perms:
            app_label, codename = dotted.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


@pytest.fixture(autouse=True)
def role_groups(request):
    """Every test here uses the database; give it the role groups (see ensure_role_groups)."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction"))
    request.getfixturevalue("transactional_db" if transactional else "db")
    ensure_role_groups()


def make_recording(session, name="round1.c3d", data=None, **fields):
    """A Recording row with a small stored file (for tests that never run the core)."""
    import hashlib

    from django.core.files.base import ContentFile

    from sessions.models import Recording

    data = data if data is not None else name.encode()
    recording = Recording(
        session=session,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        original_name=name,
        **fields,
    )
    recording.file.save(name, ContentFile(data), save=False)
    recording.save()
    return recording


def contract_document(*, overall=80.0, left_good=10, version="test-1"):
    """A result document shaped like the numeric core's contract, with known numbers."""

    def contraction(i, good):
        return {
            "start_s": 5.0 * i,
            "end_s": 5.0 * i + 2.5,
            "duration_s": 2.5,
            "peak": 0.0009,
            "mean": 0.0006,
            "peak_pct_mvc": 90.0 if good else 40.0,
            "mean_pct_mvc": 60.0,
            "area": 0.0015,
            "mnf_hz": 80.0 - i,
            "mdf_hz": 70.0 - i,
            "fi_nsm5": 1e-12,
            "meets_intensity": good,
            "meets_duration": True,
            "good": good,
        }

    def channel(label, side, good, game_count):
        return {
            "label": label,
            "muscle": "quadriceps",
            "side": side,
            "mvc": 0.001,
            "mvc_source": "calibration" if side == "left" else "estimated",
            "threshold": 0.0001,
            "threshold_off": 0.00005,
            "noise": 0.00002,
            "contractions": [contraction(i, i < good) for i in range(12)],
            "game_contractions": [
                {"start_s": 5.0 * i, "end_s": 5.0 * i + 2.0, "duration_s": 2.0, "peak": 0.5}
                for i in range(game_count)
            ],
            "summary": {
                "count": 12,
                "good": good,
                "intensity_ok": good,
                "duration_ok": 12,
                "time_under_tension_s": 30.0,
                "rms": 0.0003,
                "mav": 0.0002,
                "mnf_slope_hz_per_contraction": -1.0,
                "mdf_slope_hz_per_contraction": -1.0,
                "mnf_slope_pct_per_min": -2.5,
                "mdf_slope_pct_per_min": -3.0 if side == "left" else float("nan"),
                "fi_nsm5_ratio": 1.4,
                "saturation_pct": 0.0,
                "snr_db": 25.0,
                "game_count": game_count,
            },
            "envelope": {"rate_hz": 10.0, "values": [0.0, 0.0002, 0.0009, 0.0001]},
        }

    return {
        "version": version,
        "units": {"amplitude": "V"},
        "recording": {
            "rate_hz": 990.0,
            "duration_s": 75.03,
            "n_samples": 74280,
            "started_at": "2023-03-21T17:23:00",
            "metadata": {"game_name": "Ghostly", "game_level": 2, "game_score": 24},
            "warnings": ["CH2 Raw: clipped runs at -5.5 mV"],
            "saturation": {},
        },
        "channels": [
            channel("CH1 Raw", "left", left_good, 11),
            channel("CH2 Raw", "right", 6, 12),
        ],
        "score": {
            "overall": overall,
            "compliance": {"CH1 Raw": 90.0, "CH2 Raw": 70.0, "mean": 80.0},
            "symmetry": 87.5,
            "effort": None,
            "game": None,
            "missing": ["effort", "game"],
            "weights": {"compliance": 0.5, "symmetry": 0.2, "effort": 0.2, "game": 0.1},
            "bfr": {"pressure_pct_aop": None, "in_safe_band": None, "gated": False},
        },
        "parameters": {},
    }
