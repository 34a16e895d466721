"""Pages of the recording pipeline (names under ``analysis:``)."""

from django.urls import path

from analysis import views

app_name = "analysis"

urlpatterns = [
    path("sessions/<int:pk>/upload/", views.session_upload, name="session_upload"),
    path("sessions/<int:pk>/reanalyse/", views.session_reanalyse_view, name="session_reanalyse"),
    path("sessions/<int:pk>/score/", views.session_score, name="session_score"),
    path("recordings/<int:pk>/row/", views.recording_row, name="recording_row"),
    path("recordings/<int:pk>/results/", views.recording_results, name="recording_results"),
    path(
        "patients/<int:pk>/calibrations/",
        views.patient_calibrations,
        name="patient_calibrations",
    ),
    path("patients/<int:pk>/protocol/", views.patient_protocol, name="patient_protocol"),
    path("patients/<int:pk>/progress/", views.patient_progress, name="patient_progress"),
    path("clinic/settings/", views.clinic_settings, name="clinic_settings"),
    path("analysis/try/", views.stateless, name="stateless"),
]
