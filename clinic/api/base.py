"""What every endpoint shares: permissions and pagination (errors: ``clinic.api.errors``).

Permissions follow the pages (``clinic.access``): a collection (list, create) needs the model
permission for the method, the ``view`` one for GET too (stock DRF skips it); an object is
looked up through the app's selector (``patient_for``, ``session_for``, ...), which answers 404
out of scope and then 403 without the action's permission. Writes also need identity access:
researchers are read-only whatever permissions an administrator adds to their group.
"""

from __future__ import annotations

from rest_framework import exceptions, pagination, permissions

from clinic.access import can_see_identity


class ApiModelPermissions(permissions.DjangoModelPermissions):
    """Model permissions on collections, GET included; objects are left to the selectors.

    A view may name the permission of each action in ``action_perms`` (custom actions, and
    models other than the queryset's); otherwise DRF's map for the method applies, with
    ``view`` for GET/HEAD/OPTIONS.
    """

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if request.method not in permissions.SAFE_METHODS and not getattr(
            view, "read_only_post", False
        ):
            if not can_see_identity(user):
                raise exceptions.PermissionDenied("Your role is read-only.")
        named = getattr(view, "action_perms", {}).get(getattr(view, "action", None))
        if named is not None:
            if getattr(view, "detail", False):
                return True  # checked by the selector, after the scope (404 before 403)
            return all(user.has_perm(perm) for perm in named)
        if getattr(view, "detail", False):
            return True
        if getattr(view, "queryset", None) is None and not hasattr(view, "get_queryset"):
            return True
        return super().has_permission(request, view)


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
