"""The one DRF router of the REST API; apps register their viewsets here."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter()

app_name = "api"
urlpatterns = router.urls
