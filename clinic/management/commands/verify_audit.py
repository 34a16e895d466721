"""``manage.py verify_audit``: check the audit trail's hash chain, first entry to last."""

from django.core.management.base import BaseCommand, CommandError

from clinic.audit_verify import verify_chain


class Command(BaseCommand):
    help = (
        "Verify the audit trail's hash chain: exit 0 and print the count when intact, "
        "exit 1 naming the first broken entry otherwise."
    )

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.intact:
            where = f"entry #{report.broken_seq}" if report.broken_seq else "entry"
            if report.broken_id is not None:
                where += f" (id {report.broken_id})"
            raise CommandError(
                f"Audit chain broken at {where}: {report.reason}. "
                f"{report.count} entries before it are intact."
            )
        self.stdout.write(f"Audit chain intact: {report.count} entries.")
