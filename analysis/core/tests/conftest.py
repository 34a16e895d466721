"""Fixtures for the numeric core's tests: the shared real recordings, no database.

The folder rule mirrors the root conftest's ``shared_c3d_dir()`` (in CI a missing folder
fails, never skips) without importing it, so these tests also run without Django.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
C3D_DIR = REPO_ROOT.parent / "shared" / "data" / "c3d"


@pytest.fixture(scope="session")
def c3d_dir() -> Path:
    if not C3D_DIR.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{C3D_DIR} is missing: CI must run with ../shared beside the repository")
        pytest.skip(f"{C3D_DIR} is not present on this machine")
    return C3D_DIR


@pytest.fixture(scope="session")
def game_file(c3d_dir) -> Path:
    """The 175 s game recording (clipped runs on CH1)."""
    return c3d_dir / "ghostly" / "Ghostly_Emg_20230321_17-50-17-0881.c3d"
