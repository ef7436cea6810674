"""Publish server frames to channel-layer groups. Only actions call these.

Sync code publishes after commit (``transaction.on_commit``). When it runs through
``run_db`` (the websocket consumers), the frames wait in an outbox and the event loop
sends them once the database call returned, crisis alerts first; the database thread
never waits on Redis. Elsewhere (HTTP views, commands) ``publish`` sends at once.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any, TypeVar

from asgiref.sync import async_to_sync
from channels.db import DatabaseSyncToAsync
from channels.layers import get_channel_layer
from django import db
from django.conf import settings

from chat.protocol import FlagFrame, ServerFrame

T = TypeVar("T")
Outbox = list[tuple[bool, str, dict[str, Any]]]

_outbox: ContextVar[Outbox | None] = ContextVar("peerchat_outbox", default=None)
_executors: dict[str, ThreadPoolExecutor] = {}


def room_group(room_id: int) -> str:
    return f"room.{room_id}"


def moderators_group(room_id: int) -> str:
    return f"room.{room_id}.mod"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def oncall_user_group(user_id: int) -> str:
    """One supervisor's on-call sockets (their room sockets are in ``user_group``)."""
    return f"oncall.user.{user_id}"


def frame_event(frame: ServerFrame) -> dict[str, str]:
    """Wrap a frame, encoded once, as a layer event every receiving socket relays as is."""
    return {"type": "chat.frame", "text": frame.to_text()}


async def apublish(group: str, frame: ServerFrame) -> None:
    """Send a frame to every socket in a group (from async code)."""
    await asend_event(group, frame_event(frame))


async def asend_event(group: str, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    assert layer is not None
    await layer.group_send(group, event)


def publish(group: str, frame: ServerFrame) -> None:
    """Send a frame to every socket in a group (from sync code; call it after commit)."""
    send_event(group, frame_event(frame), urgent=isinstance(frame, FlagFrame))


def send_event(group: str, event: dict[str, Any], *, urgent: bool = False) -> None:
    """Send a layer event to a group from sync code (after commit). Inside ``run_db`` it
    waits in the outbox for the event loop; urgent events (alerts) go out first."""
    outbox = _outbox.get()
    if outbox is not None:
        outbox.append((urgent, group, event))
    else:
        async_to_sync(asend_event)(group, event)


async def asend_outbox(outbox: Outbox) -> None:
    """Send queued events in order, urgent ones first."""
    for _urgent, group, event in sorted(outbox, key=lambda item: not item[0]):
        await asend_event(group, event)


def _database_executor(urgent: bool) -> ThreadPoolExecutor:
    """The process's threads for websocket database work: PEERCHAT["DB_THREADS"] for
    everything, and a lane of their own for crisis messages, which never queue behind
    ordinary sends."""
    key = "urgent" if urgent else "default"
    executor = _executors.get(key)
    if executor is None:
        workers = int(settings.PEERCHAT["URGENT_DB_THREADS" if urgent else "DB_THREADS"])
        executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"peerchat-{key}")
        _executors[key] = executor
    return executor


def close_database_threads() -> None:
    """Close every database thread's connection and stop the threads.

    Each thread keeps its connection between tasks (like a request thread with
    ``CONN_MAX_AGE``). A task that closes it is given to every thread at once: each
    waits at a barrier until all have one, so no thread takes two. For the end of a
    test session (the test database cannot be dropped while connections use it).
    """
    for executor in list(_executors.values()):
        workers = executor._max_workers
        barrier = threading.Barrier(workers)
        tasks = [executor.submit(_close_connections, barrier) for _ in range(workers)]
        for task in tasks:
            task.result()
        executor.shutdown(wait=True)
    _executors.clear()


def _close_connections(barrier: threading.Barrier) -> None:
    barrier.wait(timeout=30)
    db.connections.close_all()


def _collecting(func: Callable[..., T]) -> Callable[..., tuple[T | None, Outbox, Exception | None]]:
    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> tuple[T | None, Outbox, Exception | None]:
        outbox: Outbox = []
        token = _outbox.set(outbox)
        try:
            return func(*args, **kwargs), outbox, None
        except Exception as error:  # re-raised on the event loop, after the frames go out
            return None, outbox, error
        finally:
            _outbox.reset(token)

    return run


async def run_db(func: Callable[..., T], *args: Any, urgent: bool = False, **kwargs: Any) -> T:
    """Run sync database code on one of the process's database threads (the urgent lane
    for crisis messages), then publish the frames it committed (also when it raised
    after committing some)."""
    call = DatabaseSyncToAsync(
        _collecting(func), thread_sensitive=False, executor=_database_executor(urgent)
    )
    result, outbox, error = await call(*args, **kwargs)
    await asend_outbox(outbox)
    if error is not None:
        raise error
    return result  # type: ignore[return-value]
