"""Small helpers that make users, rooms and memberships for tests."""

from __future__ import annotations

from accounts.models import User
from accounts.roles import supervisor_group
from chat.models import Membership, Room


def make_room(slug: str = "circle", **fields: object) -> Room:
    defaults: dict[str, object] = {
        "name": slug.title(),
        "norms_text": "Be kind.",
        "norms_version": 1,
    }
    defaults.update(fields)
    return Room.objects.create(slug=slug, **defaults)


def make_user(username: str, *, password: str = "pw-for-tests-1", **fields: object) -> User:
    user = User(username=username, display_name=fields.pop("display_name", username), **fields)
    user.set_password(password)
    user.save()
    return user


def make_member(
    room: Room, username: str, *, role: str = Membership.Role.PEER, accepted: bool = True
) -> User:
    user = make_user(username)
    Membership.objects.create(
        room=room,
        user=user,
        role=role,
        norms_version_accepted=room.norms_version if accepted else 0,
    )
    return user


def make_supervisor(username: str = "super") -> User:
    user = make_user(username)
    user.groups.add(supervisor_group())
    return user
