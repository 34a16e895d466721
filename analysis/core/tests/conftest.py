"""Fixtures for the numeric core's tests: the shared real recordings, no database.

The folder rule is the root conftest's ``shared_c3d_dir()``: in CI a missing folder fails;
only on a machine without ``../shared`` (outside CI) do the real-file tests skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import shared_c3d_dir


@pytest.fixture(scope="session")
def c3d_dir() -> Path:
    return shared_c3d_dir()


@pytest.fixture(scope="session")
def game_file(c3d_dir) -> Path:
    """The 175 s game recording (clipped runs on CH1)."""
    return c3d_dir / "ghostly" / "Ghostly_Emg_20230321_17-50-17-0881.c3d"
