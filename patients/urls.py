from django.urls import path

from patients import views
from sessions import views as session_views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<int:pk>/", views.patient_detail, name="detail"),
    path("<int:pk>/edit/", views.patient_edit, name="edit"),
    path("<int:pk>/void/", views.patient_void, name="void"),
    # Named sessions:create in the brief; the sessions namespace reverses it via sessions/urls.py.
    path("<int:pk>/sessions/new/", session_views.session_create, name="session-create"),
]
