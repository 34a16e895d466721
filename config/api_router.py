"""The one DRF router of the REST API (/api/v1/); each app's endpoints are in its ``api``."""

from django.urls import path, re_path
from rest_framework.routers import DefaultRouter

from analysis.api import AnalyzeView, ResearchExportView
from clinic.api.views import ClinicSettingsViewSet, TherapistViewSet
from patients.api import PatientViewSet
from patients.api_downloads import PatientExportCsvView
from sessions.api import TherapySessionViewSet
from sessions.api_recordings import RecordingViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("patients", PatientViewSet, basename="patient")
router.register("therapists", TherapistViewSet, basename="therapist")
router.register("sessions", TherapySessionViewSet, basename="session")
router.register("recordings", RecordingViewSet, basename="recording")
router.register("clinic-settings", ClinicSettingsViewSet, basename="clinic-settings")

app_name = "api"
urlpatterns = [
    path("analyze/", AnalyzeView.as_view(), name="analyze"),
    path("research-export/", ResearchExportView.as_view(), name="research-export"),
    # Before the router, whose format-suffix routes would take "export.csv" for the JSON export;
    # any id the router's own lookup takes ([^/.]+: a bad one is a 404 there, not a 500).
    re_path(
        r"^patients/(?P<pk>[^/.]+)/export\.csv$",
        PatientExportCsvView.as_view(),
        name="patient-export-csv",
    ),
    *router.urls,
]
