"""MVC calibrations per muscle: entered in µV (stored in volts), newest applies, bad input."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import shared_c3d_dir
from patients.models import MvcCalibration


@pytest.fixture
def url(alices_patient):
    return reverse("patients:calibrations", args=[alices_patient.pk])


def enter(client, url, **values):
    data = {"action": "enter", "enter-side": "left", "enter-muscle": "Quadriceps"}
    data.update({f"enter-{k}": v for k, v in values.items()})
    return client.post(url, data, follow=True)


def test_an_entered_value_in_microvolts_is_stored_in_volts(client, alice, alices_patient, url):
    client.force_login(alice)
    response = enter(client, url, value_uv="850")
    assert "MVC value saved" in response.content.decode()
    cal = MvcCalibration.objects.get(patient=alices_patient)
    assert cal.value_v == pytest.approx(850e-6)
    assert (cal.side, cal.muscle, cal.source) == ("left", "quadriceps", "entered")
    assert cal.created_by == alice


def test_the_newest_value_per_muscle_applies_and_the_older_stay_listed(client, alice, url):
    client.force_login(alice)
    enter(client, url, value_uv="700")
    html = enter(client, url, value_uv="900").content.decode()
    assert "Left quadriceps: 900.0 µV" in html
    assert html.count("<strong>applies</strong>") == 1
    assert "700.0" in html


@pytest.mark.parametrize("value", ["", "-5", "0", "abc", "1e12"])
def test_a_bad_value_is_a_form_error_not_a_crash(client, alice, alices_patient, url, value):
    client.force_login(alice)
    response = enter(client, url, value_uv=value)
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert not MvcCalibration.objects.filter(patient=alices_patient).exists()


def test_a_calibration_file_that_is_not_c3d_is_refused(client, alice, alices_patient, url):
    client.force_login(alice)
    response = client.post(
        url,
        {
            "action": "measure",
            "measure-side": "left",
            "measure-muscle": "quadriceps",
            "measure-file": SimpleUploadedFile("mvc.txt", b"not a c3d file" * 100),
        },
    )
    assert response.status_code == 200
    assert "mvc.txt is not a C3D recording" in response.content.decode()
    assert not MvcCalibration.objects.filter(patient=alices_patient).exists()


def test_an_unknown_action_changes_nothing(client, alice, alices_patient, url):
    client.force_login(alice)
    response = client.post(url, {"action": "drop-table"}, follow=True)
    assert response.status_code == 200
    assert not MvcCalibration.objects.filter(patient=alices_patient).exists()


def test_a_researcher_reads_the_values_without_forms(client, alice, rita, url):
    client.force_login(alice)
    enter(client, url, value_uv="800")
    client.force_login(rita)
    html = client.get(url).content.decode()
    assert "800.0" in html
    assert "Enter a value" not in html
    assert client.post(url, {"action": "enter"}).status_code == 403


GHOSTLY = "ghostly/Ghostly_Emg_20230321_17-23-09-0409.c3d"


def measure(client, url, **values):
    path = shared_c3d_dir() / GHOSTLY
    data = {
        "action": "measure",
        "measure-side": "left",
        "measure-muscle": "quadriceps",
        "measure-file": SimpleUploadedFile(path.name, path.read_bytes()),
    }
    data.update({f"measure-{k}": v for k, v in values.items()})
    return client.post(url, data, follow=True)


def test_a_calibration_recording_is_measured_by_the_core(client, alice, alices_patient, url):
    client.force_login(alice)
    html = measure(client, url).content.decode()
    assert "MVC measured" in html
    cal = MvcCalibration.objects.get(patient=alices_patient)
    assert cal.source == "calibration"
    assert (cal.side, cal.muscle) == ("left", "quadriceps")
    assert 1e-6 < cal.value_v < 0.1  # a surface EMG envelope, in volts
    assert cal.original_name == GHOSTLY.split("/")[1]
    assert cal.sha256
    assert cal.file.name  # kept in private storage beside the value
    assert "Measured on CH1" in cal.notes


def test_a_named_channel_that_the_file_lacks_is_a_form_error(client, alice, alices_patient, url):
    client.force_login(alice)
    response = measure(client, url, channel="CH9 Raw")
    assert response.status_code == 200
    assert "CH9" in response.content.decode()
    assert not MvcCalibration.objects.filter(patient=alices_patient).exists()
