"""What the result and session pages read, in a fixed number of queries."""

import pytest

from analysis.selectors import recording_result, session_summary
from analysis.tests.support import analysed, make_recording


@pytest.fixture
def session(session_of, alices_patient):
    return session_of(alices_patient, rpe=5)


def test_the_result_grades_contractions_and_draws_the_target_line(session):
    recording = analysed(session, "r1.c3d", left_good=7)
    result = recording_result(recording)
    left = result["channels"][0]
    grades = [c.grade for c in left["contractions"]]
    assert grades.count("good") == 7
    assert grades.count("duration") == 5  # long enough, too weak
    assert len(left["game_contractions"]) == 11
    assert left["target_v"] == pytest.approx(0.00075)  # 75 % of a 1 mV MVC
    assert left["mvc_source"] == "calibration"
    # The session's RPE 5 gives effort at once; the game needs the clinic's maximum.
    assert result["score"]["missing"] == ["game"]
    assert result["score"]["missing_reasons"] == {"game": "no_game_score_max"}


def test_the_result_reads_in_four_queries_however_many_contractions(
    session, django_assert_num_queries
):
    recording = analysed(session, "r1.c3d")
    with django_assert_num_queries(4):  # analysis, channels, contractions, the session's facts
        result = recording_result(recording)
        assert sum(len(c["contractions"]) for c in result["channels"]) == 24


def test_a_recording_without_results_has_an_empty_result(session):
    result = recording_result(make_recording(session, "pending.c3d"))
    assert result["analysis"] is None
    assert result["channels"] == []


def test_the_session_score_combines_stored_components_with_the_sessions_facts(
    session, django_assert_num_queries
):
    for i, overall in enumerate((60.0, 80.0, 100.0)):
        analysed(session, f"r{i}.c3d", overall=overall)
    make_recording(session, "still-pending.c3d")
    with django_assert_num_queries(3):
        summary = session_summary(session)
    score = summary["score"]
    # Compliance 80 and symmetry 87.5 (stored), effort 100 from the session's RPE 5, weights
    # 0.5/0.2/0.2 renormalised without the game: the documents' stored overall is not used.
    assert score["overall"] == pytest.approx((0.5 * 80 + 0.2 * 87.5 + 0.2 * 100) / 0.9)
    assert score["effort"] == 100.0
    assert score["compliance"] == {"left quadriceps": 90.0, "right quadriceps": 70.0, "mean": 80.0}
    assert score["recordings"] == 3
    assert score["missing"] == ["game"]
    assert score["missing_reasons"] == {"game": "no_game_score_max"}
    assert score["bfr"]["gated"] is False
    assert [row["status"]["status"] for row in summary["recordings"]] == [
        "done",
        "done",
        "done",
        "pending",
    ]
    assert summary["rpe"] == 5


def test_the_session_score_follows_an_edited_rpe_and_bfr_without_reanalysis(session):
    analysed(session, "r1.c3d")
    session.rpe = 2
    session.bfr_pressure_pct_aop = 50
    session.save()
    score = session_summary(session)["score"]
    assert score["effort"] == 25.0  # RPE 2 by the stored table
    assert score["overall"] == pytest.approx((0.5 * 80 + 0.2 * 87.5 + 0.2 * 25) / 0.9)
    session.bfr_pressure_pct_aop = 70
    session.save()
    score = session_summary(session)["score"]
    assert score["overall"] is None
    assert score["bfr"] == {
        "pressure_pct_aop": 70.0,
        "in_safe_band": False,
        "gated": True,
        "safe_band_pct_aop": [45.0, 55.0],
    }
    assert score["effort"] == 25.0  # the components stay visible


def test_the_session_score_uses_the_stored_scoring_config(session):
    # Weights, RPE table, safe band and game maximum are those the analysis was computed with.
    analysed(
        session,
        "r1.c3d",
        scoring={
            "weights": {"compliance": 1.0, "symmetry": 0.0, "effort": 1.0, "game": 0.0},
            "rpe_table": [[0, 0.0], [10, 50.0]],
            "bfr_safe_band_pct_aop": [60.0, 80.0],
        },
    )
    session.bfr_pressure_pct_aop = 70
    session.save()
    score = session_summary(session)["score"]
    assert score["effort"] == 25.0  # RPE 5 on a 0-10 -> 0-50 table
    assert score["overall"] == pytest.approx((80 + 25) / 2)
    assert score["bfr"]["in_safe_band"] is True
    assert score["weights"] == {"compliance": 1.0, "symmetry": 0.0, "effort": 1.0, "game": 0.0}


def test_a_session_without_analysed_recordings_says_so(session):
    make_recording(session, "pending.c3d")
    score = session_summary(session)["score"]
    assert score["overall"] is None
    assert score["missing_reasons"]["compliance"] == "no_recording_analysed"
