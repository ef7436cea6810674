import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Room(models.Model):
    """A group room. Members post only after accepting the current norms version."""

    class Privacy(models.TextChoices):
        LISTED = "listed", _("listed")
        UNLISTED = "unlisted", _("unlisted")

    class Kind(models.TextChoices):
        DROP_IN = "drop_in", _("drop-in")
        SCHEDULED = "scheduled", _("scheduled")

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    language = models.CharField(max_length=8, default="en")
    country = models.CharField(max_length=2, blank=True)
    privacy = models.CharField(max_length=10, choices=Privacy, default=Privacy.LISTED)
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.DROP_IN)
    capacity = models.PositiveIntegerField(default=30)
    norms_text = models.TextField(blank=True)
    norms_version = models.PositiveIntegerField(default=1)
    slow_mode_seconds = models.PositiveIntegerField(default=0)
    locked = models.BooleanField(default=False)
    # What automation does with crisis and norm-breaking messages; keys missing here
    # take the defaults in moderation.policy.
    policy = models.JSONField(default=dict, blank=True)
    retention_days = models.PositiveIntegerField(default=30)
    pinned_message = models.ForeignKey(
        "chat.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The seq of the last message shown to the room; bumped under the row lock.
    last_seq = models.BigIntegerField(default=0, editable=False)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    class Role(models.TextChoices):
        PEER = "peer", _("peer")
        MODERATOR = "moderator", _("moderator")

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role, default=Role.PEER)
    norms_version_accepted = models.PositiveIntegerField(default=0)
    joined = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.room_id} ({self.role})"


class Session(models.Model):
    """A stretch of time in which a room meets; flags and transcripts hang off it."""

    class Mode(models.TextChoices):
        ONLINE = "online", _("online")
        HYBRID = "hybrid", _("hybrid")

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="sessions")
    mode = models.CharField(max_length=10, choices=Mode, default=Mode.ONLINE)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    opened_at = models.DateTimeField(default=timezone.now)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    in_person_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            # At most one open session per room.
            models.UniqueConstraint(
                fields=["room"], condition=Q(closed_at__isnull=True), name="one_open_session"
            ),
        ]

    def __str__(self) -> str:
        return f"session {self.pk} of {self.room_id}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class Message(models.Model):
    class Status(models.TextChoices):
        VISIBLE = "visible", _("visible")
        HELD = "held", _("held for a moderator")
        HIDDEN = "hidden", _("hidden")

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    session = models.ForeignKey(
        Session, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    # Raw text as typed; escaped where it is rendered, never stored as HTML.
    body = models.TextField()
    client_id = models.UUIDField(default=uuid.uuid4)
    # Position in the room's stream; given when the room first sees the message
    # (a held message gets one when it is released).
    seq = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.VISIBLE)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["author", "client_id"], name="message_client_id"),
            models.UniqueConstraint(fields=["room", "seq"], name="message_room_seq"),
        ]
        indexes = [
            models.Index(fields=["room", "status", "seq"], name="message_stream"),
            models.Index(fields=["created"], name="message_created"),
            # The writer's recent messages: engine context, slow mode, alert context.
            models.Index(fields=["room", "author", "created"], name="message_writer"),
        ]

    def __str__(self) -> str:
        return f"message {self.pk} in {self.room_id}"
