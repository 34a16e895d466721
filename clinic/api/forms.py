"""Writes go through the pages' own forms, so one set of rules validates both.

JSON bodies are turned into the flat form data those forms expect (numbers as text, ``null``
as blank, lists only where a field takes several values); anything else is a 400 with the
field named, never a 500. A form's errors become the API's field messages.
"""

from __future__ import annotations

from rest_framework import exceptions

from clinic.api.errors import NON_FIELD


def form_data(data, *, multi=(), base=None) -> dict:
    """``data`` (a parsed JSON object or a QueryDict) as form data over ``base`` (for PATCH)."""
    if hasattr(data, "lists"):  # QueryDict (multipart or form): last value, lists where multi
        data = {k: (v if k in multi else v[-1]) for k, v in data.lists()}
    if not isinstance(data, dict):
        raise exceptions.ValidationError({NON_FIELD: ["Expected a JSON object."]})
    out = dict(base or {})
    errors = {}
    for key, value in data.items():
        if key in multi:
            if not isinstance(value, list) or any(isinstance(v, dict | list) for v in value):
                errors[key] = ["Expected a list of ids."]
            else:
                out[key] = [str(v) for v in value]
        elif value is None:
            out[key] = ""
        elif isinstance(value, str | int | float | bool):
            out[key] = str(value)
        elif hasattr(value, "read"):  # an uploaded file in a multipart body
            out[key] = value
        else:
            errors[key] = ["Expected a single value."]
    if errors:
        raise exceptions.ValidationError(errors)
    return out


def form_errors(form) -> dict:
    return {(NON_FIELD if k == "__all__" else k): list(v) for k, v in form.errors.items()}


def cleaned(form) -> dict:
    """The form's cleaned data, or a 400 with its field messages."""
    if not form.is_valid():
        raise exceptions.ValidationError(form_errors(form))
    return form.cleaned_data
