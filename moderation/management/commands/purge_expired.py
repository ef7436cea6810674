"""Delete what the retention rules say is no longer kept; prints counts, never content."""

from django.core.management.base import BaseCommand, CommandParser

from moderation.retention import purge_expired


class Command(BaseCommand):
    help = (
        "Delete messages past their room's retention (unless a flag keeps them), strip "
        "old closed flags of personal details, delete audit rows, flags, supervision "
        "notes and ended mutes and bans past the audit retention. "
        "See docs/operations.md#retention."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be purged; change nothing"
        )

    def handle(self, *args: object, dry_run: bool, **options: object) -> None:
        counts = purge_expired(dry_run=dry_run)
        verb = "would purge" if dry_run else "purged"
        self.stdout.write(
            f"{verb}: messages={counts.messages} flags_stripped={counts.flags_stripped} "
            f"flags={counts.flags} audit_rows={counts.actions} notes={counts.notes} "
            f"sanctions={counts.sanctions}"
        )
