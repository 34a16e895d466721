"""Staff roles are Django groups; this module names them and their initial permissions.

The groups are created by a data migration with these permissions; after that, administrators
edit them in Django admin, and the access policy (clinic/access.py) reads group membership only
to decide the *scope* of what a user sees, never the actions.
"""

THERAPIST = "Therapist"
CLINIC_MANAGER = "Clinic manager"
RESEARCHER = "Researcher"
ROLE_GROUPS = (THERAPIST, CLINIC_MANAGER, RESEARCHER)

_VIEW = [
    "patients.view_patient",
    "therapy_sessions.view_therapysession",
    "therapy_sessions.view_recording",
]
_CLINICAL_WORK = [
    *_VIEW,
    "patients.view_identifying_data",
    "patients.add_patient",
    "patients.change_patient",
    "therapy_sessions.add_therapysession",
    "therapy_sessions.change_therapysession",
    "therapy_sessions.add_recording",
    "therapy_sessions.change_recording",
    "therapy_sessions.download_recording",
]

INITIAL_PERMISSIONS = {
    THERAPIST: _CLINICAL_WORK,
    CLINIC_MANAGER: [
        *_CLINICAL_WORK,
        "patients.void_patient",
        "patients.assign_therapists",
        "therapy_sessions.void_therapysession",
        "clinic.view_user",
        "clinic.add_user",
        "clinic.change_user",
        "clinic.view_clinic",
    ],
    RESEARCHER: _VIEW,
}

# Added with the recording pipeline (MVC calibrations, protocols, clinic settings, results).
# Kept apart from INITIAL_PERMISSIONS on purpose: migration clinic/0002 grants that dict before
# these models exist; patients/0003_pipeline_role_permissions grants these (its own frozen copy).
_PIPELINE_VIEW = [
    "patients.view_mvccalibration",
    "patients.view_patientprotocol",
    "clinic.view_clinicsettings",
    "analysis.view_recordinganalysis",
]
_PIPELINE_CLINICAL_WORK = [
    *_PIPELINE_VIEW,
    "patients.add_mvccalibration",
    "patients.add_patientprotocol",
    "patients.change_patientprotocol",
]
PIPELINE_PERMISSIONS = {
    THERAPIST: _PIPELINE_CLINICAL_WORK,
    CLINIC_MANAGER: [*_PIPELINE_CLINICAL_WORK, "clinic.add_clinicsettings"],
    RESEARCHER: _PIPELINE_VIEW,
}
# Added with the exports (issue 14): the clinic-wide pseudonymised research CSV. Granted by
# analysis/0003_research_export_permission (its own frozen copy).
EXPORT_PERMISSIONS = {
    THERAPIST: [],
    CLINIC_MANAGER: ["analysis.export_research_data"],
    RESEARCHER: ["analysis.export_research_data"],
}
# Break-the-glass (patients.EmergencyAccess): therapists open, managers acknowledge.
# Granted by patients/0005_emergency_access_permissions (its own frozen copy).
EMERGENCY_PERMISSIONS = {
    THERAPIST: ["patients.add_emergencyaccess"],
    CLINIC_MANAGER: ["patients.view_emergencyaccess", "patients.acknowledge_emergencyaccess"],
    RESEARCHER: [],
}

# Added with the audit trail: managers read it (clinic/0006_audit_permission grants it).
AUDIT_PERMISSIONS = {
    THERAPIST: [],
    CLINIC_MANAGER: ["clinic.view_auditentry"],
    RESEARCHER: [],
}

# Recordings are records (issue 16): therapists and managers void a wrong or failed file and move
# one filed under the wrong session. Granted by therapy_sessions/0007 (its own frozen copy).
RECORDING_PERMISSIONS = {
    THERAPIST: ["therapy_sessions.void_recording"],
    CLINIC_MANAGER: ["therapy_sessions.void_recording"],
    RESEARCHER: [],
}

# Everything each role starts with today.
ROLE_PERMISSIONS = {
    role: [
        *INITIAL_PERMISSIONS[role],
        *PIPELINE_PERMISSIONS[role],
        *EXPORT_PERMISSIONS[role],
        *EMERGENCY_PERMISSIONS[role],
        *AUDIT_PERMISSIONS[role],
        *RECORDING_PERMISSIONS[role],
    ]
    for role in ROLE_GROUPS
}
