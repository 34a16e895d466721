"""The scoring config a session's score is computed with (issue 17: the core's defaults built
once per process): the core's defaults filled in under the newest analysis's stored keys, and
every caller gets its own dicts and lists, so changing one score block changes no other."""

import datetime as dt

from analysis.core.config import ScoringConfig
from analysis.models import RecordingAnalysis
from analysis.selectors import stored_scoring


def analysis(pk, created_at, scoring):
    return RecordingAnalysis(pk=pk, created_at=created_at, parameters={"scoring": scoring})


def test_without_analyses_the_core_defaults():
    assert stored_scoring([]) == ScoringConfig().to_dict()


def test_the_newest_analysis_speaks_over_the_defaults():
    day = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    older = analysis(1, day, {"target_pct_mvc": 60.0, "game_score_max": 10})
    newer = analysis(2, day + dt.timedelta(hours=1), {"weights": {"compliance": 1.0}})
    config = stored_scoring([newer, older])
    assert config == {**ScoringConfig().to_dict(), "weights": {"compliance": 1.0}}


def test_each_caller_gets_its_own_containers():
    first = stored_scoring([])
    first["weights"]["game"] = 99.0
    first["rpe_table"].clear()
    first["bfr_safe_band_pct_aop"].append(1.0)
    assert stored_scoring([]) == ScoringConfig().to_dict()
    one = analysis(1, dt.datetime(2026, 5, 1, tzinfo=dt.UTC), {})
    second = stored_scoring([one])
    second["compliance_weights"]["completion"] = 0.0
    assert stored_scoring([one]) == ScoringConfig().to_dict()
