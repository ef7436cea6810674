"""peerchat's ASGI app with what-if patches applied at import; bench-only, never deployed.

``BENCH_SKIP_CLOSE=1``: ``RoomConsumer.dispatch`` relays ``chat.frame`` events without
Channels' ``aclose_old_connections()`` (a hop through the one thread that runs all
``database_sync_to_async`` work) -- the change proposed for chat/consumers.py, measured
here without touching it.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.variant_settings")

from channels.generic.websocket import AsyncWebsocketConsumer

from server.asgi import application

if os.environ.get("BENCH_SKIP_CLOSE") == "1":
    from chat.consumers import RoomConsumer

    async def dispatch(self, message):  # type: ignore[no-untyped-def]
        if message["type"] == "chat.frame":
            await self.send(text_data=message["text"])
            return
        await AsyncWebsocketConsumer.dispatch(self, message)

    RoomConsumer.dispatch = dispatch  # type: ignore[method-assign]

__all__ = ["application"]
