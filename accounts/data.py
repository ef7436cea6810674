"""A member's rights over their data: a copy of it, and deleting their account."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from chat.models import Membership, Message
from moderation.audit import record_action
from moderation.models import Flag, Sanction

ANONYMISE = "anonymise"
DELETE = "delete"


def member_data(user: User) -> dict[str, Any]:
    """Return everything peerchat keeps that the member gave it: profile, memberships,
    messages (in every status), the reports they made and sanctions on them."""
    memberships = Membership.objects.filter(user=user).select_related("room").order_by("joined")
    messages = Message.objects.filter(author=user).select_related("room").order_by("created", "pk")
    reports = Flag.objects.filter(reporter=user).select_related("room").order_by("created", "pk")
    sanctions = Sanction.objects.filter(user=user).select_related("room").order_by("created")
    return {
        "generated": timezone.now(),
        "profile": {
            "login_name": user.username,
            "display_name": user.display_name,
            "language": user.language,
            "country": user.country,
            "email": user.email,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "blur_flagged": user.blur_flagged,
        },
        "memberships": [
            {
                "room": m.room.slug,
                "role": m.role,
                "joined": m.joined,
                "norms_version_accepted": m.norms_version_accepted,
            }
            for m in memberships
        ],
        "messages": [
            {
                "id": m.pk,
                "room": m.room.slug,
                "session_id": m.session_id,
                "created": m.created,
                "status": m.status,
                "body": m.body,
            }
            for m in messages.iterator(chunk_size=1000)
        ],
        "reports": [
            {
                "room": f.room.slug,
                "message_id": f.message_id,
                "created": f.created,
                "reason": f.report_reason,
                "status": f.status,
            }
            for f in reports
        ],
        "sanctions": [
            {
                "room": s.room.slug,
                "kind": s.kind,
                "reason": s.reason,
                "created": s.created,
                "until": s.until,
                "lifted_at": s.lifted_at,
            }
            for s in sanctions
        ],
    }


def deleted_member_messages() -> str:
    """Return what happens to a deleted member's messages: ANONYMISE or DELETE."""
    mode = settings.PEERCHAT["DELETED_MEMBER_MESSAGES"]
    if mode not in (ANONYMISE, DELETE):
        raise ImproperlyConfigured(
            f'PEERCHAT["DELETED_MEMBER_MESSAGES"] must be "{ANONYMISE}" or "{DELETE}", '
            f"not {mode!r}."
        )
    return str(mode)


def do_delete_account(user: User) -> int:
    """Delete the account; return how many of its messages were deleted.

    Depending on PEERCHAT["DELETED_MEMBER_MESSAGES"], the member's messages stay with no
    author ("former member") or are deleted, and in "delete" mode their report reasons
    are cleared too. Flags about them or by them stay for review without the name (the
    foreign keys are SET_NULL); memberships and sanctions go with the account.
    """
    mode = deleted_member_messages()
    with transaction.atomic():
        deleted = 0
        if mode == DELETE:
            Flag.objects.filter(reporter=user).update(report_reason="")
            deleted = Message.objects.filter(author=user).delete()[1].get("chat.Message", 0)
        user.delete()
        # The audit log says an account went, not whose (its id would link rows again).
        record_action(
            "account.delete",
            actor_id=None,
            details={"messages": mode, "messages_deleted": deleted},
        )
    return deleted
