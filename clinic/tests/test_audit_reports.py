"""Managers read the trail: a patient's access report (page, CSV and PDF) and the clinic's audit
page."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from clinic.audit import record_access
from clinic.models import AuditEntry
from clinic.roles import CLINIC_MANAGER
from conftest import make_staff

pytestmark = pytest.mark.django_db


def report_url(patient, **query):
    url = reverse("patients:access-report", args=[patient.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def south_manager(south):
    return make_staff("sam@south.test", "Sam Southmanager", south, CLINIC_MANAGER)


def test_the_report_says_who_read_the_record_when_and_why(
    client, carol, alice, rita, alices_patient, bobs_patient
):
    client.force_login(alice)
    client.get(reverse("patients:detail", args=[alices_patient.pk]))
    client.force_login(rita)
    client.get(reverse("patients:progress", args=[alices_patient.pk]))
    record_access(carol, "view", [bobs_patient])  # another patient's read is not in this report
    client.force_login(carol)
    html = client.get(report_url(alices_patient)).content.decode()
    assert "Alice Therapist" in html
    assert "Rita Researcher" in html
    assert "research" in html
    assert f"/patients/{alices_patient.pk}/progress/" in html
    assert f"/patients/{bobs_patient.pk}/" not in html
    assert "2 entries" in html


def test_a_list_page_that_showed_the_patient_is_in_the_report(client, carol, alice, alices_patient):
    client.force_login(alice)
    client.get(reverse("patients:list"))
    client.force_login(carol)
    html = client.get(report_url(alices_patient)).content.decode()
    assert "<code>/patients/</code>" in html


def test_the_csv_lists_every_entry_and_is_itself_recorded(client, carol, alice, alices_patient):
    alice.full_name = '=HYPERLINK("http://evil")'
    alice.save()
    for _ in range(3):
        record_access(alice, "view", [alices_patient], path="/patients/x/")
    client.force_login(carol)
    response = client.get(report_url(alices_patient, format="csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["time (UTC)", "who", "email", "action"]
    assert len(rows) == 4
    # A name is never a formula in a spreadsheet.
    assert rows[1][1].startswith("'=")
    last = AuditEntry.objects.order_by("-seq").first()
    assert (last.action, last.patient_id, last.actor_id) == ("export", alices_patient.pk, carol.pk)


def pdf_text(response) -> tuple[str, int]:
    """The PDF's text, whitespace collapsed (cells wrap), and its page count."""
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(text.split()), len(reader.pages)


def test_the_pdf_lists_every_entry_and_is_recorded_as_a_download(
    client, carol, alice, alices_patient, bobs_patient
):
    alice.full_name = "<b>Alice</b> Therapist"
    alice.save()
    for _ in range(3):
        record_access(alice, "view", [alices_patient], path="/patients/x/")
    record_access(alice, "view", [alices_patient, bobs_patient], path="/patients/")
    record_access(alice, "view", [bobs_patient], path="/patients/other/")  # not this patient's
    client.force_login(carol)
    assert "?format=pdf" in client.get(report_url(alices_patient)).content.decode()
    response = client.get(report_url(alices_patient, format="pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="access-report-P001.pdf"'
    assert response.content.startswith(b"%PDF-")
    text, _ = pdf_text(response)
    assert "Access report" in text
    assert "P001" in text
    assert "Agatha Aldersley" in text  # a manager's report names the patient
    # The page view above is an entry too: 4 of Alice's and Carol's own.
    assert "Entries 5" in text
    assert text.count("/patients/x/") == 3
    assert "a list of 2 patients" in text
    assert "/patients/other/" not in text
    assert "Bertram" not in text
    # Text is text, never markup.
    assert "<b>Alice</b> Therapist" in text
    assert "alice@north.test" in text
    assert "Requested by Carol Manager" in text
    last = AuditEntry.objects.order_by("-seq").first()
    assert (last.action, last.patient_id) == ("download", alices_patient.pk)
    assert last.actor_id == carol.pk
    assert last.path == report_url(alices_patient)


def test_a_long_pdf_report_runs_over_pages_with_every_entry(client, carol, alice, alices_patient):
    for i in range(150):
        record_access(alice, "view", [alices_patient], path=f"/patients/row-{i:03d}/")
    client.force_login(carol)
    text, pages = pdf_text(client.get(report_url(alices_patient, format="pdf")))
    assert pages > 1
    assert f"Page 1 of {pages}" in text
    assert all(f"/patients/row-{i:03d}/" in text for i in range(150))


def test_an_unknown_format_is_404(client, carol, alices_patient):
    client.force_login(carol)
    assert client.get(report_url(alices_patient, format="docx")).status_code == 404


@pytest.mark.parametrize(("persona", "status"), [("alice", 403), ("rita", 403), ("dave", 404)])
def test_only_managers_in_scope_read_a_report(client, persona, status, alices_patient, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(report_url(alices_patient)).status_code == status


def test_another_clinics_manager_gets_404(client, south_manager, alices_patient):
    client.force_login(south_manager)
    assert client.get(report_url(alices_patient)).status_code == 404
    assert client.get(report_url(alices_patient, format="csv")).status_code == 404
    assert client.get(report_url(alices_patient, format="pdf")).status_code == 404


def audit_page(client, **params):
    return client.get(reverse("clinic:audit"), params)


def shown_seqs(response):
    return [row["seq"] for row in response.context["rows"]]


def test_the_clinic_page_filters_by_user_patient_action_purpose_and_date(
    client, carol, alice, bob, rita, alices_patient, bobs_patient
):
    a = record_access(alice, "view", [alices_patient])
    b = record_access(bob, "change", [bobs_patient])
    r = record_access(rita, "view", [alices_patient, bobs_patient])
    client.force_login(carol)
    seeded = {a.seq, b.seq, r.seq}

    def seeded_shown(**params):
        # Each view of the page is itself an entry (Carol's, of the patients it listed).
        return [seq for seq in shown_seqs(audit_page(client, **params)) if seq in seeded]

    assert shown_seqs(audit_page(client)) == [r.seq, b.seq, a.seq]
    assert shown_seqs(audit_page(client, user=bob.pk)) == [b.seq]
    assert shown_seqs(audit_page(client, action="change")) == [b.seq]
    assert shown_seqs(audit_page(client, purpose="research")) == [r.seq]
    # A patient's reads include the list pages that showed it.
    assert seeded_shown(patient=alices_patient.code) == [r.seq, a.seq]
    assert seeded_shown(patient=bobs_patient.code.lower()) == [r.seq, b.seq]
    today = timezone.localdate()  # the filter reads dates in the clinic's time zone
    assert seeded_shown(date_after=today.isoformat()) == [r.seq, b.seq, a.seq]
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert shown_seqs(audit_page(client, date_after=tomorrow)) == []


def test_bad_filter_values_are_form_errors_not_500(client, carol):
    client.force_login(carol)
    response = audit_page(client, user="abc", action="steal", date_after="yesterday")
    assert response.status_code == 200
    assert response.context["filter"].errors


def test_the_clinic_page_shows_only_the_clinics_entries_and_pages(
    client, carol, dave, daves_patient, alice, alices_patient
):
    record_access(dave, "view", [daves_patient])
    for _ in range(60):
        record_access(alice, "view", [alices_patient])
    client.force_login(carol)
    first = audit_page(client)
    assert first.context["page"].paginator.count == 60
    assert len(first.context["rows"]) == 50
    # 60 of Alice's, and Carol's own view of the first page.
    assert len(audit_page(client, page=2).context["rows"]) == 11
    assert "Dave" not in first.content.decode()


@pytest.mark.parametrize("persona", ["alice", "rita"])
def test_only_managers_read_the_clinic_page(client, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert audit_page(client).status_code == 403
