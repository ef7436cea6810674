"""Create bench users, rooms and logged-in sessions straight through the Django ORM.

Bench-only: no management command, no login form, no password hashing. It writes to the
database named by ``DATABASE_URL`` (the same one the daphne under test uses) and prints
nothing but a summary; the logins go to a JSON file that ``bench/load.py`` and
``bench/idle.py`` read:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/setup_users.py --users 200 --rooms 10 --out bench/out/users.json

Users ``<prefix>-u00000``… are spread round-robin over rooms ``<prefix>-r0000``… (user
``i`` is a peer of room ``i % rooms``) with the room's norms already accepted, and each
gets a fresh Django session (``SessionStore`` encoding, so the server must share this
checkout's ``SECRET_KEY``: the default ``var/secret_key`` or ``SECRET_KEY`` in both
environments). It is idempotent: run it again to add users or rooms and get new
sessions; it deletes only the sanctions (mutes) earlier runs left on bench users.
``--moderators`` also makes one moderator per room.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
BACKEND = "django.contrib.auth.backends.ModelBackend"


def setup_django(settings_module: str = "server.settings") -> None:
    """Point Django at the project settings (DATABASE_URL from the environment)."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django

    django.setup()


def _session_rows(users: list[Any]) -> tuple[list[Any], dict[int, str]]:
    """Build one logged-in Session row per user (not saved); return rows and keys by user."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    store = SessionStore()
    expires = timezone.now() + timedelta(days=2)
    rows, keys = [], {}
    for user in users:
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {
            "_auth_user_id": str(user.pk),
            "_auth_user_backend": BACKEND,
            "_auth_user_hash": user.get_session_auth_hash(),
        }
        rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expires))
        keys[user.pk] = key
    return rows, keys


def setup(users: int, rooms: int, *, prefix: str = "bench", moderators: bool = False) -> dict:
    """Make (or reuse) the users, rooms and memberships; return the logins document."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.models import Session
    from django.db import transaction

    from accounts.models import User
    from accounts.names import name_key
    from accounts.roles import moderator_group
    from chat.models import Membership, Room
    from moderation.models import Sanction

    if users < 1 or rooms < 1:
        raise ValueError("need at least one user and one room")
    with transaction.atomic():
        room_objs = []
        for j in range(rooms):
            room, _ = Room.objects.get_or_create(
                slug=f"{prefix}-r{j:04d}",
                defaults={
                    "name": f"Bench room {j}",
                    "norms_text": "Be kind.",
                    "norms_version": 1,
                    "capacity": 10_000,
                },
            )
            room_objs.append(room)

        wanted = [f"{prefix}-u{i:05d}" for i in range(users)]
        if moderators:
            wanted += [f"{prefix}-m{j:04d}" for j in range(rooms)]
        existing = {u.username: u for u in User.objects.filter(username__in=wanted)}
        unusable = make_password(None)  # nobody logs in with a password
        new = []
        for username in wanted:
            if username not in existing:
                name = username.replace("-", " ").title()
                new.append(
                    User(
                        username=username,
                        display_name=name,
                        display_key=name_key(name),
                        password=unusable,
                    )
                )
        User.objects.bulk_create(new, batch_size=1000)
        by_name = {u.username: u for u in User.objects.filter(username__in=wanted)}

        memberships = []
        for i in range(users):
            room = room_objs[i % rooms]
            user = by_name[f"{prefix}-u{i:05d}"]
            memberships.append((room, user, Membership.Role.PEER))
        if moderators:
            group = moderator_group()
            for j, room in enumerate(room_objs):
                user = by_name[f"{prefix}-m{j:04d}"]
                user.groups.add(group)
                memberships.append((room, user, Membership.Role.MODERATOR))
        Membership.objects.bulk_create(
            [
                Membership(room=r, user=u, role=role, norms_version_accepted=r.norms_version)
                for r, u, role in memberships
            ],
            batch_size=1000,
            ignore_conflicts=True,
        )
        # Memberships made by an earlier run keep their role; make sure norms are accepted.
        for room in room_objs:
            Membership.objects.filter(room=room, user__username__startswith=f"{prefix}-").update(
                norms_version_accepted=room.norms_version
            )

        # Earlier runs may have left mutes (the norms ladder) that would refuse sends.
        Sanction.objects.filter(user__username__startswith=f"{prefix}-").delete()

        people = [by_name[name] for name in wanted]
        rows, keys = _session_rows(people)
        Session.objects.bulk_create(rows, batch_size=1000)

    clients = [
        {
            "user_id": user.pk,
            "username": user.username,
            "session": keys[user.pk],
            "room": room.slug,
            "role": role,
        }
        for room, user, role in memberships
    ]
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "prefix": prefix,
        "rooms": [room.slug for room in room_objs],
        "clients": clients,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--prefix", default="bench", help="username and room slug prefix")
    parser.add_argument("--moderators", action="store_true", help="one moderator per room")
    parser.add_argument("--out", default=str(REPO_ROOT / "bench" / "out" / "users.json"))
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL"):
        parser.error("set DATABASE_URL to the database the daphne under test uses")
    setup_django()
    started = time.monotonic()
    doc = setup(args.users, args.rooms, prefix=args.prefix, moderators=args.moderators)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc))
    print(
        f"{len(doc['clients'])} logins over {len(doc['rooms'])} rooms written to {out} "
        f"in {time.monotonic() - started:.1f}s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
