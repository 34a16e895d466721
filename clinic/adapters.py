from allauth.account.adapter import DefaultAccountAdapter


class ClinicAccountAdapter(DefaultAccountAdapter):
    """Accounts are created by administrators and clinic managers: no public signup."""

    def is_open_for_signup(self, request):
        return False
