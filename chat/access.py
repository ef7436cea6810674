"""Close the sockets of people whose access changed, so nobody keeps reading a room
they no longer belong to (docs/protocol.md, "Close codes").

A socket's access (room, role, supervisor or not) is checked when it opens. When it
changes, the open sockets are closed after the change commits:

* membership removed, account deactivated or deleted: 4403, no access;
* role in a room changed, supervisor permission granted or taken, password changed:
  4002, the client reconnects and gets the new role (a login the new password ended is
  refused then);
* logged out: 4403 for the sockets of that login session only.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from accounts.models import User
from chat import events
from chat.models import Membership

CLOSE_NO_ACCESS = 4403
CLOSE_ACCESS_CHANGED = 4002


def session_group(session_key: str) -> str:
    """The group of one login session's sockets (a hash: session keys stay out of Redis)."""
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:24]


def close_sockets(group: str, *, code: int, room_id: int | None = None) -> None:
    """After commit, close the sockets in ``group`` (only those in ``room_id`` if given)."""
    event = {"type": "chat.close", "room_id": room_id, "code": code}
    # robust: a channel layer that is down must not fail the admin change that committed.
    transaction.on_commit(lambda: events.send_event(group, event), robust=True)


def _remember(instance: Any, field: str, update_fields: Any) -> None:
    """Keep the stored value of ``field`` on the instance being saved, for post_save."""
    if instance.pk is not None and (update_fields is None or field in update_fields):
        rows = type(instance)._default_manager.filter(pk=instance.pk)
        instance.__dict__[f"_stored_{field}"] = rows.values_list(field, flat=True).first()


@receiver(pre_save, sender=Membership)
def _remember_role(sender: type[Membership], instance: Membership, **kwargs: Any) -> None:
    _remember(instance, "role", kwargs.get("update_fields"))


@receiver(post_save, sender=Membership)
def _role_changed(
    sender: type[Membership], instance: Membership, created: bool, **kwargs: Any
) -> None:
    before = instance.__dict__.pop("_stored_role", None)
    if not created and before is not None and before != instance.role:
        close_sockets(
            events.account_group(instance.user_id),
            code=CLOSE_ACCESS_CHANGED,
            room_id=instance.room_id,
        )


@receiver(post_delete, sender=Membership)
def _membership_removed(sender: type[Membership], instance: Membership, **kwargs: Any) -> None:
    close_sockets(
        events.account_group(instance.user_id), code=CLOSE_NO_ACCESS, room_id=instance.room_id
    )


@receiver(pre_save, sender=User)
def _remember_active(sender: type[User], instance: User, **kwargs: Any) -> None:
    _remember(instance, "is_active", kwargs.get("update_fields"))
    _remember(instance, "password", kwargs.get("update_fields"))


@receiver(post_save, sender=User)
def _deactivated(sender: type[User], instance: User, created: bool, **kwargs: Any) -> None:
    was_active = instance.__dict__.pop("_stored_is_active", False)
    old_password = instance.__dict__.pop("_stored_password", None)
    if created:
        return
    if was_active and not instance.is_active:
        close_sockets(events.account_group(instance.pk), code=CLOSE_NO_ACCESS)
    elif old_password is not None and old_password != instance.password:
        # A new password ends every other login (Django checks the session's password
        # hash): sockets reconnect, and those of stale logins are refused.
        close_sockets(events.account_group(instance.pk), code=CLOSE_ACCESS_CHANGED)


@receiver(post_delete, sender=User)
def _deleted(sender: type[User], instance: User, **kwargs: Any) -> None:
    close_sockets(events.account_group(instance.pk), code=CLOSE_NO_ACCESS)


@receiver(m2m_changed, sender=User.groups.through)
def _groups_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any
) -> None:
    # Supervisors are a group (accounts.roles): joining or leaving it changes every room.
    if action in ("post_add", "post_remove"):
        user_ids = list(pk_set or ()) if reverse else [instance.pk]
    elif action == "pre_clear":
        user_ids = (
            list(instance.user_set.values_list("pk", flat=True)) if reverse else [instance.pk]
        )
    else:
        return
    for user_id in user_ids:
        close_sockets(events.account_group(user_id), code=CLOSE_ACCESS_CHANGED)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    if key:
        close_sockets(session_group(key), code=CLOSE_NO_ACCESS)
