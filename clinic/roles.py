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
