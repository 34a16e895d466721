from clinic.access import can_see_identity


def access(request):
    """Expose what the current user may see to every template (menus, masking)."""
    user = getattr(request, "user", None)
    return {"can_see_identity": user is not None and can_see_identity(user)}
