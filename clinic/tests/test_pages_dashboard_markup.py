"""The dashboard's cheaper rendering (issue 17) draws the same page, byte for byte: its links
formatted from one reversed pattern (``url_of``) instead of ``{% url %}`` per row, its therapist
menu written out in Python (``clinic.widgets.Select``) instead of a template include per option,
its session tables written out in Python (``session_table``) instead of the template
``clinic/_session_table.html``, its other long lists too (``patient_links``,
``therapist_adherence_rows``, ``patient_adherence_rows``, ``missing_round_items``) instead of
the template loops below."""

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from django import forms
from django.conf import settings
from django.template import engines
from django.test import override_settings
from django.urls import clear_script_prefix, reverse, set_script_prefix
from django.utils import timezone

from analysis.templatetags.analysis_ui import url_of
from analysis.tests.support import analysed, make_recording
from clinic.roles import THERAPIST
from clinic.selectors import DashboardFilter, dashboard_therapists
from clinic.widgets import Select
from conftest import make_patient, make_staff

pytestmark = pytest.mark.django_db

TEMPLATES = ("clinic/dashboard.html", "clinic/_session_table.html")
URL_OF = re.compile(r"\{\{ ([\w.]+)\|url_of:'([\w:-]+)' \}\}")
SESSION_TABLE = re.compile(r'\{% session_table (\w+) "([^"]+)" True %\}')
INCLUDE = r'{% include "clinic/_session_table.html" with rows=\1 caption="\2" with_score=True %}'
# The template loops the dashboard's list tags replaced, as they were (lines joined by "\n").
LOOPS = {
    '{% patient_links patients "patients:detail" %}': (
        "{% for p in patients %}<li><a href=\"{{ p.pk|url_of:'patients:detail' }}\">"
        "{{ p.label }}</a></li>{% endfor %}"
    ),
    "{% therapist_adherence_rows adherence_by_therapist %}\n": "\n".join(
        [
            "{% for row in adherence_by_therapist %}",
            "        <tr>",
            '          <td><a href="?therapist={{ row.therapist.pk }}">'
            "{{ row.therapist }}</a></td>",
            '          <td class="num">{{ row.patients }}</td>',
            '          <td class="num">{{ row.done }}</td>',
            '          <td class="num">{{ row.expected }}</td>',
            '          <td class="num">{{ row.ratio|pct }}</td>',
            "        </tr>",
            "      {% endfor %}",
            "",
        ]
    ),
    "{% patient_adherence_rows adherence_by_patient %}\n": "\n".join(
        [
            "{% for row in adherence_by_patient %}",
            "        <tr>",
            "          <td><a href=\"{{ row.patient.pk|url_of:'patients:progress' }}\">"
            "{{ row.patient.label }}</a></td>",
            '          <td class="num">{{ row.done }}</td>',
            '          <td class="num">{{ row.expected }}</td>',
            '          <td class="num">{{ row.ratio|pct }}</td>',
            "        </tr>",
            "      {% endfor %}",
            "",
        ]
    ),
    "{% missing_round_items missing_rounds %}\n": "\n".join(
        [
            "{% for row in missing_rounds %}",
            "      <li><a href=\"{{ row.session.pk|url_of:'sessions:detail' }}\">"
            '{{ row.session.started_at|date:"D j M, H:i" }}</a>',
            '        <span class="muted">{{ row.patient.label }}</span>',
            '        <span class="badge badge-warn">{{ row.recordings }} of '
            "{{ row.planned_rounds }} rounds</span></li>",
            "      {% endfor %}",
            "",
        ]
    ),
}


def with_loops(source: str) -> str:
    """``source`` with the list tags replaced by the template loops they stand for."""
    for tag, loop in LOOPS.items():
        source = source.replace(tag, loop)
    return source


def reference_templates():
    """The dashboard's templates as they were: ``{% url %}`` per row, the session tables
    included from their template, from the same sources."""
    engine = engines["django"].engine
    sources = {}
    for name in TEMPLATES:
        source = engine.get_template(name).source
        assert URL_OF.search(source), name  # the fast path is in use
        if name == "clinic/dashboard.html":
            assert all(tag in source for tag in LOOPS)  # the lists compared too
            source = with_loops(source)
        sources[name] = SESSION_TABLE.sub(INCLUDE, URL_OF.sub(r"{% url '\2' \1 %}", source))
    assert "_session_table.html" in sources["clinic/dashboard.html"]  # the tables compared too
    options = settings.TEMPLATES[0]
    loaders = [
        ("django.template.loaders.locmem.Loader", sources),
        "django.template.loaders.filesystem.Loader",
        "django.template.loaders.app_directories.Loader",
    ]
    return [
        {
            **options,
            "APP_DIRS": False,
            "OPTIONS": {**options["OPTIONS"], "loaders": loaders},
        }
    ]


def page(client, user, **params) -> str:
    client.force_login(user)
    response = client.get(reverse("clinic:dashboard"), params)
    assert response.status_code == 200
    html = response.content.decode()
    html = re.sub(r'(csrfmiddlewaretoken" value=")[^"]+', r"\1-", html)
    return re.sub(r'(nonce=")[^"]+', r"\1-", html)


@pytest.fixture
def busy_clinic(north, alice, bob, session_of):
    """Patients behind plan, sessions today and this week with scores, missing rounds, failed
    recordings, and a therapist and patients whose names need escaping."""
    make_staff("oscar@north.test", "Oscar <O'Brien> & Co", north, THERAPIST)
    today = timezone.localdate()
    for i in range(12):
        patient = make_patient(
            north,
            f"M{i:03d}",
            "<script>Pat</script>" if i == 5 else "Pat",
            f"Number{i} & Co",
            bob if i % 2 else alice,
            treatment_start=today - dt.timedelta(days=20),
        )
        session = session_of(
            patient, started_at=timezone.now() - dt.timedelta(days=i % 9, hours=i % 5)
        )
        analysed(session)
        make_recording(session, name=f"r{i}.c3d", status="failed" if i % 3 else "done")
    return today


@pytest.mark.parametrize("who", ["carol", "alice", "zoe", "rita"])
@pytest.mark.parametrize("params", [{}, {"therapist": "bob"}, {"therapist": "999999"}])
def test_the_dashboard_html_is_what_url_tags_and_djangos_select_draw(
    client, request, busy_clinic, bob, who, params, monkeypatch
):
    user = request.getfixturevalue(who)
    if params.get("therapist") == "bob":
        params = {"therapist": str(bob.pk)}
    fast = page(client, user, **params)
    assert "/sessions/" in fast
    assert "/patients/" in fast
    monkeypatch.setattr(Select, "render", forms.Select.render)
    with override_settings(TEMPLATES=reference_templates()):
        reference = page(client, user, **params)
    assert fast == reference


@pytest.mark.parametrize(
    "data", [None, {"therapist": ""}, {"therapist": "bob"}, {"therapist": "x"}]
)
def test_the_therapist_menu_is_djangos_select_byte_for_byte(carol, alice, bob, north, data):
    make_staff("oscar@north.test", 'Oscar "<O\'Brien>" & Co', north, THERAPIST)
    if data and data["therapist"] == "bob":
        data = {"therapist": str(bob.pk)}
    staff = dashboard_therapists(carol)
    list(staff)  # evaluated, as the dashboard passes it
    fast = DashboardFilter(data, user=carol, therapists=staff)
    stock = DashboardFilter(data, user=carol)
    field = stock.fields["therapist"]  # its choices from the queryset, Django's templates
    field.widget = forms.Select()
    field.widget.choices = field.choices
    assert fast.is_valid() == stock.is_valid()
    assert str(fast["therapist"]) == str(stock["therapist"])
    assert "&lt;O&#x27;Brien&gt;" in str(fast["therapist"])


@pytest.mark.parametrize(
    "name", ["sessions:detail", "sessions:recording", "patients:detail", "patients:progress"]
)
def test_url_of_is_reverse_under_any_script_prefix(name):
    try:
        for prefix in ("/", "/clinic/"):
            set_script_prefix(prefix)
            for pk in (1, 42, 1234567):
                assert url_of(pk, name) == reverse(name, args=[pk])
    finally:
        clear_script_prefix()


def test_the_session_table_is_its_template_byte_for_byte(north, alice):
    """Rows the dashboard's data rarely has: no therapist, names that need escaping, no score
    block, a score of None or NaN, missing rounds; with and without the score column."""
    oscar = make_staff("oscar@north.test", "Oscar <O'Brien> & Co", north, THERAPIST)
    unnamed = make_staff("nameless@north.test", "", north, THERAPIST)
    started = timezone.make_aware(dt.datetime(2026, 3, 29, 0, 30), dt.UTC)  # DST day
    cases = [
        (1, oscar, 'P001 – Zoë <O\'Hara> & "sons"', 1, {"overall": 72.6}),
        (2, None, "P002", 3, {"overall": None}),
        (3, alice, "P003", 0, None),
        (4, unnamed, "P004", 5, {"overall": float("nan")}),
        (12345, oscar, "P005", 2, {}),
        (6, alice, "P006", 3, {"overall": 99.5}),
        *((100 + k, alice, f"P1{k:02d}", 3, {"overall": 5.0 * k}) for k in range(16)),
    ]
    rows = [
        {
            # every month and weekday, a few hours apart, across both DST changes
            "session": SimpleNamespace(
                pk=pk, started_at=started + dt.timedelta(days=29 * i, hours=5 * i), therapist=t
            ),
            "patient": SimpleNamespace(pk=pk * 7, label=label),
            "recordings": recordings,
            "planned_rounds": 3,
            "missing_rounds": max(3 - recordings, 0),
            "score": score,
        }
        for i, (pk, t, label, recordings, score) in enumerate(cases)
    ]
    django = engines["django"]
    for with_score in ("True", "False"):
        for caption in ("Today's sessions", "A <b>caption</b>"):
            reference = django.from_string(
                f'{{% include "clinic/_session_table.html" with rows=rows caption="{caption}" '
                f"with_score={with_score} %}}"
            ).render({"rows": rows})
            fast = django.from_string(
                f'{{% load analysis_ui %}}{{% session_table rows "{caption}" {with_score} %}}'
            ).render({"rows": rows})
            assert fast == reference
            assert "O&#x27;Brien" in fast
            assert "&lt;O&#x27;Hara&gt;" in fast
        empty = django.from_string(
            '{% include "clinic/_session_table.html" with rows=rows caption="c" %}'
        ).render({"rows": []})
        assert (
            django.from_string('{% load analysis_ui %}{% session_table rows "c" %}').render(
                {"rows": []}
            )
            == empty
        )


def test_the_list_tags_are_their_template_loops_byte_for_byte(north):
    """Values the dashboard's data rarely has: names that need escaping (a script, an
    ampersand, quotes), a therapist without a name, ratios of None and NaN, large ids, times
    across both DST changes; and empty lists."""
    nasty = "<script>alert('x')</script> & \"Co\""
    named = make_staff("n@north.test", nasty, north, THERAPIST)
    unnamed = make_staff("<nameless>&@north.test", "", north, THERAPIST)
    started = timezone.make_aware(dt.datetime(2026, 3, 29, 0, 30), dt.UTC)
    cards = [
        SimpleNamespace(pk=pk, label=label)
        for pk, label in [(1, f"P001 – {nasty}"), (2, "P002"), (1234567, "P&lt;3 <b>")]
    ]
    context = {
        "patients": cards,
        "adherence_by_therapist": [
            {"therapist": named, "patients": 3, "done": 2, "expected": 7, "ratio": 2 / 7},
            {"therapist": unnamed, "patients": 0, "done": 0, "expected": 0, "ratio": None},
            {"therapist": named, "patients": 1, "done": 1, "expected": 0, "ratio": float("nan")},
        ],
        "adherence_by_patient": [
            {"patient": card, "done": i, "expected": 4, "ratio": ratio}
            for i, (card, ratio) in enumerate(zip(cards, (0.25, None, 1.5), strict=True))
        ],
        "missing_rounds": [
            {
                "session": SimpleNamespace(
                    pk=pk, started_at=started + dt.timedelta(days=29 * i, hours=5 * i)
                ),
                "patient": cards[i % len(cards)],
                "recordings": i % 3,
                "planned_rounds": 3,
            }
            for i, pk in enumerate([5, 77, 123456, *range(100, 112)])
        ],
    }
    django = engines["django"]
    for tag, loop in LOOPS.items():
        fast = django.from_string("{% load analysis_ui %}" + tag).render(context)
        reference = django.from_string("{% load analysis_ui %}" + loop).render(context)
        assert fast == reference, tag
        assert "<script>" not in fast
        assert "<b>" not in fast
        if "patient" in tag or "missing" in tag:
            assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;Co&quot;" in fast
            assert "P&amp;lt;3 &lt;b&gt;" in fast  # escaped once more: the text, not markup
        else:
            assert "&lt;script&gt;" in fast
            assert "&lt;nameless&gt;&amp;@north.test" in fast
        empty = {name: [] for name in context}
        assert django.from_string("{% load analysis_ui %}" + tag).render(empty) == (
            django.from_string("{% load analysis_ui %}" + loop).render(empty)
        )
