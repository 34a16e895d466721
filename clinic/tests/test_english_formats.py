"""One language, British formats (issue 17): with the translation machinery off the site still
shows and reads dates the en-GB way, and Django's messages read as before."""

import datetime as dt

import pytest
from django import forms
from django.conf import settings
from django.template import Context, Template
from django.utils import formats
from django.utils.translation import get_language, ngettext


def test_dates_are_shown_and_read_the_british_way():
    assert get_language() == settings.LANGUAGE_CODE == "en-gb"
    day = dt.date(2026, 3, 4)
    assert formats.date_format(day) == "4 Mar 2026"
    assert formats.date_format(day, "SHORT_DATE_FORMAT") == "04/03/2026"
    assert Template("{{ day|date }} {{ n }}").render(Context({"day": day, "n": 12345})) == (
        "4 Mar 2026 12345"
    )
    field = forms.DateField()
    assert field.clean("04/03/2026") == day  # day first


def test_messages_and_plurals_read_as_english():
    assert ngettext("%(n)s result", "%(n)s results", 1) % {"n": 1} == "1 result"
    assert ngettext("%(n)s result", "%(n)s results", 2) % {"n": 2} == "2 results"
    with pytest.raises(forms.ValidationError) as refused:
        forms.DateField().clean("not a date")
    assert refused.value.messages == ["Enter a valid date."]
