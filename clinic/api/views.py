"""The clinic's endpoints: its therapists (read only) and its scoring settings (managers)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from clinic.access import Scope, scope_of
from clinic.api.errors import ERRORS
from clinic.models import User
from clinic.roles import THERAPIST


class TherapistSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "full_name", "email"]


@extend_schema_view(
    list=extend_schema(
        summary="Therapists of your clinic", responses={200: TherapistSerializer, **ERRORS}
    ),
    retrieve=extend_schema(
        summary="One therapist of your clinic", responses={200: TherapistSerializer, **ERRORS}
    ),
)
class TherapistViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Active therapists of the user's own clinic (every clinic for an administrator)."""

    serializer_class = TherapistSerializer
    action_perms = {"list": [], "retrieve": []}
    queryset = User.objects.none()  # the schema's model; get_queryset decides

    def get_queryset(self):
        user = self.request.user
        therapists = User.objects.filter(groups__name=THERAPIST, is_active=True).order_by(
            "full_name", "email", "pk"
        )
        scope = scope_of(user)
        if scope is Scope.ALL:
            return therapists
        if scope is Scope.NONE:
            return therapists.none()
        return therapists.filter(clinic_id=user.clinic_id)
