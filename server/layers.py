"""The channel layer configuration, shared by the settings and the tests."""

from __future__ import annotations

from typing import Any

BACKENDS = {
    # One PUBLISH per group_send; each process subscribes once per group and fans a
    # message out to its own sockets in memory. At most once: a socket that misses a
    # frame (a Redis reconnect) gets it back from the database with `resume`.
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
    # One sorted set per socket in Redis: a ZADD per member per group_send and a
    # BZPOPMIN round trip per delivery; bounded (capacity) and expiring.
    "redis": "channels_redis.core.RedisChannelLayer",
}


def channel_layers(redis_url: str, *, prefix: str, backend: str = "pubsub") -> dict[str, Any]:
    """CHANNEL_LAYERS for Redis at redis_url (backend: "pubsub" or "redis"), or the
    in-memory layer (one process only) when redis_url is empty."""
    if not redis_url:
        return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    if backend not in BACKENDS:
        raise ValueError(f"CHANNEL_LAYER must be one of {sorted(BACKENDS)}, not {backend!r}")
    config: dict[str, Any] = {"hosts": [redis_url], "prefix": prefix}
    if backend == "redis":
        config |= {"capacity": 1500, "expiry": 30}
    return {"default": {"BACKEND": BACKENDS[backend], "CONFIG": config}}
