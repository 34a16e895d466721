from django.urls import path

from patients.views import access, records, treatment
from sessions import views as session_views

app_name = "patients"
urlpatterns = [
    path("", records.patient_list, name="list"),
    path("new/", records.patient_create, name="create"),
    path("<int:pk>/", records.patient_detail, name="detail"),
    path("<int:pk>/edit/", records.patient_edit, name="edit"),
    path("<int:pk>/void/", records.patient_void, name="void"),
    path("<int:pk>/calibrations/", treatment.patient_calibrations, name="calibrations"),
    path("<int:pk>/protocol/", treatment.patient_protocol, name="protocol"),
    path("<int:pk>/progress/", treatment.patient_progress, name="progress"),
    path("<int:pk>/access-report/", access.patient_access_report, name="access-report"),
    # A session is created from its patient's page, under the patient's URL.
    path("<int:pk>/sessions/new/", session_views.session_create, name="session-create"),
]
