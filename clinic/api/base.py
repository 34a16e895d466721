"""What every endpoint shares: permissions, pagination and the audit of patient data
(``AuditedMixin``; errors: ``clinic.api.errors``; serializers' fast read: ``clinic.api.fastread``).

Permissions follow the pages (``clinic.access``): a collection (list, create) needs the model
permission for the method, the ``view`` one for GET too (stock DRF skips it); an object is
looked up through the app's selector (``patient_for``, ``session_for``, ...), which answers 404
out of scope and then 403 without the action's permission. Writes also need identity access:
researchers are read-only whatever permissions an administrator adds to their group.
"""

from __future__ import annotations

import django_filters
from django.core.paginator import Paginator as DjangoPaginator
from django.db import DatabaseError
from rest_framework import exceptions, negotiation, pagination, permissions, status
from rest_framework.response import Response

from clinic.access import can_see_identity
from clinic.audit import Action, AuditUnavailable, patient_ids_for, record_access


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

    def _queryset(self, view):
        """Only the model matters here: a view's ``queryset`` names it (``Model.objects.none()``),
        so the selector behind ``get_queryset`` is not built twice per request."""
        queryset = getattr(view, "queryset", None)
        if queryset is not None:
            return queryset
        return super()._queryset(view)


class FirstPageCountPaginator(DjangoPaginator):
    """Django's paginator, without the COUNT query when the first page is not full: its rows
    are then all there is, so their number is the count. A full first page and every other
    page count as Django does (the page's rows are not read twice)."""

    def page(self, number):
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            first = int(number) == 1
        except (TypeError, ValueError):
            first = False
        if not first or self.orphans or not self.allow_empty_first_page or "count" in vars(self):
            return super().page(number)
        rows = list(self.object_list[: self.per_page])
        if len(rows) < self.per_page:
            self.count = len(rows)  # fills Django's cached_property
        return self._get_page(rows, 1, self)


class StaticFilterSet(django_filters.FilterSet):
    """A filter set whose filters are the same for every request and user (no queryset or
    choice made per user): its form class is built once, not on every request (django-filter
    builds one per instance). Forms copy their fields per instance, as Django's always do."""

    def get_form_class(self):
        cls = type(self)
        form = cls.__dict__.get("_static_form_class")
        if form is None:
            form = super().get_form_class()
            cls._static_form_class = form
        return form


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = FirstPageCountPaginator


class IgnoreClientContentNegotiation(negotiation.BaseContentNegotiation):
    """For downloads (PDF, CSV, FHIR): the file is returned as a plain Django response whatever
    the client's Accept header says, and an error is always the API's JSON error format."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return (renderers[0], renderers[0].media_type)


class AuditUnavailableError(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The audit trail cannot be written just now: nothing is shown. Try again."
    default_code = "audit_unavailable"


def patients_of(objects, model) -> list[int]:
    """The patients of ``objects`` (rows of ``model``): read from the rows when the patient's id
    is on them or on a related row already loaded, else one query (``patient_ids_for``)."""
    path = model.PATIENT_PATH
    if not path:
        return [obj.pk for obj in objects]
    *hops, last = path.split("__")
    ids, missing = set(), []
    for obj in objects:
        target = obj
        for hop in hops:
            if not model_field_cached(target, hop):
                target = None
                break
            target = getattr(target, hop)
        if target is None:
            missing.append(obj.pk)
        else:
            ids.add(getattr(target, f"{last}_id"))
    if missing:
        ids.update(patient_ids_for(model, missing))
    return sorted(ids)


def model_field_cached(obj, name: str) -> bool:
    field = obj._meta.get_field(name)
    return field.is_cached(obj)


class AuditedMixin:
    """THE audit of the API: one entry per successful request that read or changed patient data
    (``clinic.audit.record_access``), the same rules as the pages' ``clinic.web.audited``.

    The subject is, in order: what the view said with ``audit(...)`` (``_out`` says it for the
    object it returns; a research export names its patients), the patients of the list page
    (``paginate_queryset``), or the ``audit_model`` row named by the URL's ``pk``. The action is
    the view's, else ``audit_actions[action]``, else view for GET and HEAD, create for a POST,
    change for PUT and PATCH. Error responses (status >= 400) and OPTIONS record nothing, nor
    does an empty list page. If the entry cannot be written the data is dropped: 503 in the
    API's error format.
    """

    audit_model = None
    audit_actions: dict = {}

    def audit(self, *, obj=None, patients=None, action=None, object_type="", object_id=""):
        """Say what this response shows or changes, when the URL does not say it."""
        self._audit_subject = {
            "obj": obj,
            "patients": patients,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
        }

    def _out(self, obj, code=status.HTTP_200_OK):
        """``obj`` serialised, and named as the subject of the request's audit entry."""
        self.audit(obj=obj)
        return Response(self.get_serializer(obj).data, status=code)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None:
            model = queryset.model
            self.audit(patients=patients_of(page, model), object_type=model._meta.label_lower)
        return page

    def _audit_action(self, request, note) -> str:
        if note.get("action"):
            return note["action"]
        named = self.audit_actions.get(getattr(self, "action", None))
        if named is not None:
            return named
        return {
            "GET": Action.VIEW,
            "HEAD": Action.VIEW,
            "POST": Action.CREATE,
        }.get(request.method, Action.CHANGE)

    def _record(self, request, kwargs) -> None:
        note = getattr(self, "_audit_subject", None) or {}
        obj, patients = note.get("obj"), note.get("patients")
        object_type, object_id = note.get("object_type", ""), note.get("object_id", "")
        if obj is not None and patients is None:
            patients = patients_of([obj], type(obj))
        elif patients is None:
            if self.audit_model is None or "pk" not in kwargs:
                return  # nothing of a patient was shown
            object_type, object_id = self.audit_model._meta.label_lower, kwargs["pk"]
            patients = patients_of_pks(self.audit_model, [object_id])
        if not patients and obj is None and not object_id:
            return  # an empty list shows no patient
        record_access(
            request._request,
            self._audit_action(request, note),
            patients,
            obj,
            object_type=object_type,
            object_id=object_id,
        )

    def finalize_response(self, request, response, *args, **kwargs):
        if response.status_code < 400 and request.method != "OPTIONS":
            try:
                self._record(request, kwargs)
            except (AuditUnavailable, DatabaseError):
                response = self.handle_exception(AuditUnavailableError())
        return super().finalize_response(request, response, *args, **kwargs)


def patients_of_pks(model, pks) -> list[int]:
    """The patients of ``model`` rows ``pks`` (no query for Patient itself)."""
    try:
        return patient_ids_for(model, [int(pk) for pk in pks])
    except (TypeError, ValueError):
        return []
