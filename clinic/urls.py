from django.urls import path

from clinic import views

app_name = "clinic"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("clinic/settings/", views.clinic_settings, name="settings"),
    path("account/api-tokens/", views.api_tokens, name="api_tokens"),
    path("clinic/audit/", views.audit_log, name="audit"),
]
