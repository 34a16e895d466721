"""The one DRF router of the REST API (/api/v1/); each app's endpoints are in its ``api``."""

from rest_framework.routers import DefaultRouter

from clinic.api.views import TherapistViewSet

router = DefaultRouter()
router.register("therapists", TherapistViewSet, basename="therapist")

app_name = "api"
urlpatterns = router.urls
