"""What every endpoint shares: permissions, pagination and the audit of patient data
(``AuditedMixin``; errors: ``clinic.api.errors``).

Permissions follow the pages (``clinic.access``): a collection (list, create) needs the model
permission for the method, the ``view`` one for GET too (stock DRF skips it); an object is
looked up through the app's selector (``patient_for``, ``session_for``, ...), which answers 404
out of scope and then 403 without the action's permission. Writes also need identity access:
researchers are read-only whatever permissions an administrator adds to their group.
"""

from __future__ import annotations

import copy
import datetime as dt
import operator

import django_filters
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator as DjangoPaginator
from django.db import DatabaseError
from django.utils import timezone
from rest_framework import exceptions, negotiation, pagination, permissions, relations, status
from rest_framework import fields as drf_fields
from rest_framework import serializers as drf_serializers
from rest_framework.fields import SkipField
from rest_framework.response import Response
from rest_framework.settings import ISO_8601, api_settings

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


def _plain_reader(model, field, tz=None):
    """How to read ``field`` of a ``model`` row without DRF's per-value generic lookup, or None
    when the field needs it (nested sources, callables, anything unusual). ``tz`` is the
    request's current time zone (DRF's ``DateTimeField`` converts to it)."""
    kind = _plain_kind(model, field)
    if kind is None:
        return None
    return _reader_of(kind, getattr(field, "parent", None), tz)


def _plain_kind(model, field):
    """What ``_reader_of`` needs to read ``field``: ("method", name), ("id", attname),
    ("datetime" | "date" | "value", (attribute, field)); None for DRF's own reading."""
    if isinstance(field, drf_serializers.SerializerMethodField):
        return ("method", field.method_name)
    if field.source == "*" or len(field.source_attrs) != 1 or model is None:
        return None
    name = field.source_attrs[0]
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        model_field = None
    if isinstance(field, relations.PrimaryKeyRelatedField):
        # DRF's pk-only optimisation: the foreign key's id, never the related row.
        if (
            model_field is None
            or not model_field.many_to_one
            or field.pk_field is not None
            or not field.use_pk_only_optimization()
        ):
            return None
        return ("id", model_field.attname)
    if isinstance(field, relations.RelatedField | drf_serializers.BaseSerializer):
        return None
    plain = (model_field is not None and model_field.concrete and not model_field.is_relation) or (
        isinstance(getattr(model, name, None), property)
    )
    if not plain:
        return None
    if type(field) is drf_fields.DateTimeField:
        return ("datetime", (name, field))
    if type(field) is drf_fields.DateField:
        return ("date", (name, field))
    return ("value", (name, field))


def _reader_of(kind, serializer, tz):
    """The reader of one ``_plain_kind``, for ``serializer`` (its method fields) and ``tz``."""
    what, data = kind
    if what == "method":
        return getattr(serializer, data)
    if what == "id":
        return operator.attrgetter(data)
    name, field = data
    if what == "datetime":
        return _datetime_reader(name, field, tz)
    if what == "date":
        return _date_reader(name, field)
    return _value_reader(name, field)


# DRF fields whose representation of a value of exactly this type is the value itself
# (CharField: str(value); IntegerField: int(value); BooleanField: True/False).
_ITSELF = {
    drf_fields.CharField: str,
    drf_fields.IntegerField: int,
    drf_fields.BooleanField: bool,
}


def _value_reader(name, field):
    represent = field.to_representation
    itself = _ITSELF.get(type(field))
    if type(field) is drf_fields.BigIntegerField and not getattr(
        field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING
    ):
        itself = int
    if itself is None:
        return lambda row: _none_or(getattr(row, name), represent)

    def read(row):
        value = getattr(row, name)
        if value is None or type(value) is itself:
            return value
        return represent(value)

    return read


def _datetime_reader(name, field, tz):
    """DRF's ``DateTimeField.to_representation`` for an aware datetime in ISO 8601: converted
    to the current time zone (looked up once, not per value), "+00:00" written "Z". Anything
    else (naive values, other formats, a field's own time zone) is DRF's."""
    represent = field.to_representation
    output = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if (
        tz is None
        or not isinstance(output, str)
        or output.lower() != ISO_8601
        or hasattr(field, "timezone")
    ):
        return lambda row: _none_or(getattr(row, name), represent)

    def read(row):
        value = getattr(row, name)
        if type(value) is not dt.datetime or value.tzinfo is None:
            return _none_or(value, represent)
        try:
            text = value.astimezone(tz).isoformat()
        except OverflowError:
            return represent(value)  # DRF's own error
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return read


def _date_reader(name, field):
    """DRF's ``DateField.to_representation`` in ISO 8601: ``date.isoformat()``."""
    represent = field.to_representation
    output = getattr(field, "format", api_settings.DATE_FORMAT)
    if not isinstance(output, str) or output.lower() != ISO_8601:
        return lambda row: _none_or(getattr(row, name), represent)

    def read(row):
        value = getattr(row, name)
        return value.isoformat() if type(value) is dt.date else _none_or(value, represent)

    return read


def _none_or(value, represent):
    return None if value is None else represent(value)


def _current_tz():
    """DRF's ``DateTimeField.default_timezone()``."""
    return timezone.get_current_timezone() if settings.USE_TZ else None


# Per serializer class: the kinds of its readable fields when every one has a plain reading
# and the class builds its fields as ModelSerializer does (so they depend on Meta alone), else
# None. Kept for the process: a list or a detail then builds no DRF field at all.
_CLASS_KINDS: dict = {}


def _class_kinds(serializer):
    cls = type(serializer)
    try:
        return _CLASS_KINDS[cls]
    except KeyError:
        pass
    kinds = None
    if (
        isinstance(serializer, drf_serializers.ModelSerializer)
        and cls.get_fields is drf_serializers.ModelSerializer.get_fields
    ):
        model = getattr(getattr(cls, "Meta", None), "model", None)
        kinds = []
        for field in serializer._readable_fields:  # built once, on this first instance
            kind = _plain_kind(model, field)
            if kind is None or (kind[0] == "value" and type(kind[1][1]) not in _SHARED_FIELDS):
                kinds = None
                break
            if kind[0] in ("datetime", "date", "value"):
                # An unbound copy: the class keeps no reference to this request's serializer.
                kind = (kind[0], (kind[1][0], copy.deepcopy(kind[1][1])))
            kinds.append((field.field_name, kind))
    _CLASS_KINDS[cls] = kinds
    return kinds


# DRF field types whose ``to_representation`` reads nothing but the field's own arguments and
# the settings (no parent, no context): one instance may serve every serializer of a class.
_SHARED_FIELDS = frozenset(
    {
        drf_fields.CharField,
        drf_fields.IntegerField,
        drf_fields.BigIntegerField,
        drf_fields.BooleanField,
        drf_fields.ChoiceField,
        drf_fields.DecimalField,
        drf_fields.FloatField,
        drf_fields.EmailField,
        drf_fields.UUIDField,
        drf_fields.DateTimeField,
        drf_fields.DateField,
    }
)


class FastReadMixin:
    """A model serializer's read side, same output as DRF's ``Serializer.to_representation``
    with the per-field plan worked out once per serializer instance (a list's rows share it):
    concrete fields, properties, foreign keys (their id), dates, datetimes and method fields are
    read directly; any other field goes through DRF's own ``get_attribute``/``to_representation``.

    When every field has a direct reading, what each field is is worked out once per class
    (``_class_kinds``) and DRF's fields are not even built per request."""

    def _read_plan(self):
        plan = self.__dict__.get("_fast_read_plan")
        if plan is None:
            tz = _current_tz()
            kinds = _class_kinds(self)
            if kinds is not None:
                plan = [(name, _reader_of(kind, self, tz)) for name, kind in kinds]
            else:
                model = getattr(getattr(self, "Meta", None), "model", None)
                plan = []
                for field in self._readable_fields:
                    reader = _plain_reader(model, field, tz)
                    plan.append((field.field_name, reader or _drf_reader(field)))
            self._fast_read_plan = plan
        return plan

    def to_representation(self, instance):
        ret = {}
        for name, read in self._read_plan():
            value = read(instance)
            if value is not _SKIP:
                ret[name] = value
        return ret


_SKIP = object()


def _drf_reader(field):
    """DRF's own reading of one field (``Serializer.to_representation``'s loop body)."""

    def read(row):
        try:
            attribute = field.get_attribute(row)
        except SkipField:
            return _SKIP
        check = attribute.pk if isinstance(attribute, relations.PKOnlyObject) else attribute
        return None if check is None else field.to_representation(attribute)

    return read


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
