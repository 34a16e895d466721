"""Fixtures of the pipeline tests."""

from analysis.tests.support import role_groups  # noqa: F401 - autouse fixture
