"""What supervisors do on the review pages: decide on flags and write notes.

Callers check the review permission first; these functions assume it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum

from django.db import transaction

from accounts.models import User
from chat import events
from chat.models import Session
from chat.protocol import Author, FlagFrame
from moderation.alerts import ONCALL_GROUP, flag_info, publish_flag_status
from moderation.flags import do_escalate_flag, do_resolve_flag
from moderation.models import Flag, SupervisionNote

logger = logging.getLogger(__name__)


class Decision(StrEnum):
    """What a supervisor may decide about a flag (its whole alert, in fact)."""

    RESOLVE = "resolve"
    DISMISS = "dismiss"
    ESCALATE = "escalate"


def do_decide_flag(flag: Flag, actor: User, decision: Decision, note: str) -> bool:
    """Resolve, dismiss (false alarm) or escalate the flag's alert; False if nothing changed.

    moderation.flags writes the one audit row of each change. After commit, moderator
    consoles learn the new status; an escalated alert goes to the on-call supervisors.
    """
    if decision is Decision.ESCALATE:
        changed = do_escalate_flag(flag, actor.pk, reason=note)
        if changed:
            head = Flag.objects.get(pk=flag.alert_id or flag.pk)
            _after_commit(lambda: events.publish(ONCALL_GROUP, FlagFrame(flag=flag_info(head))))
        return changed
    outcome = Flag.Status.RESOLVED if decision is Decision.RESOLVE else Flag.Status.DISMISSED
    changed = do_resolve_flag(flag, actor.pk, outcome, note) > 0
    if changed:
        by = Author(id=actor.pk, name=actor.display_name)
        _after_commit(lambda: publish_flag_status(flag, by))
    return changed


def _after_commit(send: Callable[[], None]) -> None:
    """Tell live consoles after commit; the database row is the truth, so a channel layer
    that is down costs only the live update (consoles catch up when they reconnect)."""

    def send_or_log() -> None:
        try:
            send()
        except Exception:
            logger.exception("could not publish a review decision to live consoles")

    transaction.on_commit(send_or_log)


def do_add_supervision_note(session: Session, author: User, text: str) -> SupervisionNote:
    """Add a supervision note to the session."""
    return SupervisionNote.objects.create(session=session, author=author, text=text)
