"""Dashboard statements compiled once per process and shape (issue 17).

Compiling a dashboard's counts and row keys cost more CPU than PostgreSQL spent running them.
:func:`kept_statement` compiles a queryset once per name and shape (:func:`statement_shape`:
the access scope, the clinic, the chosen therapist) with stand-in dates, and then fills in each
request's dates as parameters. The access policy (``clinic.access``) still builds every
statement; a scope whose SQL depends on more than its shape is compiled on every request."""

import datetime as dt

from django.core.exceptions import EmptyResultSet
from django.db import connection

from clinic.access import Scope, scope_of

# Statements compiled once per process and shape (``kept_statement``): at most this many kept.
STATEMENT_CACHE_SIZE = 512
_STATEMENTS: dict[tuple, tuple[str, tuple, tuple]] = {}
# Stand-ins for the request's dates while a statement is compiled: each marks its parameter's
# slot in the compiled parameters (no dashboard reads so far back).
_SLOTS = ("week_start", "week_end", "today", "tomorrow", "since")
_STAND_INS = {name: dt.datetime(1900, 1, 1 + i, tzinfo=dt.UTC) for i, name in enumerate(_SLOTS)}
_SLOT_OF = {value: name for name, value in _STAND_INS.items()}
_NOT_KEPT = object()  # kept for a shape whose statement is compiled each time (``kept_statement``)


def statement_shape(user, chosen) -> tuple | None:
    """What decides a dashboard statement's SQL and parameters, besides its dates: the access
    policy's scope (``clinic.access.restrict``: one clinic's id, or none for a superuser) and
    the chosen therapist. None for any other scope: a therapist's rows depend on the time
    (emergency accesses that lapse), so their statements are compiled every time."""
    scope = scope_of(user)
    chosen_pk = chosen.pk if chosen is not None else None
    if scope is Scope.CLINIC:
        return (scope.value, user.clinic_id, chosen_pk)
    if scope is Scope.ALL:
        return (scope.value, None, chosen_pk)
    return None


def kept_statement(name: str, shape, build, window: dict) -> tuple[str, list] | None:
    """SQL and parameters of the queryset ``build(**window)``, compiled once per ``name`` and
    ``shape`` (:func:`statement_shape`) in this process and reused with ``window``'s dates;
    None when the queryset is empty whatever the data (``EmptyResultSet``).

    Compiling a dashboard's counts and row keys cost more CPU than PostgreSQL spent on them.
    The statement is compiled with stand-in dates (``_STAND_INS``); it is kept only when they
    are found in its parameters, each by its slot, and no other date is there (a date would
    be one of the query's own, say the time an emergency access is compared with; or the
    database takes dates as text): otherwise, and without a shape, it is compiled each time."""
    # the database too: the SQL is its dialect (a process normally has one)
    key = (connection.vendor, name, *shape) if shape is not None else None
    kept = _STATEMENTS.get(key) if key is not None else _NOT_KEPT
    try:
        if kept is _NOT_KEPT:
            return build(**window).query.sql_with_params()
        if kept is None:
            stand_ins = {slot: _STAND_INS[slot] for slot in window}
            sql, params = build(**stand_ins).query.sql_with_params()
            slots = tuple(_SLOT_OF.get(p) if isinstance(p, dt.datetime) else None for p in params)
            stray = any(
                isinstance(p, dt.date) and slot is None
                for p, slot in zip(params, slots, strict=True)
            )
            if len(_STATEMENTS) >= STATEMENT_CACHE_SIZE:
                _STATEMENTS.clear()
            if stray or set(filter(None, slots)) != set(window):
                _STATEMENTS[key] = _NOT_KEPT
                return build(**window).query.sql_with_params()
            kept = _STATEMENTS[key] = (sql, tuple(params), slots)
    except EmptyResultSet:
        return None
    sql, params, slots = kept
    return sql, [window[slot] if slot else p for p, slot in zip(params, slots, strict=True)]
