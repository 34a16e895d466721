"""Create a personal API token for a user; the token is printed once, as the last line."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from clinic.models import User
from clinic.services import api_token_create


class Command(BaseCommand):
    help = (
        "Create a personal API token (Authorization: Token <token>) for the user with this "
        "email. The token is printed once, as the last line; only its hash is stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True, help="The user's email address.")
        parser.add_argument("--name", required=True, help="What the token is for.")
        parser.add_argument(
            "--expires-days",
            type=int,
            default=None,
            help="Days until the token expires (default: never).",
        )

    def handle(self, *args, email, name, expires_days, **options):
        try:
            user = User.objects.get(email__iexact=email.strip())
        except User.DoesNotExist as exc:
            raise CommandError(f"No user with email {email}.") from exc
        try:
            row, key = api_token_create(user=user, name=name, expires_days=expires_days)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        expiry = f"expires {row.expires_at:%Y-%m-%d %H:%M %Z}" if row.expires_at else "no expiry"
        self.stdout.write(f"Token “{row.name}” for {user.email} ({expiry}). Shown once:")
        self.stdout.write(key)
