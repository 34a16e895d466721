from django.urls import path

from clinic import views

app_name = "clinic"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("clinic/settings/", views.clinic_settings, name="settings"),
    path("clinic/audit/", views.audit_log, name="audit"),
]
