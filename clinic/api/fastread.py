"""The API serializers' fast read (``FastReadMixin``): the same output as DRF's
``Serializer.to_representation`` without DRF's per-value generic lookup, the per-field plan
worked out once per serializer (or once per class when every field has a plain reading)."""

from __future__ import annotations

import copy
import datetime as dt
import operator

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from rest_framework import fields as drf_fields
from rest_framework import relations
from rest_framework import serializers as drf_serializers
from rest_framework.fields import SkipField
from rest_framework.settings import ISO_8601, api_settings


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
