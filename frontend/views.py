"""Pages of the web client. The websocket does the live work; these render the shells."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from django.views.i18n import JavaScriptCatalog

from chat.actions import RoomAccess, RoomAccessError, access_room
from chat.models import Membership, Room
from moderation.resources import crisis_resources


@login_required
def room_list(request: HttpRequest) -> HttpResponse:
    """List the rooms the member belongs to, with whether a session is live."""
    rooms = (
        Room.objects.filter(memberships__user=request.user)
        .annotate(live=Count("sessions", filter=Q(sessions__closed_at__isnull=True)))
        .order_by("name")
    )
    moderated = set(
        Membership.objects.filter(user=request.user, role=Membership.Role.MODERATOR).values_list(
            "room__slug", flat=True
        )
    )
    return render(request, "frontend/rooms.html", {"rooms": rooms, "moderated": moderated})


def get_room_access(
    request: HttpRequest, slug: str, *, moderators_only: bool = False
) -> RoomAccess:
    """Return the member's access to the room, or 404 (missing and forbidden look alike)."""
    try:
        access = access_room(request.user, slug)  # type: ignore[arg-type]
    except RoomAccessError:
        raise Http404("No such room") from None
    if moderators_only and not access.moderates:
        raise Http404("No such room")
    return access


def help_lines(country: str, language: str) -> list[dict[str, str]]:
    """Return the crisis lines to offer before any `support` frame: the member's country
    and language first, then those valid everywhere; 112 after the lines to talk to."""
    return [
        {
            "name": line.name,
            "kind": line.kind,
            "phone": line.phone or "",
            "tel": re.sub(r"[^0-9+]", "", line.phone or ""),
            "hours": line.hours or "",
            "url": line.url if (line.url or "").startswith(("https://", "http://")) else "",
        }
        for line in crisis_resources(country, language, tier="high")
    ]


def room_context(request: HttpRequest, access: RoomAccess, **extra: Any) -> dict[str, Any]:
    room = Room.objects.get(pk=access.room_id)
    user = request.user
    country = getattr(user, "country", "") or room.country
    language = getattr(user, "language", "") or translation.get_language() or room.language
    return {
        "room": room,
        "access": access,
        "blur_flagged": bool(getattr(user, "blur_flagged", False)),
        "help_lines": help_lines(country, language.split("-")[0]),
        **extra,
    }


@login_required
def room(request: HttpRequest, slug: str) -> HttpResponse:
    """Serve the room page; the socket does the rest."""
    access = get_room_access(request, slug)
    return render(request, "frontend/room.html", room_context(request, access))


@login_required
def console(request: HttpRequest, slug: str) -> HttpResponse:
    """Serve the room with the moderator console (moderators and supervisors only)."""
    access = get_room_access(request, slug, moderators_only=True)
    return render(request, "frontend/console.html", room_context(request, access, console=True))


@login_required
def projector(request: HttpRequest, slug: str) -> HttpResponse:
    """Serve the read-only, large-text view for a screen in a physical room."""
    access = get_room_access(request, slug, moderators_only=True)
    room = Room.objects.get(pk=access.room_id)
    return render(request, "frontend/projector.html", {"room": room, "access": access})


_catalog = JavaScriptCatalog.as_view(packages=["frontend"])


@require_GET
@cache_control(public=True, max_age=3600)
def javascript_catalog(request: HttpRequest, lang: str) -> HttpResponse:
    """Serve the client strings of one language as a script; the language is in the URL,
    so browsers and proxies can cache each one."""
    if not translation.check_for_language(lang):
        raise Http404("No such language")
    with translation.override(lang):
        response = _catalog(request)
    response["Content-Language"] = lang
    return response
