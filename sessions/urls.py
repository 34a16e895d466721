from django.urls import path

from sessions import views

app_name = "sessions"
urlpatterns = [
    path("<int:pk>/", views.session_detail, name="detail"),
    path("<int:pk>/edit/", views.session_edit, name="edit"),
    path("<int:pk>/void/", views.session_void, name="void"),
    path("<int:pk>/upload/", views.session_upload, name="upload"),
    path("recordings/<int:pk>/", views.recording_detail, name="recording"),
    path("recordings/<int:pk>/download/", views.recording_download, name="recording-download"),
]
