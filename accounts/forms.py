from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.core.validators import MaxLengthValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.names import DisplayNameError, check_display_name, name_key, skeleton


def staff_names() -> list[str]:
    """Return the names of people others must be able to trust: moderators, supervisors."""
    return list(
        User.objects.filter(
            Q(memberships__role="moderator")
            | Q(is_staff=True)
            | Q(groups__name="supervisor")
            | Q(is_superuser=True)
        )
        .values_list("display_name", flat=True)
        .distinct()
    )


def clean_display_name(name: str, *, exclude_user_id: int | None = None) -> str:
    """Check a pseudonym for sign-up or renaming; raise ValidationError with a code."""
    try:
        name = check_display_name(name)
    except DisplayNameError as error:
        raise forms.ValidationError(str(error), code=error.code) from None
    taken = User.objects.filter(display_key=name_key(name))
    if exclude_user_id is not None:
        taken = taken.exclude(pk=exclude_user_id)
    if taken.exists():
        raise forms.ValidationError(_("That name is taken; choose another."), code="name_taken")
    shape = skeleton(name)
    if any(skeleton(staff) == shape for staff in staff_names()):
        raise forms.ValidationError(
            _("That name looks like a moderator's name; choose another."), code="name_confusable"
        )
    return name


class SignUpForm(UserCreationForm):
    """Sign up with a login name, a pseudonym and a password; nothing else is asked."""

    class Meta:
        model = User
        fields = ("username", "display_name", "language")
        labels = {"username": _("Login name (private)"), "display_name": _("Pseudonym (shown)")}
        help_texts = {
            "username": _("Only you see this; use it to log in."),
            "display_name": _("2 to 32 characters. Others see only this. No real name needed."),
        }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # The length rule (with its own code) lives in check_display_name.
        field = self.fields["display_name"]
        field.validators = [v for v in field.validators if not isinstance(v, MaxLengthValidator)]
        field.max_length = None  # type: ignore[attr-defined]

    def clean_display_name(self) -> str:
        return clean_display_name(self.cleaned_data["display_name"])
