"""The display rules shared by pages, charts and reports."""

import pytest

from analysis.grading import contraction_grade, mvc_target_v


@pytest.mark.parametrize(
    ("intensity", "duration", "grade"),
    [
        (True, True, "good"),
        (True, False, "intensity"),
        (False, True, "duration"),
        (False, False, "neither"),
        (None, None, "neither"),  # a contraction the core could not judge is not graded good
    ],
)
def test_contraction_grade_follows_both_criteria(intensity, duration, grade):
    assert contraction_grade(meets_intensity=intensity, meets_duration=duration) == grade


def test_mvc_target_line_is_a_percentage_of_the_mvc():
    assert mvc_target_v(400e-6, 75.0) == pytest.approx(300e-6)


@pytest.mark.parametrize(("mvc_v", "target"), [(None, 75.0), (400e-6, None)])
def test_mvc_target_line_needs_both_values(mvc_v, target):
    assert mvc_target_v(mvc_v, target) is None
