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
