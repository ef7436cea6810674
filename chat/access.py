"""Close the sockets of people whose access changed, so nobody keeps reading a room
they no longer belong to (docs/protocol.md, "Close codes").

A socket's access (room, role, supervisor or not) is checked when it opens. When it
changes, the open sockets are closed after the change commits:

* membership removed, account deactivated or deleted: 4403, no access;
* role in a room changed, supervisor permission granted or taken, password changed:
  4002, the client reconnects and gets the new role (a login the new password ended is
  refused then);
* logged out: 4403 for the sockets of that login session only.

The events go to the groups the sockets are in anyway (``user.<id>``, and
``oncall.user.<id>`` for on-call sockets); each socket checks the room and login named.
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


def login_of(scope_or_request: Any) -> str | None:
    """Name the login session of a socket's scope or a request, without its key (a hash:
    session keys stay out of Redis and the layer's events)."""
    session = (
        scope_or_request.get("session")
        if isinstance(scope_or_request, dict)
        else getattr(scope_or_request, "session", None)
    )
    key = getattr(session, "session_key", None)
    return hashlib.sha256(key.encode()).hexdigest()[:24] if key else None


def close_sockets(
    user_id: int, *, code: int, room_id: int | None = None, login: str | None = None
) -> None:
    """After commit, close the user's sockets: those in ``room_id`` only if given (room
    sockets), else every one, on-call included; those of one ``login`` only if given."""
    event = {"type": "chat.close", "room_id": room_id, "code": code, "login": login}
    groups = [events.user_group(user_id)]
    if room_id is None:
        groups.append(events.oncall_user_group(user_id))

    def send() -> None:
        for group in groups:
            events.send_event(group, event)

    # robust: a channel layer that is down must not fail the admin change that committed.
    transaction.on_commit(send, robust=True)


def closes_this_socket(event: dict[str, Any], room_id: int | None, login: str | None) -> bool:
    """Return True when a ``chat.close`` event is for the socket in ``room_id`` (None for
    an on-call socket) of ``login``."""
    for_room = event.get("room_id")
    for_login = event.get("login")
    return (for_room is None or for_room == room_id) and (for_login is None or for_login == login)


def _remember(instance: Any, fields: tuple[str, ...], update_fields: Any) -> None:
    """Keep the stored values of ``fields`` on the instance being saved, for post_save
    (one query, and none when the save cannot change them)."""
    wanted = [f for f in fields if update_fields is None or f in update_fields]
    if instance.pk is None or not wanted:
        return
    rows = type(instance)._default_manager.filter(pk=instance.pk)
    stored = rows.values(*wanted).first() or {}
    for field, value in stored.items():
        instance.__dict__[f"_stored_{field}"] = value


@receiver(pre_save, sender=Membership)
def _remember_role(sender: type[Membership], instance: Membership, **kwargs: Any) -> None:
    _remember(instance, ("role",), kwargs.get("update_fields"))


@receiver(post_save, sender=Membership)
def _role_changed(
    sender: type[Membership], instance: Membership, created: bool, **kwargs: Any
) -> None:
    before = instance.__dict__.pop("_stored_role", None)
    if not created and before is not None and before != instance.role:
        close_sockets(instance.user_id, code=CLOSE_ACCESS_CHANGED, room_id=instance.room_id)


@receiver(post_delete, sender=Membership)
def _membership_removed(sender: type[Membership], instance: Membership, **kwargs: Any) -> None:
    close_sockets(instance.user_id, code=CLOSE_NO_ACCESS, room_id=instance.room_id)


@receiver(pre_save, sender=User)
def _remember_active(sender: type[User], instance: User, **kwargs: Any) -> None:
    _remember(instance, ("is_active", "password"), kwargs.get("update_fields"))


@receiver(post_save, sender=User)
def _deactivated(sender: type[User], instance: User, created: bool, **kwargs: Any) -> None:
    was_active = instance.__dict__.pop("_stored_is_active", False)
    old_password = instance.__dict__.pop("_stored_password", None)
    if created:
        return
    if was_active and not instance.is_active:
        close_sockets(instance.pk, code=CLOSE_NO_ACCESS)
    elif old_password is not None and old_password != instance.password:
        # A new password ends every other login (Django checks the session's password
        # hash): sockets reconnect, and those of stale logins are refused.
        close_sockets(instance.pk, code=CLOSE_ACCESS_CHANGED)


@receiver(post_delete, sender=User)
def _deleted(sender: type[User], instance: User, **kwargs: Any) -> None:
    close_sockets(instance.pk, code=CLOSE_NO_ACCESS)


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
        close_sockets(user_id, code=CLOSE_ACCESS_CHANGED)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    login = login_of(request)
    if user is not None and login:
        close_sockets(user.pk, code=CLOSE_NO_ACCESS, login=login)
