"""Clinics, staff users, the building blocks other apps share (voiding) and the audit trail.

One module per concern; every model and shared name is imported from here
(``from clinic.models import User``), as Django and the migrations expect:

* ``accounts`` - ``Clinic``, ``User`` and its manager;
* ``voiding`` - ``Voidable``, ``VoidableQuerySet`` (patients and sessions build on them);
* ``clinic_settings`` - ``ClinicSettings``, ``PROTOCOL_FIELDS``, the game's channel map;
* ``api_tokens`` - ``ApiToken``;
* ``audit`` - ``AuditEntry``, ``AuditEntryPatient``, ``AuditChainHead``.
"""

# In the order the models were declared when they were one module: the app registry keeps it
# (the order of content types and permissions created for a new database).
# isort: off
from clinic.models.accounts import Clinic, User, UserManager
from clinic.models.voiding import Voidable, VoidableQuerySet
from clinic.models.clinic_settings import (
    GAME_CHANNEL_MAP,
    PROTOCOL_FIELDS,
    ClinicSettings,
    ClinicSettingsQuerySet,
    channel_map_problems,
    default_channel_map,
)
from clinic.models.api_tokens import ApiToken, ApiTokenQuerySet
from clinic.models.audit import NO_TRUNCATE, AuditChainHead, AuditEntry, AuditEntryPatient

# isort: on

__all__ = [
    "GAME_CHANNEL_MAP",
    "NO_TRUNCATE",
    "PROTOCOL_FIELDS",
    "ApiToken",
    "ApiTokenQuerySet",
    "AuditChainHead",
    "AuditEntry",
    "AuditEntryPatient",
    "Clinic",
    "ClinicSettings",
    "ClinicSettingsQuerySet",
    "User",
    "UserManager",
    "Voidable",
    "VoidableQuerySet",
    "channel_map_problems",
    "default_channel_map",
]
