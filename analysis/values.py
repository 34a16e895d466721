"""Plain values from the numeric core's documents: finite numbers and JSON PostgreSQL accepts.

The core reports what it cannot compute as None or NaN; pages, storage and the API want None.
"""

from __future__ import annotations

from datetime import datetime


def finite_or_none(value):
    """A finite float, or None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return number


def int_or_none(value):
    number = finite_or_none(value)
    return None if number is None else round(number)


def json_safe(value):
    """NaN/inf become None, numpy scalars and tuples plain values, datetimes ISO strings."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return finite_or_none(value)
    if hasattr(value, "tolist"):  # numpy scalar or array
        return json_safe(value.tolist())
    if isinstance(value, datetime):
        return value.isoformat()
    return finite_or_none(value) if isinstance(value, int | float) else str(value)
