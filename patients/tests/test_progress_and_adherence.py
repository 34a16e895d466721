"""A patient's progress across sessions and adherence to the plan, in a fixed number of queries."""

import datetime as dt

import pytest

from analysis.tests.support import analysed
from patients.progress import patient_adherence, patient_progress


def test_progress_has_one_point_per_session_in_constant_queries(
    alices_patient, session_of, django_assert_max_num_queries
):
    for day in range(1, 6):
        session = session_of(
            alices_patient, started_at=dt.datetime(2026, 3, day, 10, tzinfo=dt.UTC), rpe=day
        )
        analysed(session, f"day{day}-a.c3d", overall=50.0 + day)
        analysed(session, f"day{day}-b.c3d", overall=60.0 + day)
    with django_assert_max_num_queries(3):
        points = patient_progress(alices_patient)
    # The stored components (compliance 80, symmetry 87.5) with each session's own RPE 1-5
    # (effort 10, 25, 50, 75, 100 by the default table), as on the session page.
    expected = [(0.5 * 80 + 0.2 * 87.5 + 0.2 * effort) / 0.9 for effort in (10, 25, 50, 75, 100)]
    assert [p["score"]["overall"] for p in points] == pytest.approx(expected)
    assert points[0]["score"]["missing_reasons"] == {"game": "no_game_score_max"}
    assert points[0]["compliance"] == {"left quadriceps": 90.0, "right quadriceps": 70.0}
    assert points[0]["mdf_slope_pct_per_min"]["left quadriceps"] == -3.0
    assert points[0]["mdf_slope_pct_per_min"]["right quadriceps"] is None
    assert [p["rpe"] for p in points] == [1, 2, 3, 4, 5]


def test_adherence_counts_this_patients_sessions_against_the_plan(
    alices_patient, bobs_patient, session_of
):
    alices_patient.treatment_start = dt.date(2026, 3, 2)  # a Monday
    alices_patient.save()
    for day in (2, 3, 4):
        session_of(alices_patient, started_at=dt.datetime(2026, 3, day, 10, tzinfo=dt.UTC))
    # Bob's patient's sessions never count for Alice's patient.
    for day in (2, 3, 4, 5):
        session_of(bobs_patient, started_at=dt.datetime(2026, 3, day, 10, tzinfo=dt.UTC))
    adherence = patient_adherence(alices_patient, today=dt.date(2026, 3, 8))
    assert adherence["done"] == 3
    assert adherence["expected"] == 5  # one full week at 5 sessions a week
    assert adherence["planned_total"] == 10
    assert adherence["ratio"] == 0.6
    late = patient_adherence(alices_patient, today=dt.date(2026, 6, 1))
    assert late["expected"] == 10  # capped at the programme's length


def test_a_progress_point_follows_the_sessions_current_rpe_and_bfr(alices_patient, session_of):
    # The same definition as the session page: an edited BFR pressure withholds the point's
    # score, an edited RPE changes its effort, without re-analysis.
    session = session_of(alices_patient, rpe=6, bfr_pressure_pct_aop=50)
    analysed(session, "a.c3d")
    assert patient_progress(alices_patient)[0]["score"]["effort"] == 100.0
    session.rpe, session.bfr_pressure_pct_aop = 2, 70
    session.save()
    score = patient_progress(alices_patient)[0]["score"]
    assert score["effort"] == 25.0
    assert score["overall"] is None
    assert score["bfr"]["gated"] is True
