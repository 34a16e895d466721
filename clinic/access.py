"""THE access policy: which patients, sessions and recordings a user may see.

Every surface (pages, API, websockets, file and PDF downloads, admin) asks this module, so that one
rule decides everywhere. Group membership sets the *scope* of objects:

- a superuser sees everything;
- a clinic manager and a researcher see their whole clinic (a researcher pseudonymised: the
  researcher group lacks ``patients.view_identifying_data``);
- a therapist sees the patients assigned to them, and those patients' sessions and recordings,
  plus the patients of their own clinic they opened under emergency access (break-the-glass,
  ``patients.EmergencyAccess``) until that access expires;
- anyone else sees nothing.

Model permissions (from groups, edited in admin) decide the *actions*. An object outside one's
scope answers 404; an object in scope without the permission for the action answers 403.
"""

from __future__ import annotations

import enum
import functools
from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from clinic.roles import CLINIC_MANAGER, RESEARCHER, THERAPIST


class Scope(enum.Enum):
    NONE = "none"
    ASSIGNED = "assigned"
    CLINIC = "clinic"
    ALL = "all"


def scope_of(user) -> Scope:
    """The widest scope any of the user's roles gives; cached on the user for the request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Scope.NONE
    cached = getattr(user, "_myoclinic_scope", None)
    if cached is not None:
        return cached
    if user.is_superuser:
        scope = Scope.ALL
    elif user.clinic_id is None:
        scope = Scope.NONE
    else:
        groups = group_names(user)
        if groups & {CLINIC_MANAGER, RESEARCHER}:
            scope = Scope.CLINIC
        elif THERAPIST in groups:
            scope = Scope.ASSIGNED
        else:
            scope = Scope.NONE
    user._myoclinic_scope = scope
    return scope


@functools.cache
def _roles_sql() -> str:
    """One statement for a user's groups with their permissions, and the user's own
    permissions: plain SQL built once from the models' tables (it runs on every request; the
    ORM would compile the same union each time)."""
    user_model = get_user_model()
    q = connection.ops.quote_name
    groups = user_model._meta.get_field("groups")  # user -> group
    granted = Group._meta.get_field("permissions")  # group -> permission
    own = user_model._meta.get_field("user_permissions")  # user -> permission
    group, perm = Group._meta.db_table, Permission._meta.db_table
    ctype = Permission._meta.get_field("content_type").related_model._meta.db_table
    # Table and column names come from the models; the user id is a parameter.
    return (
        f"SELECT g.{q('name')}, ct.{q('app_label')}, p.{q('codename')} "  # noqa: S608
        f"FROM {q(groups.m2m_db_table())} m "
        f"JOIN {q(group)} g ON g.{q('id')} = m.{q(groups.m2m_reverse_name())} "
        f"LEFT JOIN {q(granted.m2m_db_table())} gp "
        f"ON gp.{q(granted.m2m_column_name())} = g.{q('id')} "
        f"LEFT JOIN {q(perm)} p ON p.{q('id')} = gp.{q(granted.m2m_reverse_name())} "
        f"LEFT JOIN {q(ctype)} ct ON ct.{q('id')} = p.{q('content_type_id')} "
        f"WHERE m.{q(groups.m2m_column_name())} = %s "
        f"UNION ALL "
        f"SELECT '', ct.{q('app_label')}, p.{q('codename')} "
        f"FROM {q(own.m2m_db_table())} o "
        f"JOIN {q(perm)} p ON p.{q('id')} = o.{q(own.m2m_reverse_name())} "
        f"JOIN {q(ctype)} ct ON ct.{q('id')} = p.{q('content_type_id')} "
        f"WHERE o.{q(own.m2m_column_name())} = %s"
    )


def load_roles(user) -> None:
    """The user's group names and permissions (their own and their groups'), in one query,
    kept on the user object for this request (``_myoclinic_groups``, and Django's
    ``_perm_cache`` that ``ModelBackend.has_perm`` reads; ``clinic.backends``)."""
    with connection.cursor() as cursor:
        cursor.execute(_roles_sql(), [user.pk, user.pk])
        rows = cursor.fetchall()
    groups, perms = set(), set()
    for group, app_label, codename in rows:
        if group:
            groups.add(group)
        if codename:
            perms.add(f"{app_label}.{codename}")
    user._myoclinic_groups = frozenset(groups)
    if not user.is_superuser:  # a superuser holds every permission (Django's rule)
        user._perm_cache = perms


def group_names(user) -> frozenset:
    """The names of the user's groups (read with their permissions, once per request)."""
    if getattr(user, "_myoclinic_groups", None) is None:
        load_roles(user)
    return user._myoclinic_groups


def can_see_identity(user) -> bool:
    """Names, MRN and birth date are shown only with this permission (researchers lack it)."""
    return scope_of(user) is not Scope.NONE and user.has_perm("patients.view_identifying_data")


# The Patient's relations this module reads, by name (it imports no model above clinic).
ASSIGNMENT_RELATION = "therapists"
EMERGENCY_RELATION = "emergency_accesses"


def _patient_model(model, patient_path: str):
    """The Patient model, reached from ``model`` along ``patient_path``."""
    for name in patient_path.split("__") if patient_path else ():
        model = model._meta.get_field(name).related_model
    return model


def _assigned_or_emergency(queryset, user, patient_path: str) -> Q:
    """Patients assigned to ``user``, or opened by them under an emergency access not expired.

    One subquery on the patient id (the UNION of both sets), not joins: a join of either
    many-valued relation would repeat rows (one per other therapist, one per grant). One IN,
    not an OR of two: PostgreSQL turns it into a semi-join that starts from the therapist's few
    patients and reads their rows by index, where an OR of two IN filters every row of the
    clinic (a count of all the clinic's sessions to find a therapist's 200).
    """
    patient = _patient_model(queryset.model, patient_path)
    assignments = patient._meta.get_field(ASSIGNMENT_RELATION).remote_field.through
    grants = patient._meta.get_field(EMERGENCY_RELATION).related_model
    patient_id = f"{patient_path}__pk__in" if patient_path else "pk__in"
    assigned = assignments._default_manager.filter(user=user).order_by().values("patient_id")
    opened = (
        grants._default_manager.filter(user=user, expires_at__gt=timezone.now())
        .order_by()
        .values("patient_id")
    )
    return Q(**{patient_id: assigned.union(opened)})


def restrict(queryset, user, *, patient_path: str = "", clinic_path: str | None = None):
    """``queryset`` narrowed to the objects ``user`` may see (every scoped model's ``visible_to``).

    ``patient_path`` is the lookup from the queryset's model to its Patient ("" for Patient
    itself, "session__patient" for a Recording): scope is decided on the patient, so this
    module needs no model of the apps above it. A therapist's emergency access widens the
    assigned scope to that patient until it expires, and never beyond their own clinic (the
    clinic filter applies to both).

    ``clinic_path`` names the model's own copy of its patient's clinic when it keeps one
    (``TherapySession.clinic``, always equal to ``patient.clinic``): the clinic filter then
    reads that column and needs no join to the patient. By default it is the patient's.
    """
    prefix = f"{patient_path}__" if patient_path else ""
    clinic_id = f"{clinic_path}_id" if clinic_path else f"{prefix}clinic_id"
    scope = scope_of(user)
    if scope is Scope.ALL:
        return queryset
    if scope is Scope.CLINIC:
        return queryset.filter(**{clinic_id: user.clinic_id})
    if scope is Scope.ASSIGNED:
        return queryset.filter(
            _assigned_or_emergency(queryset, user, patient_path),
            **{clinic_id: user.clinic_id},
        )
    return queryset.none()


def is_emergency_read(user, patient) -> bool:
    """True when ``user`` sees ``patient`` only through an emergency access (purpose emergency).

    A therapist of the patient's clinic who is not assigned to them: the access policy let the
    read through, so an active emergency access is what opened it.
    """
    return (
        scope_of(user) is Scope.ASSIGNED
        and patient.clinic_id == user.clinic_id
        and not patient.therapists.filter(pk=user.pk).exists()
    )


def require_perm(user, perm: str) -> None:
    """Raise PermissionDenied (403) unless the user holds ``perm``."""
    if not user.has_perm(perm):
        raise PermissionDenied(f"Missing permission: {perm}")


def get_visible_or_404(queryset, *, user, perm: str | None = None, **lookup):
    """THE lookup of pages: one object in the user's scope (404 otherwise), then ``perm`` (403).

    ``queryset`` is a scoped model's manager or queryset (``Patient.objects.select_related(..)``):
    it is narrowed here by its ``visible_to``, so no caller can forget the scope.
    """
    queryset = queryset.visible_to(user)
    try:
        obj = queryset.get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404("Not found.") from exc
    except (ValueError, TypeError) as exc:  # a malformed id in the URL or query
        raise Http404("Not found.") from exc
    if perm is not None:
        require_perm(user, perm)
    return obj


def require_object_access(user, obj, perm: str) -> None:
    """The services' check: ``obj`` in the user's scope, then ``perm``; ``None`` is the system.

    Services raise PermissionDenied for both (a page has already answered 404 for out of scope
    with ``get_visible_or_404``; the API and commands reach services directly).
    """
    if user is None:
        return
    if not type(obj)._default_manager.visible_to(user).filter(pk=obj.pk).exists():
        raise PermissionDenied("This record is outside your scope.")
    require_perm(user, perm)


def can_download_recordings(user) -> bool:
    """C3D files carry the player's name: the permission and identity access are both needed."""
    return user.has_perm("therapy_sessions.download_recording") and can_see_identity(user)


def hide_voided_from_non_voiders(user, *, patient, session=None, recording=None) -> None:
    """Voided records stay readable only to those who may void them (they review the trail).

    For everyone else a voided patient (and everything under it), a voided session (and its
    recordings) or a voided recording answers 404, like an object outside their scope.
    """
    if patient.is_voided and not user.has_perm("patients.void_patient"):
        raise Http404("Not found.")
    if (
        session is not None
        and session.is_voided
        and not user.has_perm("therapy_sessions.void_therapysession")
    ):
        raise Http404("Not found.")
    if (
        recording is not None
        and recording.is_voided
        and not user.has_perm("therapy_sessions.void_recording")
    ):
        raise Http404("Not found.")


def age_band(born: date | None, *, today: date | None = None) -> str:
    """Ten-year age band ("60-69") that researchers see instead of a birth date."""
    if born is None:
        return "unknown"
    today = today or date.today()  # noqa: DTZ011 - a calendar date, the local day is right
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    low = (years // 10) * 10
    return f"{low}-{low + 9}"
