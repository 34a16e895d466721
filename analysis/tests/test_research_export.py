"""The researchers' clinic-wide CSV: keyed pseudonyms stable across exports, and not one
identifying value of any patient anywhere in the output."""

import csv
import datetime as dt
import hashlib
import hmac
import io

import pytest
from django.core.exceptions import PermissionDenied

from analysis import research
from analysis.tests.support import analysed, make_recording
from conftest import make_patient


def read(lines) -> list[dict]:
    return list(csv.DictReader(io.StringIO("".join(lines))))


def identifying_values(patient) -> set[str]:
    """Everything that names the patient, in the forms a careless export would write it."""
    born = patient.date_of_birth
    values = {
        patient.first_name,
        patient.last_name,
        patient.full_name,
        patient.mrn,
        patient.code,
        born.isoformat(),
        born.strftime("%d/%m/%Y"),
        born.strftime("%m/%d/%Y"),
        born.strftime("%Y%m%d"),
        born.strftime("%d-%m-%Y"),
        patient.diagnosis,
        patient.notes,
    }
    for session in patient.sessions.all():
        values.add(session.notes)
        values |= {r.original_name for r in session.recordings.all()}
        values |= {r.original_name.removesuffix(".c3d") for r in session.recordings.all()}
    return {v for v in values if v}


@pytest.fixture
def clinic(alice, bob, carol, rita, dave, session_of):
    """North: Alice's and Bob's patients with analysed rounds; South: Dave's."""
    patients = [
        make_patient(
            alice.clinic,
            "P001",
            "Agatha",
            "Aldersley",
            alice,
            mrn="NH-778812",
            date_of_birth=dt.date(1950, 5, 17),
            diagnosis="ACL reconstruction, Agatha's left knee",
            notes="Prefers mornings",
        ),
        make_patient(
            bob.clinic,
            "P002",
            "Bertram",
            "Brockhurst",
            bob,
            mrn="NH-991034",
            date_of_birth=dt.date(1988, 11, 2),
            sex="M",
        ),
        make_patient(
            dave.clinic,
            "S001",
            "Desmond",
            "Dunleavy",
            dave,
            mrn="SH-123456",
            date_of_birth=dt.date(1972, 1, 30),
        ),
    ]
    for patient in patients:
        for day in (0, 2):
            session = session_of(
                patient,
                started_at=dt.datetime(2026, 3, 2 + day, 9, 30, tzinfo=dt.UTC),
                rpe=5,
                notes=f"{patient.first_name} said the knee ached",
            )
            analysed(session, f"{patient.first_name}_{patient.last_name}_{day}_r1.c3d")
            analysed(session, f"Ghostly_Emg_2026030{2 + day}_09-3{day}-00-0001.c3d")
            make_recording(session, f"{patient.last_name}_pending_{day}.c3d")
    return patients


def test_every_analysed_muscle_of_the_clinic_is_a_row(rita, clinic):
    rows = read(research.research_export_csv(rita))
    # Two North patients x two sessions x two analysed rounds x two muscles.
    assert len(rows) == 2 * 2 * 2 * 2
    assert list(rows[0]) == list(research.RESEARCH_COLUMNS)
    agatha = [r for r in rows if r["participant"] == research.pseudonym(clinic[0].pk)]
    assert [(r["session_number"], r["session_day"], r["round_number"]) for r in agatha] == [
        ("1", "0", "1"), ("1", "0", "1"), ("1", "0", "2"), ("1", "0", "2"),
        ("2", "2", "1"), ("2", "2", "1"), ("2", "2", "2"), ("2", "2", "2"),
    ]  # fmt: skip
    assert {r["age_band"] for r in agatha} == {research.age_band(dt.date(1950, 5, 17))}
    assert {r["sex"] for r in agatha} == {"F"}
    assert sorted({r["good"] for r in agatha}) == ["10", "6"]


def test_no_identifying_value_of_any_patient_appears_anywhere(rita, carol, zoe, clinic):
    for user in (rita, carol, zoe):
        body = "".join(research.research_export_csv(user))
        for patient in clinic:
            leaked = {value for value in identifying_values(patient) if value in body}
            assert leaked == set(), f"{user.email}: {patient.code}"
        assert ".c3d" not in body
        assert "Ghostly_Emg" not in body
        assert "2026-03" not in body  # no calendar date either
    assert len(identifying_values(clinic[0])) >= 12  # the scan looked for something


def test_the_pseudonym_is_the_keyed_hmac_and_stable_across_exports(rita, clinic, settings):
    settings.RESEARCH_PSEUDONYM_KEY = "a-secret-of-the-research-office-0123456789"
    first = {r["participant"] for r in read(research.research_export_csv(rita))}
    again = {r["participant"] for r in read(research.research_export_csv(rita))}
    assert first == again
    expected = {
        hmac.new(
            b"a-secret-of-the-research-office-0123456789",
            f"patient:{p.pk}".encode(),
            hashlib.sha256,
        ).hexdigest()[:16]
        for p in clinic[:2]
    }
    assert first == expected
    # Another key, other pseudonyms: without the key they cannot be recomputed.
    settings.RESEARCH_PSEUDONYM_KEY = "another-secret-another-secret-another-0000"
    assert {r["participant"] for r in read(research.research_export_csv(rita))}.isdisjoint(first)


def test_without_a_configured_key_it_derives_one_from_the_secret_key(settings):
    settings.RESEARCH_PSEUDONYM_KEY = ""
    derived = research.pseudonym(1)
    assert derived == research.pseudonym(1)
    assert (
        derived != hmac.new(settings.SECRET_KEY.encode(), b"patient:1", "sha256").hexdigest()[:16]
    )
    settings.SECRET_KEY = settings.SECRET_KEY + "-rotated"
    assert research.pseudonym(1) != derived


def test_the_dataset_stays_in_the_clinic_and_leaves_voided_records_out(rita, zoe, carol, clinic):
    agatha, bertram, desmond = clinic
    north = {research.pseudonym(p.pk) for p in (agatha, bertram)}
    assert {r["participant"] for r in read(research.research_export_csv(rita))} == north
    everyone = {r["participant"] for r in read(research.research_export_csv(zoe))}
    assert everyone == north | {research.pseudonym(desmond.pk)}
    bertram.void(by=carol, reason="duplicate record")
    agatha.sessions.order_by("started_at").last().void(by=carol, reason="wrong day")
    rows = read(research.research_export_csv(rita))
    assert {r["participant"] for r in rows} == {research.pseudonym(agatha.pk)}
    assert {r["session_number"] for r in rows} == {"1"}


@pytest.mark.parametrize("persona", ["alice", "bob", "dave"])
def test_therapists_may_not_export_the_dataset(everyone, persona):
    with pytest.raises(PermissionDenied):
        research.research_export_csv(everyone[persona])


def test_the_dataset_streams_in_two_queries(rita, clinic, django_assert_num_queries):
    rows = research.research_export_csv(type(rita).objects.get(pk=rita.pk))
    # the session numbering, the rows (the user's scope came with the permission check)
    with django_assert_num_queries(2):
        assert len(list(rows)) == 1 + 16
