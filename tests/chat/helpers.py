"""Helpers for consumer tests: connect a user to a room, wait for frames."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from chat.routing import websocket_urlpatterns

APP = URLRouter(websocket_urlpatterns)


class Client:
    """A test client on one socket, with the frames it received kept in order."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator
        self.frames: list[dict[str, Any]] = []

    async def send(self, frame: dict[str, Any] | str) -> None:
        text = frame if isinstance(frame, str) else json.dumps(frame)
        await self.communicator.send_to(text_data=text)

    async def say(self, body: str, client_id: str | None = None) -> dict[str, Any]:
        """Send a message and return the ack or error frame that answers it."""
        client_id = client_id or str(uuid.uuid4())
        await self.send({"type": "message.send", "client_id": client_id, "body": body})
        return await self.next_of("ack", "error")

    async def receive(self, timeout: float = 3) -> dict[str, Any]:
        output = await self.communicator.receive_output(timeout)
        if output["type"] == "websocket.close":
            frame = {"type": "__closed__", "code": output.get("code")}
        else:
            frame = json.loads(output["text"])
        self.frames.append(frame)
        return frame

    async def next_of(self, *types: str, timeout: float = 3) -> dict[str, Any]:
        """Return the next frame of one of the types, skipping others."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"no {types} frame within {timeout}s; got {self.frames[-5:]}")
            frame = await self.receive(left)
            if frame["type"] in types:
                return frame

    async def delivered(self, seq: int, timeout: float = 3) -> None:
        """Wait until this socket has had the live ``message`` frame with ``seq``.

        A writer's own message comes back live: once it has, the broadcast is out, and
        a socket that connects later will not get it live as well as in its ``hello``
        or ``resume`` (which a client may, and sorts out by ``seq``).
        """
        while not any(f["type"] == "message" and f.get("seq") == seq for f in self.frames):
            await self.next_of("message", timeout=timeout)

    async def nothing_more(self, timeout: float = 0.2) -> bool:
        return await self.communicator.receive_nothing(timeout)

    async def close(self) -> None:
        await self.communicator.disconnect()


async def connect(
    user: Any, slug: str, *, expect_hello: bool = True, session: Any = None
) -> tuple[Client, dict[str, Any]]:
    """Open a socket for a user (in a login ``session``); return the client and its first frame."""
    client, first = await open_socket(user, f"/ws/rooms/{slug}/", session=session)
    if expect_hello:
        assert first["type"] == "hello", first
    return client, first


async def open_socket(
    user: Any, path: str, *, session: Any = None
) -> tuple[Client, dict[str, Any]]:
    """Open a socket at ``path`` as ``user``; return the client and its first frame."""
    communicator = WebsocketCommunicator(APP, path)
    communicator.scope["user"] = user
    if session is not None:
        communicator.scope["session"] = session
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    client = Client(communicator)
    return client, await client.receive()
