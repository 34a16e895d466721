from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.ratelimit import respond_429
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.exceptions import ValidationError


class ClinicAccountAdapter(DefaultAccountAdapter):
    """Accounts are created by administrators and clinic managers: no public signup."""

    def is_open_for_signup(self, request):
        return False

    def pre_authenticate(self, request, **credentials):
        """A login locked by too many failures answers 429 (allauth re-shows its form, 200).

        Applies to the admin too, whose login is this one.
        """
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError as exc:
            if exc.code == "too_many_login_attempts":
                raise ImmediateHttpResponse(respond_429(request)) from exc
            raise


class ClinicMFAAdapter(DefaultMFAAdapter):
    """With ``MFA_REQUIRED`` on, the TOTP authenticator cannot be removed (only replaced by an
    administrator deleting it, after which the user must set up a new one before going on)."""

    def can_delete_authenticator(self, authenticator):
        if settings.MFA_REQUIRED and authenticator.type == Authenticator.Type.TOTP:
            return False
        return super().can_delete_authenticator(authenticator)
