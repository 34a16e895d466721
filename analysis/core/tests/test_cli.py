"""``python -m analysis.core`` as a separate process, without Django."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import REPO, run_python


def _run(*args: str) -> subprocess.CompletedProcess:
    return run_python("-m", "analysis.core", *args)


def test_analyse_prints_one_json_document_in_volts(game_file):
    out = _run("analyse", str(game_file), "--json", "--rpe", "6", "--mvc", "CH1=300uV")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["units"]["amplitude"].startswith("V")
    assert doc["recording"]["n_samples"] == 173_370
    ch1 = doc["channels"][0]
    assert (ch1["mvc"], ch1["mvc_source"]) == (300e-6, "entered")
    assert doc["score"]["effort"] == 100.0
    assert "sys.modules" not in out.stderr


def test_analyse_prints_a_human_summary_in_microvolts(game_file):
    out = _run("analyse", str(game_file))
    assert out.returncode == 0, out.stderr
    assert "CH1 Raw (left quadriceps)" in out.stdout
    assert " uV" in out.stdout
    assert "score: overall" in out.stdout


def test_an_invalid_file_exits_2_with_its_reason(c3d_dir):
    empty = str(c3d_dir / "other" / "Empty.c3d")
    out = _run("analyse", empty, "--json")
    assert out.returncode == 2
    assert json.loads(out.stdout) == {"error": "file is empty (0 bytes)"}
    out = _run("analyse", empty)
    assert out.returncode == 2
    assert out.stderr.strip().endswith("file is empty (0 bytes)")


def test_a_bad_config_key_is_a_clear_error(game_file):
    out = _run("analyse", str(game_file), "--json", "--config", '{"envelope_ms": 50}')
    assert out.returncode == 2
    assert "unknown AnalysisConfig key(s): envelope_ms" in json.loads(out.stdout)["error"]


def test_synth_writes_a_recording_and_its_ground_truth(tmp_path):
    out = _run("synth", str(tmp_path), "--scenario", "hum_50hz", "--seed", "5", "--duration", "90")
    assert out.returncode == 0, out.stderr
    c3d, truth = (Path(line) for line in out.stdout.split())
    assert c3d.name.startswith("Ghostly_Emg_")
    data = json.loads(truth.read_text())
    assert data["scenario"] == "hum_50hz"
    assert len(data["channels"]["CH1 Raw"]["contractions"]) == 12
    analysed = _run("analyse", str(c3d), "--json")
    assert json.loads(analysed.stdout)["channels"][0]["summary"]["count"] == 12


def test_the_cli_does_not_import_django():
    code = (
        "import sys, runpy; sys.argv = ['x', '--help']\n"
        "try:\n    runpy.run_module('analysis.core', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "assert 'django' not in sys.modules, 'django imported'\n"
    )
    out = run_python("-c", code)
    assert out.returncode == 0, out.stderr


def test_a_reader_that_goes_away_ends_the_output_without_a_traceback(game_file):
    # ``analyse FILE | head`` closes the pipe before the summary is written
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "analysis.core", "analyse", str(game_file)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1
    assert "Traceback" not in stderr
