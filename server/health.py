"""GET /healthz: is the database reachable, is the channel layer reachable."""

import asyncio
import logging

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("health: database check failed", exc_info=True)
        return False
    finally:
        connection.close()


async def _layer_ok() -> bool:
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        # A send to a group nobody joins: a Redis round trip, and nothing left behind
        # (the pub/sub layer never forgets a channel it made for a reply).
        await asyncio.wait_for(layer.group_send("health", {"type": "health.ping"}), 2)
        return True
    except Exception:
        logger.warning("health: channel layer check failed", exc_info=True)
        return False


async def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database and the channel layer work, 503 otherwise."""
    database = await sync_to_async(_database_ok, thread_sensitive=False)()
    layer = await _layer_ok()
    status = 200 if database and layer else 503
    return JsonResponse(
        {
            "status": "ok" if status == 200 else "unavailable",
            "database": "ok" if database else "down",
            "channel_layer": "ok" if layer else "down",
        },
        status=status,
    )
