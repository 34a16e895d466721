"""What a web process does once at start (config/asgi.py): every view imported, the live path's
kernels loaded, and all of it frozen out of the cyclic garbage collector's full passes."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROBE = """
import gc, json, sys
import config.asgi
from daphne import http_protocol
from analysis.pipeline.live_analysis import warm_up
print(json.dumps({
    "live_kernels_loaded": warm_up.cache_info().currsize == 1,
    "frozen": gc.get_freeze_count(),
    "tracked": len(gc.get_objects()),
    "daphne_leaves_forms_to_django": http_protocol.WebRequest.__name__ == "BodyOnlyWebRequest",
    "views_imported": all(m in sys.modules for m in (
        "patients.views", "sessions.views", "reports.views", "clinic.api.base")),
}))
"""


def test_the_web_process_imports_its_views_and_freezes_them_at_start(server_env):
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO,
        env=server_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    state = json.loads(out.stdout.strip().splitlines()[-1])
    assert state["views_imported"]
    assert state["daphne_leaves_forms_to_django"]
    assert state["live_kernels_loaded"]
    # nearly everything the process holds is out of the collector's full passes
    assert state["frozen"] > 100_000
    assert state["tracked"] < state["frozen"] / 20
