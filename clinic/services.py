"""Changes to clinics and staff accounts (admin, managers and the demo seed use these)."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from clinic.models import Clinic, User
from clinic.roles import ROLE_GROUPS


def clinic_ensure(*, code: str, name: str) -> tuple[Clinic, bool]:
    """The clinic with this code, created when missing; returns (clinic, created)."""
    return Clinic.objects.get_or_create(code=code, defaults={"name": name})


def _role_groups(roles: Iterable[str]) -> list[Group]:
    roles = list(roles)
    unknown = set(roles) - set(ROLE_GROUPS)
    if unknown:
        raise ValidationError(f"Unknown role(s): {', '.join(sorted(unknown))}.")
    groups = list(Group.objects.filter(name__in=roles))
    if len(groups) != len(set(roles)):
        raise ValidationError("A role group is missing: run the migrations.")
    return groups


def _check_creator(created_by: User | None, clinic: Clinic | None, is_staff: bool) -> None:
    """Only superusers create accounts anywhere; managers only in their clinic, never admins."""
    if created_by is None or created_by.is_superuser:
        return
    if not created_by.has_perm("clinic.add_user"):
        raise PermissionDenied("Missing permission: clinic.add_user")
    if clinic is None or clinic.pk != created_by.clinic_id:
        raise PermissionDenied("Staff accounts can only be created in your own clinic.")
    if is_staff and not created_by.is_staff:
        raise PermissionDenied("Only admin users can grant admin access.")


@transaction.atomic
def staff_create(
    *,
    email: str,
    full_name: str,
    clinic: Clinic | None,
    roles: Iterable[str] = (),
    password: str | None = None,
    is_staff: bool = False,
    created_by: User | None = None,
) -> User:
    """Create a staff account with its roles; without a password it cannot log in until reset.

    ``created_by`` (when given) must be allowed to create this account: a superuser anywhere, a
    clinic manager with ``clinic.add_user`` only in their own clinic.
    """
    roles = list(roles)
    _check_creator(created_by, clinic, is_staff)
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": "An account with this email address already exists."})
    if roles and clinic is None:
        raise ValidationError({"clinic": "Clinic staff must belong to a clinic."})
    groups = _role_groups(roles)
    user = User.objects.create_user(
        email=email, password=password, full_name=full_name, clinic=clinic, is_staff=is_staff
    )
    if password is None:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.set(groups)
    return user


@transaction.atomic
def staff_ensure(
    *,
    email: str,
    full_name: str,
    clinic: Clinic | None,
    roles: Iterable[str],
    password: str,
    is_staff: bool = False,
    is_superuser: bool = False,
) -> tuple[User, bool]:
    """Make the account match the description (idempotent); returns (user, changed).

    Used by the demo seed: a second run with the same arguments writes nothing. The password is
    only re-hashed when it no longer matches, so reruns do not churn the row.
    """
    roles = list(roles)
    groups = _role_groups(roles)
    email = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email__iexact=email).first()
    changed = False
    if user is None:
        if is_superuser:
            user = User.objects.create_superuser(email=email, password=password)
            user.full_name = full_name
            user.clinic = clinic
            user.save(update_fields=["full_name", "clinic"])
        else:
            user = staff_create(
                email=email,
                full_name=full_name,
                clinic=clinic,
                roles=roles,
                password=password,
                is_staff=is_staff,
            )
        changed = True
    else:
        wanted = {
            "full_name": full_name,
            "clinic": clinic,
            "is_staff": is_staff or is_superuser,
            "is_superuser": is_superuser,
            "is_active": True,
        }
        dirty = [name for name, value in wanted.items() if getattr(user, name) != value]
        for name in dirty:
            setattr(user, name, wanted[name])
        if not user.check_password(password):
            user.set_password(password)
            dirty.append("password")
        if dirty:
            user.save(update_fields=dirty)
            changed = True
    if {g.pk for g in groups} != set(user.groups.values_list("pk", flat=True)):
        user.groups.set(groups)
        changed = True
    return user, changed
