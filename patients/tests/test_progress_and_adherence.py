"""A patient's progress across sessions and adherence to the plan, in a fixed number of queries."""

import datetime as dt

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
    assert [p["score"]["overall"] for p in points] == [56.0, 57.0, 58.0, 59.0, 60.0]
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
