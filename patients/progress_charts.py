"""The trend charts of a patient's progress (score, compliance, symmetry, MDF slope, RPE),
drawn from the points of ``patients.progress.chart_points``; the progress page and the
progress report draw the same ones, and keep the drawings in the cache (:func:`trend_charts`).
"""

from __future__ import annotations

import hashlib
import inspect
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.utils.safestring import mark_safe

from reports.chart_layout import HLine
from reports.chart_trend import Series, trend_chart


def _series_by_key(points, attr) -> list[Series]:
    keys = sorted({k for p in points for k in p[attr]})
    return [Series(name=k, points=[(p["date"], p[attr].get(k)) for p in points]) for k in keys]


# The source of the code that draws a trend chart: part of the drawings' cache key.
DRAWING_CODE = hashlib.sha256(
    b"".join(Path(inspect.getsourcefile(f)).read_bytes() for f in (trend_chart, HLine))
).hexdigest()


def chart_specs(points) -> list[dict]:
    """The keyword arguments of each trend chart of ``points``: everything it is drawn from."""
    return [
        {
            "series": [
                Series(name="score", points=[(p["date"], p["score"]["overall"]) for p in points])
            ],
            "title": "Session score",
            "y_label": "score (0-100)",
            "y_min": 0,
            "y_max": 100,
        },
        {
            "series": _series_by_key(points, "compliance"),
            "title": "Compliance per muscle",
            "y_label": "compliance (0-100)",
            "y_min": 0,
            "y_max": 100,
        },
        {
            "series": [
                Series(name="symmetry", points=[(p["date"], p["symmetry"]) for p in points])
            ],
            "title": "Symmetry",
            "y_label": "symmetry (0-100)",
            "y_min": 0,
            "y_max": 100,
        },
        {
            "series": _series_by_key(points, "mdf_slope_pct_per_min"),
            "title": "MDF slope per muscle",
            "y_label": "% per minute",
            "reference": HLine(value=0.0, label="no fatigue"),
        },
        {
            "series": [Series(name="RPE", points=[(p["date"], p["rpe"]) for p in points])],
            "title": "RPE (Borg CR-10)",
            "y_label": "RPE",
            "y_min": 0,
            "y_max": 10,
        },
    ]


def charts_key(specs: list[dict]) -> str:
    """The cache key of the drawings of ``specs`` (:func:`chart_specs`)."""
    digest = hashlib.sha256(repr((DRAWING_CODE, specs)).encode()).hexdigest()
    return f"trend-charts:{digest}"


def trend_charts(points) -> list:
    """The trend charts of ``points`` (score, compliance, symmetry, MDF slope, RPE); the
    progress page and the progress report draw the same ones.

    A chart is a pure function of what it is drawn from (``trend_chart`` has no other input:
    its element ids are digests of its series), so the drawn SVGs are kept in the cache under
    a digest of exactly that (every series' name, dates and values, with their types, and
    every title, label and bound): the same figures give the same key, any changed, added or
    removed value another; the digest of the drawing code's source is part of the key too, so a
    deployment that draws differently never reads an older drawing. Nothing to invalidate:
    ``CHART_CACHE_SECONDS`` only bounds how long unused drawings take room (0: drawn each
    time)."""
    if not points:
        return []
    specs = chart_specs(points)
    seconds = settings.CHART_CACHE_SECONDS
    if not seconds:
        return [trend_chart(**spec) for spec in specs]
    key = charts_key(specs)
    kept = cache.get(key)
    if kept is None:
        kept = [str(trend_chart(**spec)) for spec in specs]
        cache.set(key, kept, timeout=seconds)
    # our own drawings, kept as plain text: safe as they were drawn
    return [mark_safe(svg) for svg in kept]  # noqa: S308
