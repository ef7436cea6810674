"""The review pages for supervisors (docs/review.md). Thin: forms parse, moderation.review
and moderation.stats read, moderation.supervision and moderation.exports write."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from accounts.roles import REVIEW_PERMISSION
from chat.models import Session
from moderation import stats
from moderation.charts import bar_chart
from moderation.exports import ExportRequest, start_export
from moderation.forms import (
    AuditFilterForm,
    ExportForm,
    FlagDecisionForm,
    QueueFilterForm,
    StatsRangeForm,
    SupervisionNoteForm,
)
from moderation.models import Flag, SupervisionNote
from moderation.review import (
    format_duration,
    moderates_room,
    queue_entries,
    queue_rows,
    session_review,
    status_counts,
)
from moderation.supervision import Decision, do_add_supervision_note, do_decide_flag

PAGE_SIZE = 50


def review_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let only users with the review permission in: others get 403, anonymous users the
    login page. The pages show what members wrote on their worst days: never cache them."""
    checked = permission_required(REVIEW_PERMISSION, raise_exception=True)(view)
    return never_cache(login_required(checked))


@review_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """List sessions with unresolved flags: highest tier first, then oldest first."""
    form = QueueFilterForm(request.GET or None)
    filters = form.filters()
    counts = status_counts(filters)
    page = Paginator(queue_rows(filters), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "review/queue.html",
        {
            "section": "queue",
            "form": form,
            "counts": [(value, label, counts[value]) for value, label in Flag.Status.choices],
            "page": page,
            "entries": queue_entries(list(page.object_list)),
            "now": timezone.now(),
        },
    )


@review_required
@require_GET
def oncall(request: HttpRequest) -> HttpResponse:
    """Serve the on-call page: escalated crisis alerts from every room, live (its socket
    is ``/ws/oncall/``, see ``moderation.consumers``)."""
    return render(request, "review/oncall.html", {"section": "oncall", "ws_path": "/ws/oncall/"})


@review_required
@require_GET
def session_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    """Show a session's transcript, its flags with the decisions to take, the moderators'
    actions as a timeline, and the supervision notes."""
    session = get_object_or_404(Session.objects.select_related("room"), pk=session_id)
    return render(
        request,
        "review/session.html",
        {
            "section": "queue",
            "review": session_review(session),
            "decisions": FlagDecisionForm.base_fields["decision"].choices,  # type: ignore[attr-defined]
            "note_form": SupervisionNoteForm(),
        },
    )


@review_required
@require_POST
def decide_flag(request: HttpRequest, flag_id: int) -> HttpResponse:
    """Resolve, dismiss or escalate a flag's alert, with a note."""
    user: User = request.user  # type: ignore[assignment]
    flag = get_object_or_404(Flag, pk=flag_id)
    form = FlagDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a decision and write a note."))
    elif do_decide_flag(
        flag, user, Decision(form.cleaned_data["decision"]), form.cleaned_data["note"]
    ):
        messages.success(request, _("Flag %(id)s: decision saved.") % {"id": flag.pk})
    else:
        messages.info(request, _("Flag %(id)s had been decided already.") % {"id": flag.pk})
    if flag.session_id is None:
        return redirect("review:queue")
    url = reverse("review:session", args=[flag.session_id])
    return redirect(f"{url}#flag-{flag.pk}")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def session_notes(request: HttpRequest, session_id: int) -> HttpResponse:
    """Show the supervision notes of a session to its room's moderators and supervisors;
    supervisors add notes here. Anyone else gets 403, whether the session exists or not."""
    user: User = request.user  # type: ignore[assignment]
    supervisor = user.has_perm(REVIEW_PERMISSION)
    session = Session.objects.select_related("room").filter(pk=session_id).first()
    if not supervisor and (session is None or not moderates_room(user.pk, session.room_id)):
        raise PermissionDenied
    if session is None:
        raise Http404("No such session")
    if request.method == "POST":
        if not supervisor:
            raise PermissionDenied
        form = SupervisionNoteForm(request.POST)
        if form.is_valid():
            do_add_supervision_note(session, user, form.cleaned_data["text"])
            messages.success(request, _("Note added."))
        else:
            messages.error(request, _("A note needs some text (at most 5000 characters)."))
        return redirect(reverse("review:session", args=[session.pk]) + "#notes")
    notes = SupervisionNote.objects.filter(session=session).select_related("author")
    return render(
        request,
        "review/notes.html",
        {"session": session, "notes": notes, "supervisor": supervisor},
    )


@review_required
@require_GET
def statistics(request: HttpRequest) -> HttpResponse:
    """Show flags per week, time to acknowledge, false alarms per rule, held messages."""
    form = StatsRangeForm(request.GET or None)
    date_from, date_to = form.date_range()
    weekly = stats.weekly_flags(date_from, date_to)
    ack = stats.ack_times(date_from, date_to)
    rules = stats.false_alarm_rates(date_from, date_to)
    held = stats.held_outcomes(date_from, date_to)
    week_label = "{:%Y-%m-%d}".format
    charts = {
        "tiers": bar_chart(
            _("Flags per week by tier"),
            [(week_label(week), values) for week, values in weekly.tier_rows()],
            series=stats.TIERS,
            chart_id="chart-tiers",
        ),
        "categories": bar_chart(
            _("Flags by category, whole range"),
            [(category, [n]) for category, n in weekly.category_totals()],
            chart_id="chart-categories",
        ),
        "rules": bar_chart(
            _("False-alarm rate per rule"),
            [(r.rule, [r.percent]) for r in rules],
            chart_id="chart-rules",
            unit="%",
        ),
        "held": bar_chart(
            _("Held messages: released and hidden"),
            [(_("released"), [held.released]), (_("hidden"), [held.hidden])],
            chart_id="chart-held",
        ),
    }

    def duration(seconds: float | None) -> str:
        return "" if seconds is None else format_duration(timedelta(seconds=seconds))

    return render(
        request,
        "review/stats.html",
        {
            "section": "stats",
            "form": form,
            "date_from": date_from,
            "date_to": date_to,
            "tiers": stats.TIERS,
            "weekly": weekly,
            "ack": [(a, duration(a.median), duration(a.p90)) for a in ack],
            "rules": rules,
            "held": held,
            "charts": charts,
        },
    )


@review_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    """List every moderation action, newest first, filtered and paginated."""
    form = AuditFilterForm(request.GET or None)
    page = Paginator(form.filters().actions(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "review/audit.html", {"section": "audit", "form": form, "page": page})


@review_required
@require_http_methods(["GET", "POST"])
def export(request: HttpRequest) -> HttpResponse:
    """Offer the export form (GET); send the file and log the export (POST)."""
    if request.method == "POST":
        form = ExportForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            export_request = ExportRequest(
                dataset=data["dataset"],
                format=data["format"],
                date_from=data["date_from"],
                date_to=data["date_to"],
                include_text=data["include_text"],
            )
            pieces = start_export(export_request, int(request.user.pk))  # type: ignore[arg-type]
            content_type = "text/csv" if export_request.format == "csv" else "application/json"
            response = StreamingHttpResponse(pieces, content_type=f"{content_type}; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{export_request.filename()}"'
            return response
    else:
        today = timezone.localdate()
        form = ExportForm(initial={"date_from": today - timedelta(days=30), "date_to": today})
    return render(request, "review/export.html", {"section": "export", "form": form})
