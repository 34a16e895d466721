"""Fixtures and helpers shared by the numeric core's tests: real recordings, no database.

The folder rule is the root conftest's ``shared_c3d_dir()``: in CI a missing folder fails;
only on a machine without ``../shared`` (outside CI) do the real-file tests skip. Helpers
that several test modules need live here once (``from .conftest import ...``).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_c3d_dir

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def c3d_dir() -> Path:
    return shared_c3d_dir()


@pytest.fixture(scope="session")
def game_file(c3d_dir) -> Path:
    """The 175 s game recording (clipped runs on CH1)."""
    return c3d_dir / "ghostly" / "Ghostly_Emg_20230321_17-50-17-0881.c3d"


def run_python(*args: str, timeout_s: float = 120) -> subprocess.CompletedProcess:
    """This interpreter in a fresh process from the repository root (imports as in
    production: nothing loaded by the test session leaks in)."""
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def wait_until(condition: Callable[[], bool], *, timeout_s: float = 5.0) -> bool:
    """Poll ``condition`` until it holds or the deadline passes; whether it held."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def runs_by_hand(mask) -> list[tuple[int, int]]:
    """[start, end) of the True runs of ``mask``, by a plain loop (the reference for the
    vectorised and compiled run finders)."""
    runs, start = [], None
    for i, v in enumerate(np.asarray(mask).tolist()):
        if v and start is None:
            start = i
        if not v and start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, len(mask)))
    return runs
