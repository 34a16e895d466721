"""Changes to clinics, their settings and staff accounts (pages, admin and the demo seed)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, router, transaction
from django.db.models import Max
from django.utils import timezone

from clinic.models import ApiToken, Clinic, ClinicSettings, User
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


@transaction.atomic
def clinic_settings_add(*, row: ClinicSettings, user: User | None) -> ClinicSettings:
    """Save ``row`` (unsaved) as the clinic's next settings version; versions are never edited.

    ``user`` (None for the system) must hold ``clinic.add_clinicsettings`` in that clinic. The
    page and the admin both save through here, so version numbers come from one place.
    """
    if user is not None:
        if not (user.is_superuser or user.clinic_id == row.clinic_id):
            raise PermissionDenied("Settings of another clinic.")
        if not user.has_perm("clinic.add_clinicsettings"):
            raise PermissionDenied("Missing permission: clinic.add_clinicsettings")
    # Lock the clinic row so that two saves cannot take the same version number.
    Clinic.objects.select_for_update().get(pk=row.clinic_id)
    newest = ClinicSettings.objects.filter(clinic_id=row.clinic_id).aggregate(v=Max("version"))
    row.version = (newest["v"] or 0) + 1
    row.created_by = user
    row.full_clean()
    row.save()
    return row


def clinic_settings_create(*, clinic: Clinic, values: dict, user: User | None) -> ClinicSettings:
    """A new version from ``values``; what they leave out (the channel map) carries over."""
    row = ClinicSettings(clinic=clinic)
    current = ClinicSettings.objects.current_for(clinic.pk)
    if current is not None:
        row.channel_map = current.channel_map
    for name, value in values.items():
        setattr(row, name, value)
    return clinic_settings_add(row=row, user=user)


# Personal API tokens ---------------------------------------------------------------------------
API_TOKEN_MAX_DAYS = 3650


def api_token_hash(key: str) -> str:
    """The stored form of a token: its SHA-256, hex (the token itself is never stored)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


@transaction.atomic
def api_token_create(*, user: User, name: str, expires_days: int | None = None):
    """A new token for ``user``: returns (row, token). The token is shown once and never again.

    ``expires_days`` None means no expiry; otherwise 1 to API_TOKEN_MAX_DAYS days from now.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the token (what it is for)."})
    if expires_days is not None and not 1 <= expires_days <= API_TOKEN_MAX_DAYS:
        raise ValidationError(
            {"expires_days": f"Between 1 and {API_TOKEN_MAX_DAYS} days, or no expiry."}
        )
    if not user.is_active:
        raise ValidationError("An inactive account cannot have API tokens.")
    key = secrets.token_urlsafe(32)
    row = ApiToken(
        user=user,
        name=name,
        prefix=key[: ApiToken.PREFIX_LENGTH],
        key_hash=api_token_hash(key),
        expires_at=timezone.now() + timedelta(days=expires_days) if expires_days else None,
    )
    row.full_clean()
    row.save()
    return row, key


def api_token_revoke(*, user: User, token_id) -> ApiToken:
    """Revoke one of ``user``'s own tokens (another user's token does not exist for them)."""
    try:
        row = ApiToken.objects.get(pk=token_id, user=user)
    except (ApiToken.DoesNotExist, ValueError, TypeError) as exc:
        raise ApiToken.DoesNotExist("No such token.") from exc
    if row.revoked_at is None:
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
    return row


# The token's columns api_token_authenticate reads beside its user's.
_TOKEN_COLUMNS = ("id", "revoked_at", "expires_at", "last_used_at")


def _token_lookup(conn) -> tuple[str, list[str], list]:
    """The statement of ``api_token_authenticate`` (a token by its hash, with its user's row),
    the user's field names in its column order and each column's converters: plain SQL built
    once per database from the models (the ORM would compile the same join on every request).
    """
    cached = _TOKEN_LOOKUPS.get(conn.alias)
    if cached is not None:
        return cached
    q = conn.ops.quote_name
    token, user = ApiToken._meta, User._meta
    user_fields = list(user.concrete_fields)
    token_fields = [token.get_field(name) for name in _TOKEN_COLUMNS]
    columns = [f"u.{q(f.column)}" for f in user_fields] + [f"t.{q(f.column)}" for f in token_fields]
    # Table and column names come from the models; the hash is a parameter.
    owner = token.get_field("user").column
    sql = (
        f"SELECT {', '.join(columns)} FROM {q(token.db_table)} t "  # noqa: S608
        f"JOIN {q(user.db_table)} u ON u.{q(user.pk.column)} = t.{q(owner)} "
        f"WHERE t.{q(token.get_field('key_hash').column)} = %s"
    )
    converters = []
    for index, field in enumerate([*user_fields, *token_fields]):
        column = field.get_col(field.model._meta.db_table)
        functions = conn.ops.get_db_converters(column) + field.get_db_converters(conn)
        if functions:
            converters.append((index, functions, column))
    cached = (sql, [f.attname for f in user_fields], converters)
    _TOKEN_LOOKUPS[conn.alias] = cached
    return cached


_TOKEN_LOOKUPS: dict = {}


def api_token_authenticate(key: str, *, touch_every_s: int = 60) -> User | None:
    """The active user of a usable token, or None; records when it was last used.

    ``last_used_at`` is written at most once a minute per token, so that a busy client does not
    turn every read into a write. Every API request runs this: the row and its user are read
    by the token's unique hash alone in one prepared statement (``_token_lookup``; the user
    built as ``select_related`` builds it) and ``ApiToken.objects.usable``'s rule is checked on
    it here (not revoked, not expired, user active).
    """
    if not key or len(key) > 200:
        return None
    now = timezone.now()
    conn = connections[router.db_for_read(ApiToken)]
    sql, user_names, converters = _token_lookup(conn)
    with conn.cursor() as cursor:
        cursor.execute(sql, [api_token_hash(key)])
        row = cursor.fetchone()
    if row is None:
        return None
    row = list(row)
    for index, functions, column in converters:
        for convert in functions:
            row[index] = convert(row[index], column, conn)
    n = len(user_names)
    user = User.from_db(conn.alias, user_names, row[:n])
    token_pk, revoked_at, expires_at, last_used_at = row[n:]
    if (
        revoked_at is not None
        or (expires_at is not None and expires_at <= now)
        or not user.is_active
    ):
        return None
    if last_used_at is None or (now - last_used_at).total_seconds() >= touch_every_s:
        ApiToken.objects.filter(pk=token_pk).update(last_used_at=now)
    return user
