"""The result charts at full width with a hover read-out (issue 16), in Chromium on a real
Daphne, on a real GHOSTLY recording analysed by the numeric core and stored as the worker does.

The pointer over a contraction reads out its time, the envelope's value, its % MVC and the
contraction's grade; the keyboard moves the same cursor. At 1366 and 768 px each chart spans the
content width and no two of its texts touch as Chromium draws them. Screenshots of the charts
are left in var/test-artefacts/charts/ (CHART_ARTEFACTS_DIR) for a person to look at.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from analysis import core
from analysis.pipeline.store import analysis_save
from analysis.tests.support import analysed, login_session, make_recording
from conftest import shared_c3d_dir

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parents[2]
GHOSTLY = "ghostly/Ghostly_Emg_20230321_17-23-09-0409.c3d"
READOUT = re.compile(
    r"^(?P<t>\d+\.\d) s · (?P<v>[\d.]+) µV · (?P<pct>\d+) % MVC · "
    r"(?:contraction (?P<n>\d+): (?P<grade>.+)|no contraction)$"
)


@pytest.fixture
def server_env(server_env, tmp_path):
    """Daphne's environment (the root conftest's), with the static files collected once."""
    env = {**server_env, "STATIC_ROOT": str(tmp_path / "static")}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=REPO,
        env=env,
        check=True,
        timeout=120,
    )
    return env


def artefacts() -> Path:
    folder = Path(
        os.environ.get("CHART_ARTEFACTS_DIR")
        or Path(settings.BASE_DIR) / "var" / "test-artefacts" / "charts"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def real_recording(session_of, alices_patient):
    """A real GHOSTLY round stored with its core analysis (75 % MVC target), and the document."""
    path = shared_c3d_dir() / GHOSTLY
    recording = make_recording(session_of(alices_patient), path.name, data=path.read_bytes())
    document = core.analyse_file(str(path), isolated=False)
    analysis_save(
        recording=recording,
        document=document,
        parameters={"scoring": {"target_pct_mvc": 75.0}, "clinic_settings_version": None},
        trigger="upload",
        timings={},
    )
    return recording, document


def readout(page, index=0) -> str:
    return page.locator("[data-chart-readout]").nth(index).inner_text().strip()


def overlapping_texts(page) -> list:
    """Pairs of texts of one chart whose drawn boxes intersect (more than a hair)."""
    return page.evaluate(
        """() => {
          const hits = [];
          for (const svg of document.querySelectorAll("svg.chart")) {
            const boxes = [...svg.querySelectorAll("text")]
              .map(t => [t.textContent, t.getBoundingClientRect()]);
            for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
              const [ta, a] = boxes[i], [tb, b] = boxes[j];
              const apart = a.right - 0.5 <= b.left || b.right - 0.5 <= a.left
                || a.bottom - 0.5 <= b.top || b.bottom - 0.5 <= a.top;
              if (!apart) hits.push([ta, tb]);
            }
          }
          return hits;
        }"""
    )


def smallest_text_px(page) -> float:
    """The smallest font size, in screen pixels, of any text of the page's charts."""
    return page.evaluate(
        """() => Math.min(...[...document.querySelectorAll("svg.chart text")].map(
          t => parseFloat(getComputedStyle(t).fontSize) * t.ownerSVGElement.getScreenCTM().a))"""
    )


def test_the_pointer_and_the_keyboard_read_the_chart_out(
    daphne, browser_context, alice, real_recording
):
    recording, document = real_recording
    browser_context.add_cookies(
        [{"name": "sessionid", "value": login_session(alice), "url": daphne}]
    )
    page = browser_context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(daphne + reverse("analysis:recording_results", args=[recording.pk]))
    page.wait_for_selector("svg.chart[tabindex='0']")
    charts = page.locator("svg.chart")
    assert charts.count() == 2
    assert readout(page).startswith("Point at the chart")

    # Over the middle of the first contraction: its time, value, % MVC and grade.
    channel = document["channels"][0]
    first = channel["contractions"][0]
    charts.first.scroll_into_view_if_needed()
    band = charts.first.locator("rect.band").first
    box = band.bounding_box()
    plot = charts.first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, plot["y"] + plot["height"] / 2)
    text = readout(page)
    match = READOUT.match(text)
    assert match, text
    t = float(match["t"])
    assert first["start_s"] <= t <= first["end_s"], (text, first)
    assert match["n"] == "1"
    grades = {
        (True, True): "good (intensity and duration)",
        (True, False): "intensity only",
        (False, True): "duration only",
        (False, False): "neither",
    }
    assert match["grade"] == grades[bool(first["meets_intensity"]), bool(first["meets_duration"])]
    # The value is the envelope's there (between its min and max over the pixel under the
    # pointer and its neighbours), and the % MVC is that value over the channel's MVC.
    envelope = channel["envelope"]
    rate, values = envelope["rate_hz"], envelope["values"]
    duration = len(values) / rate
    px_s = duration / (plot["width"] * 0.9)  # a pixel's worth of time, generously
    near = values[max(0, int((t - 3 * px_s) * rate)) : int((t + 3 * px_s) * rate) + 1]
    value_uv = float(match["v"])
    tick_uv = max(values) * 1e6 / 100  # a pixel of the plot's height is under 1 % of its top
    assert min(near) * 1e6 - tick_uv <= value_uv <= max(near) * 1e6 + tick_uv, (text, near)
    assert int(match["pct"]) == pytest.approx(100 * value_uv / (channel["mvc"] * 1e6), abs=1)
    assert page.locator("svg.chart line.chart-cursor[visibility=visible]").count() == 1

    # Between contractions: no grade. Away from the chart: the hint again.
    gap = next(
        (a["end_s"] + b["start_s"]) / 2
        for a, b in zip(channel["contractions"], channel["contractions"][1:], strict=False)
        if b["start_s"] - a["end_s"] > 2
    )
    left, top, width, _ = map(float, charts.first.get_attribute("data-plot").split())
    scale = plot["width"] / float(charts.first.get_attribute("viewBox").split()[2])
    page.mouse.move(
        plot["x"] + (left + width * gap / duration) * scale, plot["y"] + top * scale + 20
    )
    text = readout(page)
    assert text.endswith("· no contraction"), text
    assert float(READOUT.match(text)["t"]) == pytest.approx(gap, abs=0.3)
    page.mouse.move(5, 5)
    assert readout(page).startswith("Point at the chart")

    # The keyboard: focus the chart, Home, one step right (1 % of the round), End.
    charts.first.focus()
    page.keyboard.press("Home")
    assert READOUT.match(readout(page))["t"] == "0.0"
    page.keyboard.press("ArrowRight")
    assert float(READOUT.match(readout(page))["t"]) == pytest.approx(duration / 100, abs=0.06)
    page.keyboard.press("End")
    assert float(READOUT.match(readout(page))["t"]) == pytest.approx(duration, abs=0.06)
    page.keyboard.press("Escape")
    assert readout(page).startswith("Point at the chart")
    assert errors == [], errors

    # Full content width and no overprinting as Chromium draws them, at both widths.
    for width in (1366, 768):
        page.set_viewport_size({"width": width, "height": 900})
        content = page.locator("main").evaluate(
            "m => m.clientWidth - parseFloat(getComputedStyle(m).paddingLeft)"
            " - parseFloat(getComputedStyle(m).paddingRight)"
        )
        for i in range(charts.count()):
            assert charts.nth(i).bounding_box()["width"] == pytest.approx(content, abs=2)
            figure = charts.nth(i).locator("xpath=..")
            figure.screenshot(path=str(artefacts() / f"envelope-{i}-{width}.png"))
        assert overlapping_texts(page) == []
        # Legible: no text of a chart drawn under 11.5 px (the legend was tiny).
        assert smallest_text_px(page) >= (11.5 if width == 768 else 16), width
        # Nothing scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_the_progress_charts_read_out_the_nearest_session(
    daphne, browser_context, alice, alices_patient, session_of
):
    for days in (20, 10, 1):
        started = timezone.now() - timedelta(days=days)
        analysed(session_of(alices_patient, rpe=5 + days % 4, started_at=started), f"r{days}.c3d")
    browser_context.add_cookies(
        [{"name": "sessionid", "value": login_session(alice), "url": daphne}]
    )
    page = browser_context.new_page()
    page.goto(daphne + reverse("patients:progress", args=[alices_patient.pk]))
    page.wait_for_selector("svg.chart[data-readout=trend][tabindex='0']")
    rpe = page.locator("svg.chart").nth(4)
    assert "RPE" in rpe.locator("title").first.text_content()
    rpe.scroll_into_view_if_needed()
    points = rpe.locator("circle[data-series]")
    assert points.count() == 3
    last = points.nth(2).bounding_box()
    page.mouse.move(last["x"] + last["width"] / 2 - 3, last["y"] + 40)
    text = readout(page, 4)
    last_x, last_value = (points.nth(2).get_attribute(a) for a in ("data-x", "data-value"))
    assert text == f"{last_x} · RPE {last_value}"

    rpe.focus()
    page.keyboard.press("Home")
    assert readout(page, 4).startswith(points.nth(0).get_attribute("data-x"))
    for width in (1366, 768):
        page.set_viewport_size({"width": width, "height": 900})
        for i in range(page.locator("svg.chart").count()):
            page.locator("svg.chart").nth(i).screenshot(
                path=str(artefacts() / f"progress-{i}-{width}.png")
            )
        assert overlapping_texts(page) == []
