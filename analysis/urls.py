"""Result pages (names under ``analysis:``); their paths are older than the app split."""

from django.urls import path

from analysis import live_views, views

app_name = "analysis"

urlpatterns = [
    path("sessions/<int:pk>/reanalyse/", views.session_reanalyse_view, name="session_reanalyse"),
    path("sessions/<int:pk>/live/", live_views.session_live, name="session_live"),
    path("sessions/<int:pk>/live/stop/", live_views.session_live_stop, name="session_live_stop"),
    path(
        "sessions/<int:pk>/live/replay/", live_views.session_live_replay, name="session_live_replay"
    ),
    path("sessions/<int:pk>/score/", views.session_score, name="session_score"),
    path("recordings/<int:pk>/row/", views.recording_row, name="recording_row"),
    path("recordings/<int:pk>/results/", views.recording_results, name="recording_results"),
    path("analysis/try/", views.stateless, name="stateless"),
    # The researchers' pseudonymised dataset (docs/exports.md).
    path("exports/", views.research_export_page, name="exports"),
    path("exports/research.csv", views.research_export_csv, name="research-csv"),
]
