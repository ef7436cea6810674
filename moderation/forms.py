"""Forms of the review pages: filters (GET) and decisions (POST)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.models import Room
from moderation.engine.types import CRISIS_CATEGORIES, NORMS
from moderation.models import Flag
from moderation.review import PLATFORM, AuditFilters, QueueFilters, action_names, actors
from moderation.supervision import Decision

MAX_NOTE = 5000
ANY = [("", _("any"))]


class DateInput(forms.DateInput):
    input_type = "date"


def room_choices() -> list[tuple[str, object]]:
    return ANY + [
        (slug, slug) for slug in Room.objects.order_by("slug").values_list("slug", flat=True)
    ]


class DateRangeForm(forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The range ends before it starts."), code="range")
        return data


class QueueFilterForm(DateRangeForm):
    room = forms.ChoiceField(label=_("Room"), required=False)
    tier = forms.ChoiceField(label=_("Tier"), required=False, choices=ANY + Flag.Tier.choices)
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        choices=ANY + [(c, c) for c in sorted(CRISIS_CATEGORIES | NORMS)],
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("unresolved (open or acknowledged)")), *Flag.Status.choices],
    )
    field_order = ["room", "tier", "category", "status", "date_from", "date_to"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].choices = room_choices()  # type: ignore[attr-defined]

    def filters(self) -> QueueFilters:
        """Return the filters; call after is_valid() (invalid input filters nothing)."""
        data = self.cleaned_data if self.is_valid() else {}
        return QueueFilters(
            room=data.get("room", ""),
            tier=data.get("tier", ""),
            category=data.get("category", ""),
            status=data.get("status", ""),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


class AuditFilterForm(DateRangeForm):
    room = forms.ChoiceField(label=_("Room"), required=False)
    action = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.ChoiceField(label=_("By"), required=False)
    field_order = ["room", "action", "actor", "date_from", "date_to"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].choices = room_choices()  # type: ignore[attr-defined]
        self.fields["action"].choices = ANY + [(a, a) for a in action_names()]  # type: ignore[attr-defined]
        self.fields["actor"].choices = (  # type: ignore[attr-defined]
            ANY + [(PLATFORM, _("the platform"))] + [(str(i), n) for i, n in actors()]
        )

    def filters(self) -> AuditFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return AuditFilters(
            room=data.get("room", ""),
            action=data.get("action", ""),
            actor=data.get("actor", ""),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


def default_stats_range() -> tuple[date, date]:
    """Return the last twelve weeks: from the Monday eleven weeks ago to today."""
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=11), today


class StatsRangeForm(DateRangeForm):
    def date_range(self) -> tuple[date, date]:
        start, end = default_stats_range()
        if self.is_valid():
            start = self.cleaned_data.get("date_from") or start
            end = self.cleaned_data.get("date_to") or end
        return (start, end) if start <= end else (end, start)


class FlagDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (Decision.RESOLVE.value, _("Resolve")),
            (Decision.DISMISS.value, _("Dismiss as false alarm")),
            (Decision.ESCALATE.value, _("Escalate")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"), max_length=MAX_NOTE, widget=forms.Textarea(attrs={"rows": 2})
    )


class SupervisionNoteForm(forms.Form):
    text = forms.CharField(
        label=_("Supervision note"), max_length=MAX_NOTE, widget=forms.Textarea(attrs={"rows": 3})
    )


class ExportForm(DateRangeForm):
    dataset = forms.ChoiceField(
        label=_("What"),
        choices=[("flags", _("flags")), ("actions", _("moderator actions (audit log)"))],
        widget=forms.RadioSelect,
        initial="flags",
    )
    format = forms.ChoiceField(
        label=_("Format"),
        choices=[("csv", "CSV"), ("json", "JSON")],
        widget=forms.RadioSelect,
        initial="csv",
    )
    date_from = forms.DateField(label=_("From"), widget=DateInput)
    date_to = forms.DateField(label=_("To"), widget=DateInput)
    include_text = forms.BooleanField(
        label=_("Include message text and peer report reasons"),
        required=False,
        help_text=_("Only when the review needs the words themselves."),
    )
