"""The results admin is read-only and shows only what the access policy allows."""

from analysis.models import RecordingAnalysis
from analysis.services import analysis_save
from analysis.tests.support import contract_document, make_recording


def analysed(session):
    recording = make_recording(session, f"s{session.pk}.c3d")
    analysis_save(
        recording=recording,
        document=contract_document(),
        parameters={},
        trigger="upload",
        timings={},
    )
    return RecordingAnalysis.objects.get(recording=recording)


def test_staff_see_only_their_clinics_results_and_cannot_edit_them(
    client, carol, dave, session_of, alices_patient, daves_patient
):
    ours = analysed(session_of(alices_patient))
    theirs = analysed(session_of(daves_patient))
    carol.is_staff = True
    carol.save()
    client.force_login(carol)
    listing = client.get("/admin/analysis/recordinganalysis/")
    assert listing.status_code == 200
    assert f"/admin/analysis/recordinganalysis/{ours.pk}/change/" in listing.text
    assert f"/admin/analysis/recordinganalysis/{theirs.pk}/change/" not in listing.text
    assert client.get(f"/admin/analysis/recordinganalysis/{theirs.pk}/change/").status_code == 404
    page = client.get(f"/admin/analysis/recordinganalysis/{ours.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.text
    response = client.post(f"/admin/analysis/recordinganalysis/{ours.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert RecordingAnalysis.objects.filter(pk=ours.pk).exists()
