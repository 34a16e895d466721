"""In Chromium, every staff page for each persona (issue 16): axe-core finds no serious or
critical violation (nor any of a few named rules, colour contrast first) at 1366 px, and at
768 px nothing but a table's own scrolling frame is wider than the window.

The pages come from the URL resolver (``config.tests.staff_pages``), filled with real objects:
a patient with a session, an analysed recording, a failed one, a calibration and audit entries.
axe-core is the copy shipped in the pinned ``axe-playwright-python`` package (never a CDN); it is
injected by Playwright's evaluate, which the page's CSP does not govern. Every page is also
saved as a full-page screenshot at 1366 and 768 px, per persona, in var/test-artefacts/pages/
(``PAGE_ARTEFACTS_DIR``): the screenshot set a person looks at.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.utils import timezone

from analysis.tests.support import analysed, login_session, make_recording
from config.tests.staff_pages import (
    ANONYMOUS_PAGES,
    AXE_EXCLUDE,
    AXE_KNOWN,
    NOT_PAGES,
    PAGES,
    PERSONAS,
    admin_pages,
    pages_for,
    resolver_names,
)
from patients.models import MvcCalibration

pytestmark = pytest.mark.browser

AXE = Axe()
# What fails: any violation of these impacts, and these rules whatever axe rates them (colour
# contrast; the empty table headers, skipped heading levels and missing landmarks found once).
FAILING_IMPACTS = {"serious", "critical"}
ALWAYS_FAILING = {
    "color-contrast",
    "empty-table-header",
    "heading-order",
    "landmark-one-main",
    "page-has-heading-one",
    "region",
}

# Elements wider than the window, outside a frame that scrolls sideways by itself (a table's).
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const inFrame = (e) => {
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) return true;
    }
    return false;
  };
  return [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > width + 1 && !inFrame(e))
    .filter((e) => e.getClientRects().length > 0)
    .map((e) => `${e.tagName}.${e.className}`)
    .slice(0, 10);
}"""


def failing_violations(page, name) -> list[str]:
    """axe-core's failing violations on the page, one line each (rule, impact, first targets)."""
    context = {"exclude": [[AXE_EXCLUDE[name]]]} if name in AXE_EXCLUDE else None
    results = AXE.run(page, context=context)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in results.response["violations"]
        if (v["impact"] in FAILING_IMPACTS or v["id"] in ALWAYS_FAILING)
        and (name, v["id"]) not in AXE_KNOWN
    ]


def page_objects(alices_patient, session_of, carol):
    alices_patient.treatment_start = timezone.localdate() - dt.timedelta(days=6)
    alices_patient.save()
    session = session_of(alices_patient, started_at=timezone.now(), rpe=4)
    recording = analysed(session, "Ghostly_Emg_20261105_09-30-00-0000.c3d")
    make_recording(session, name="a-very-long-file-name-without-breaks.c3d", status="failed")
    MvcCalibration.objects.create(
        patient=alices_patient, muscle="quadriceps", side="L", value_v=0.0004, created_by=carol
    )
    return {"patient": alices_patient, "session": session, "recording": recording}


def test_every_url_is_a_page_or_named():
    names = resolver_names()
    assert names - set(PAGES) - set(ANONYMOUS_PAGES) - set(NOT_PAGES) == set()
    assert set(PAGES) | set(ANONYMOUS_PAGES) | set(NOT_PAGES) <= names


def visit(page, url) -> str | None:
    """Open ``url``; what is wrong with the answer, or None for an HTML page."""
    response = page.goto(url)
    if response is None or response.status != 200:
        return f"answered {response and response.status}"
    if "text/html" not in response.headers.get("content-type", ""):
        return f"is not HTML ({response.headers.get('content-type')})"
    page.wait_for_load_state("load")
    return None


def page_artefacts(group: str) -> Path:
    """Where the screenshot set goes: one full-page PNG per page and width, per persona
    (PAGE_ARTEFACTS_DIR, else var/test-artefacts/pages/), for a person to look at."""
    folder = Path(
        os.environ.get("PAGE_ARTEFACTS_DIR")
        or Path(settings.BASE_DIR) / "var" / "test-artefacts" / "pages"
    )
    folder = folder / group
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shoot(page, folder: Path, name: str, width: int) -> None:
    page.screenshot(path=str(folder / f"{name.replace(':', '-')}-{width}.png"), full_page=True)


def check_pages(page, base, pages, *, group: str):
    """axe at 1366 px and the width at 768 px on every page, a screenshot at both widths;
    every finding, then one failure."""
    problems = []
    folder = page_artefacts(group)
    for name, path in pages:
        page.set_viewport_size({"width": 1366, "height": 900})
        wrong = visit(page, base + path)
        if wrong:
            problems.append(f"{name} {path}: {wrong}")
            continue
        problems += [f"{name} {path}: {line}" for line in failing_violations(page, name)]
        shoot(page, folder, name, 1366)
        page.set_viewport_size({"width": 768, "height": 900})
        shoot(page, folder, name, 768)
        wide = page.evaluate(OVERFLOW)
        if wide or page.evaluate("document.documentElement.scrollWidth") > 768:
            problems.append(f"{name} {path}: wider than 768 px: {wide}")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("persona", sorted(PERSONAS))
def test_every_page_is_accessible_and_fits_768px(
    persona, live_server, transactional_db, browser_context, everyone, session_of, request
):
    user = everyone[PERSONAS[persona]]
    objects = page_objects(everyone["alices_patient"], session_of, everyone["carol"])
    browser_context.add_cookies(
        [{"name": "sessionid", "value": login_session(user), "url": live_server.url}]
    )
    page = browser_context.new_page()
    page.set_default_timeout(20_000)
    pages = pages_for(persona, objects)
    if persona == "admin":
        pages += admin_pages(objects)
    check_pages(page, live_server.url, pages, group=persona)


def test_pages_before_sign_in_are_accessible(live_server, transactional_db, browser_context):
    page = browser_context.new_page()
    pages = [(name, build({})) for name, build in ANONYMOUS_PAGES.items()]
    check_pages(page, live_server.url, pages, group="signed-out")


def test_forms_showing_their_errors_are_accessible(
    live_server, transactional_db, browser_context, carol
):
    """The error states: a form's messages are linked to their inputs, and readable."""
    browser_context.add_cookies(
        [{"name": "sessionid", "value": login_session(carol), "url": live_server.url}]
    )
    page = browser_context.new_page()
    problems = []
    # The channel map with a label given twice, and a new patient with nothing filled in.
    page.goto(live_server.url + PAGES["clinic:settings"]({}))
    page.get_by_label("Channel label, row 3").fill("ch1")
    page.get_by_label("Muscle, row 3").fill("hamstrings")
    page.get_by_role("button", name="Save as a new version").click()
    page.wait_for_load_state("load")
    assert "appears in two rows" in page.content()
    problems += failing_violations(page, "clinic:settings")
    page.goto(live_server.url + PAGES["patients:create"]({}))
    page.get_by_role("button", name="Create patient").click()
    page.wait_for_load_state("load")
    assert page.locator(".errorlist").count() > 0
    problems += failing_violations(page, "patients:create")
    assert problems == [], "\n".join(problems)
