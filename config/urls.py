from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

# The admin has no login of its own: it goes through allauth's rate-limited login (and 2FA).
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "Myoclinic administration"
admin.site.site_title = "Myoclinic admin"

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("config.api_router")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("clinic.urls")),
    path("patients/", include("patients.urls")),
    path("sessions/", include("sessions.urls")),
    # Result pages: recording results and rows, session score and re-analysis, "try a file".
    path("", include("analysis.urls")),
]
