from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.names import name_key


class User(AbstractUser):
    """A member. ``username`` is the private login; ``display_name`` the pseudonym shown."""

    display_name = models.CharField(_("display name"), max_length=32)
    display_key = models.CharField(max_length=64, unique=True, editable=False)
    language = models.CharField(_("language"), max_length=8, default="en")
    country = models.CharField(
        _("country"), max_length=2, blank=True, help_text=_("ISO 3166 code, for crisis lines.")
    )
    blur_flagged = models.BooleanField(
        _("blur flagged content"),
        default=False,
        help_text=_("Moderators: hide flagged message text until clicked."),
    )

    class Meta(AbstractUser.Meta):
        permissions = [
            ("review_sessions", "Can review flagged sessions and act in every room"),
        ]

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not self.display_name:
            self.display_name = self.username
        self.display_key = name_key(self.display_name)
        super().save(*args, **kwargs)

    @property
    def is_supervisor(self) -> bool:
        return self.has_perm("accounts.review_sessions")

    def __str__(self) -> str:
        return self.display_name
