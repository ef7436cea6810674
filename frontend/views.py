from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from chat.actions import RoomAccessError, access_room
from chat.models import Room


@login_required
def room_list(request: HttpRequest) -> HttpResponse:
    """List the rooms the member belongs to, with whether a session is live."""
    rooms = (
        Room.objects.filter(memberships__user=request.user)
        .annotate(live=Count("sessions", filter=Q(sessions__closed_at__isnull=True)))
        .order_by("name")
    )
    return render(request, "frontend/rooms.html", {"rooms": rooms})


@login_required
def room(request: HttpRequest, slug: str) -> HttpResponse:
    """Serve the room page; the socket does the rest."""
    try:
        access = access_room(request.user, slug)  # type: ignore[arg-type]
    except RoomAccessError:
        raise Http404("No such room") from None
    room = Room.objects.get(pk=access.room_id)
    return render(request, "frontend/room.html", {"room": room, "access": access})
