from django.urls import path

from reports import views as report_views
from sessions import views

app_name = "sessions"
urlpatterns = [
    path("<int:pk>/", views.session_detail, name="detail"),
    path("<int:pk>/edit/", views.session_edit, name="edit"),
    path("<int:pk>/void/", views.session_void, name="void"),
    path("<int:pk>/upload/", views.session_upload, name="upload"),
    path("<int:pk>/report/", report_views.session_report, name="report"),
    path("recordings/<int:pk>/", views.recording_detail, name="recording"),
    path("recordings/<int:pk>/download/", views.recording_download, name="recording-download"),
    path("recordings/<int:pk>/void/", views.recording_void, name="recording-void"),
    path("recordings/<int:pk>/move/", views.recording_move, name="recording-move"),
]
