"""The results admin is read-only and shows only what the access policy allows."""

from analysis.models import RecordingAnalysis
from analysis.tests.support import analysed


def analysis_of(session):
    return RecordingAnalysis.objects.get(recording=analysed(session, f"s{session.pk}.c3d"))


def test_staff_see_only_their_clinics_results_and_cannot_edit_them(
    client, carol, dave, session_of, alices_patient, daves_patient
):
    ours = analysis_of(session_of(alices_patient))
    theirs = analysis_of(session_of(daves_patient))
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
