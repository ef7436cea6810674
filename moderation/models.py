from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SanctionQuerySet(models.QuerySet["Sanction"]):
    def in_force(self) -> "SanctionQuerySet":
        """Keep the sanctions that hold now: not lifted and not run out."""
        now = timezone.now()
        return self.filter(lifted_at__isnull=True).filter(Q(until__isnull=True) | Q(until__gt=now))


class Sanction(models.Model):
    """A mute or ban of one member in one room, until a time or until lifted."""

    class Kind(models.TextChoices):
        MUTE = "mute", _("mute")
        BAN = "ban", _("ban")

    room = models.ForeignKey("chat.Room", on_delete=models.CASCADE, related_name="sanctions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sanctions"
    )
    kind = models.CharField(max_length=8, choices=Kind)
    reason = models.CharField(max_length=500, blank=True)
    until = models.DateTimeField(null=True, blank=True, help_text=_("Empty: until lifted."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)

    objects = SanctionQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["room", "user", "kind"], name="sanction_lookup")]

    def __str__(self) -> str:
        return f"{self.kind} of {self.user_id} in {self.room_id}"


class Flag(models.Model):
    """Why a message needs a human: crisis language, a broken norm, or a peer's report.

    Saved in the same transaction as the message, before any alert is sent. Flags from
    one writer close together form one alert: the first is its head (``alert`` empty), the
    others point at it, so moderators see one alert that grows.
    """

    class Kind(models.TextChoices):
        CRISIS = "crisis", _("crisis")
        NORM = "norm", _("norm")
        REPORT = "report", _("peer report")

    class Tier(models.TextChoices):
        NONE = "none", _("none")
        CONCERN = "concern", _("concern")
        HIGH = "high", _("high")
        IMMINENT = "imminent", _("imminent")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        RESOLVED = "resolved", _("resolved")
        DISMISSED = "dismissed", _("dismissed as false alarm")

    room = models.ForeignKey("chat.Room", on_delete=models.CASCADE, related_name="flags")
    session = models.ForeignKey(
        "chat.Session", null=True, blank=True, on_delete=models.SET_NULL, related_name="flags"
    )
    message = models.ForeignKey(
        "chat.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="flags"
    )
    # The writer; empty once they delete their account (the flag stays for review).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="flags_about",
    )
    alert = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="grouped"
    )
    kind = models.CharField(max_length=8, choices=Kind)
    tier = models.CharField(max_length=8, choices=Tier, default=Tier.NONE)
    categories = models.JSONField(default=list, blank=True)
    norms = models.JSONField(default=list, blank=True)
    spans = models.JSONField(default=list, blank=True)
    rules = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=12, choices=Status, default=Status.OPEN)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports_made",
    )
    report_reason = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(default=timezone.now)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "escalated_at", "created"], name="flag_escalation"),
            models.Index(fields=["room", "author", "created"], name="flag_author"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} flag {self.pk} ({self.tier})"


TIER_RANK = {"none": 0, "concern": 1, "high": 2, "imminent": 3}


class ModerationAction(models.Model):
    """The audit log: who did what to whom, why and when. Rows are never edited."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_actions",
        help_text=_("Empty: done by the platform itself (norm ladder, escalation)."),
    )
    action = models.CharField(max_length=32)
    room = models.ForeignKey(
        "chat.Room", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    session = models.ForeignKey(
        "chat.Session", null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    target = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_received",
    )
    message = models.ForeignKey(
        "chat.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    flag = models.ForeignKey(
        Flag, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    reason = models.CharField(max_length=500, blank=True)
    until = models.DateTimeField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["created"], name="action_created"),
            models.Index(fields=["room", "created"], name="action_room"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_id} at {self.created:%Y-%m-%d %H:%M}"


class CrisisResource(models.Model):
    """A crisis line shown to a writer in crisis; empty country means everywhere (112)."""

    class Kind(models.TextChoices):
        EMERGENCY = "emergency", _("emergency")
        SUPPORT = "support", _("emotional support")
        YOUTH = "youth", _("children and young people")
        SUICIDE = "suicide", _("suicide prevention")

    country = models.CharField(max_length=2, blank=True, help_text=_("ISO 3166; empty: all"))
    language = models.CharField(max_length=8, blank=True, help_text=_("empty: any language"))
    kind = models.CharField(max_length=10, choices=Kind)
    name = models.CharField(max_length=120)
    phone = models.CharField(max_length=40, blank=True)
    url = models.URLField(blank=True)
    hours = models.CharField(max_length=80, blank=True)
    priority = models.PositiveSmallIntegerField(default=50, help_text=_("lower comes first"))
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["priority", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.country or 'all'})"


class SupervisionNote(models.Model):
    """A supervisor's note on a session: feedback that the room's moderators can read."""

    session = models.ForeignKey(
        "chat.Session", on_delete=models.CASCADE, related_name="supervision_notes"
    )
    # Empty once the supervisor deletes their account; the note stays with the session.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.TextField(_("note"))
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created", "id"]
        indexes = [models.Index(fields=["created"], name="supervisionnote_created")]

    def __str__(self) -> str:
        return f"note {self.pk} on session {self.session_id}"
