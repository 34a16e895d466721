from django.urls import path

from patients.views import access, emergency, exports, records, treatment
from reports import views as report_views
from sessions import views as session_views

app_name = "patients"
urlpatterns = [
    path("", records.patient_list, name="list"),
    path("new/", records.patient_create, name="create"),
    path("emergency/", emergency.emergency_access, name="emergency"),
    path(
        "emergency/<int:pk>/acknowledge/",
        emergency.emergency_acknowledge,
        name="emergency-acknowledge",
    ),
    path("<int:pk>/", records.patient_detail, name="detail"),
    path("<int:pk>/edit/", records.patient_edit, name="edit"),
    path("<int:pk>/void/", records.patient_void, name="void"),
    path("<int:pk>/calibrations/", treatment.patient_calibrations, name="calibrations"),
    path("<int:pk>/protocol/", treatment.patient_protocol, name="protocol"),
    path("<int:pk>/progress/", treatment.patient_progress, name="progress"),
    # Downloads of the patient's results (docs/exports.md).
    path("<int:pk>/export.csv", exports.patient_export_csv, name="export-csv"),
    path("<int:pk>/export.json", exports.patient_export_json, name="export-json"),
    path("<int:pk>/fhir.json", exports.patient_fhir, name="fhir"),
    path("<int:pk>/progress-report/", report_views.progress_report, name="progress-report"),
    path(
        "<int:pk>/progress-report/status/",
        report_views.progress_report_status,
        name="progress-report-status",
    ),
    path("<int:pk>/access-report/", access.patient_access_report, name="access-report"),
    # A session is created from its patient's page, under the patient's URL.
    path("<int:pk>/sessions/new/", session_views.session_create, name="session-create"),
]
