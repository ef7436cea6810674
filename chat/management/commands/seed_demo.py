"""Create the demo room and users (idempotent) and print the logins."""

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from accounts.models import User
from accounts.roles import moderator_group, supervisor_group
from chat.models import Membership, Room

NORMS = """1. What is said here stays here.
2. Speak from your own experience; no advice unless asked.
3. No names, phone numbers, addresses or links to find someone outside.
4. Be kind. Disagree with ideas, never with people.
5. If you are in danger now, call 112. The moderators are here to help."""


class Command(BaseCommand):
    help = "Create the demo room `welcome` with peer1, peer2, mod1 and admin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", default="peerchat-demo", help="password for all four")

    @transaction.atomic
    def handle(self, *args: object, password: str, **options: object) -> None:
        room, _ = Room.objects.get_or_create(
            slug="welcome",
            defaults={
                "name": "Welcome circle",
                "description": "A drop-in room to meet others and try peerchat.",
                "language": "en",
                "norms_text": NORMS,
                "norms_version": 1,
            },
        )
        people = [
            ("peer1", "Peer One", Membership.Role.PEER),
            ("peer2", "Peer Two", Membership.Role.PEER),
            ("mod1", "Moderator One", Membership.Role.MODERATOR),
            ("admin", "Admin", None),
        ]
        for username, display_name, role in people:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(username=username, display_name=display_name)
            user.set_password(password)
            if username == "admin":
                user.is_staff = user.is_superuser = True
            user.save()
            if role is not None:
                Membership.objects.update_or_create(room=room, user=user, defaults={"role": role})
            if role == Membership.Role.MODERATOR:
                user.groups.add(moderator_group())
            if username == "admin":
                user.groups.add(supervisor_group())
        self.stdout.write("Demo room: welcome (http://127.0.0.1:8000/rooms/welcome/)")
        self.stdout.write(f"Logins (password: {password}):")
        self.stdout.write("  peer1, peer2  peers of `welcome`")
        self.stdout.write("  mod1          moderator of `welcome`")
        self.stdout.write("  admin         superuser and supervisor")
