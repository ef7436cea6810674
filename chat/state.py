"""Live room state shared by every daphne process: presence, raised hands, send rates.

With ``REDIS_URL`` set the state lives in Redis, so several processes see one room;
without it, in this process's memory (the embedded single-process default).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Protocol

from django.conf import settings

# A connection that has not refreshed its presence entry for this long is gone
# (its process died without saying so).
PRESENCE_TTL = 90.0


@dataclass(frozen=True)
class PresenceEntry:
    user_id: int
    name: str
    role: str
    state: str = "here"  # here | break
    until: float | None = None  # end of a break, unix time
    expires: float = 0.0


class RoomState(Protocol):
    async def join(self, room_id: int, channel: str, entry: PresenceEntry) -> None: ...
    async def leave(self, room_id: int, channel: str) -> None: ...
    async def entries(self, room_id: int) -> dict[str, PresenceEntry]: ...
    async def raise_hand(self, room_id: int, user_id: int) -> None: ...
    async def lower_hand(self, room_id: int, user_id: int) -> None: ...
    async def hands(self, room_id: int) -> list[int]: ...
    async def clear_hands(self, room_id: int) -> None: ...
    async def take_token(self, key: str, rate: float, burst: int) -> float: ...


def _bucket(
    tokens: float, stamp: float, now: float, rate: float, burst: int
) -> tuple[float, float]:
    """Refill a token bucket; return (tokens after taking one or not, wait seconds)."""
    tokens = min(float(burst), tokens + (now - stamp) * rate)
    if tokens >= 1.0:
        return tokens - 1.0, 0.0
    return tokens, (1.0 - tokens) / rate


class MemoryRoomState:
    """Room state in this process (one daphne process only)."""

    def __init__(self) -> None:
        self._presence: dict[int, dict[str, PresenceEntry]] = defaultdict(dict)
        self._hands: dict[int, dict[int, float]] = defaultdict(dict)
        self._buckets: dict[str, tuple[float, float]] = {}

    async def join(self, room_id: int, channel: str, entry: PresenceEntry) -> None:
        self._presence[room_id][channel] = entry

    async def leave(self, room_id: int, channel: str) -> None:
        self._presence[room_id].pop(channel, None)

    async def entries(self, room_id: int) -> dict[str, PresenceEntry]:
        now = time.time()
        live = {c: e for c, e in self._presence[room_id].items() if e.expires >= now}
        self._presence[room_id] = live
        return dict(live)

    async def raise_hand(self, room_id: int, user_id: int) -> None:
        self._hands[room_id].setdefault(user_id, time.time())

    async def lower_hand(self, room_id: int, user_id: int) -> None:
        self._hands[room_id].pop(user_id, None)

    async def hands(self, room_id: int) -> list[int]:
        queue = self._hands[room_id]
        return sorted(queue, key=queue.__getitem__)

    async def clear_hands(self, room_id: int) -> None:
        self._hands.pop(room_id, None)

    async def take_token(self, key: str, rate: float, burst: int) -> float:
        now = time.monotonic()
        tokens, stamp = self._buckets.get(key, (float(burst), now))
        tokens, wait = _bucket(tokens, stamp, now, rate, burst)
        self._buckets[key] = (tokens, now)
        return wait


# Token bucket in one round trip: KEYS[1] the bucket, ARGV rate, burst, now.
_TAKE_TOKEN = """
local b = redis.call('HMGET', KEYS[1], 't', 's')
local rate = tonumber(ARGV[1]); local burst = tonumber(ARGV[2]); local now = tonumber(ARGV[3])
local tokens = tonumber(b[1]) or burst
local stamp = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 's', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""


class RedisRoomState:
    """Room state in Redis, shared by every process on the same Redis."""

    def __init__(self, url: str, prefix: str) -> None:
        self._url = url
        self._prefix = prefix
        self._clients: dict[asyncio.AbstractEventLoop, object] = {}

    def _redis(self):  # type: ignore[no-untyped-def]
        # redis.asyncio connections belong to the loop that made them.
        import redis.asyncio as aioredis

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = aioredis.from_url(self._url, decode_responses=True)
            self._clients[loop] = client
        return client

    def _key(self, *parts: object) -> str:
        return ":".join([self._prefix, *map(str, parts)])

    async def join(self, room_id: int, channel: str, entry: PresenceEntry) -> None:
        key = self._key("presence", room_id)
        redis = self._redis()
        async with redis.pipeline(transaction=False) as pipe:
            pipe.hset(key, channel, json.dumps(asdict(entry)))
            pipe.expire(key, int(PRESENCE_TTL * 2))
            await pipe.execute()

    async def leave(self, room_id: int, channel: str) -> None:
        await self._redis().hdel(self._key("presence", room_id), channel)

    async def entries(self, room_id: int) -> dict[str, PresenceEntry]:
        key = self._key("presence", room_id)
        redis = self._redis()
        raw = await redis.hgetall(key)
        now = time.time()
        live: dict[str, PresenceEntry] = {}
        stale = []
        for channel, value in raw.items():
            entry = PresenceEntry(**json.loads(value))
            if entry.expires >= now:
                live[channel] = entry
            else:
                stale.append(channel)
        if stale:
            await redis.hdel(key, *stale)
        return live

    async def raise_hand(self, room_id: int, user_id: int) -> None:
        await self._redis().zadd(self._key("hands", room_id), {str(user_id): time.time()}, nx=True)

    async def lower_hand(self, room_id: int, user_id: int) -> None:
        await self._redis().zrem(self._key("hands", room_id), str(user_id))

    async def hands(self, room_id: int) -> list[int]:
        return [
            int(member) for member in await self._redis().zrange(self._key("hands", room_id), 0, -1)
        ]

    async def clear_hands(self, room_id: int) -> None:
        await self._redis().delete(self._key("hands", room_id))

    async def take_token(self, key: str, rate: float, burst: int) -> float:
        wait = await self._redis().eval(
            _TAKE_TOKEN, 1, self._key("rate", key), rate, burst, time.time()
        )
        return float(wait)


_state: RoomState | None = None


def room_state() -> RoomState:
    """Return this process's handle on the shared room state."""
    global _state
    if _state is None:
        url = settings.REDIS_URL
        if url:
            prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "peerchat")
            _state = RedisRoomState(url, f"{prefix}:state")
        else:
            _state = MemoryRoomState()
    return _state


def reset_room_state() -> None:
    """Forget the handle (tests that switch settings call this)."""
    global _state
    _state = None
