"""Permissions read once per request: the user's groups and permissions in one query.

Django's ``ModelBackend`` reads a user's own permissions and their groups' permissions in two
queries, and the access policy (``clinic.access.scope_of``) reads the group names in a third;
every API call and page needs all three. This backend reads them together
(``clinic.access.load_roles``) and keeps them on the user object, like Django's own
``_perm_cache``: for the request that loaded the user, never across requests, so a change of
groups or permissions applies from the next request. It authenticates nobody (``ModelBackend``
and allauth's backend, listed after it, do), so sessions and logins are unchanged.
"""

from django.contrib.auth.backends import ModelBackend

from clinic.access import load_roles


class RolePermissionBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        return None

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            load_roles(user_obj)
        return user_obj._perm_cache
