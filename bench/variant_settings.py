"""bench.peerchat_settings plus switches for what-if runs (bench/variants.py); bench-only.

``BENCH_LAYER=pubsub`` swaps the channel layer for ``RedisPubSubChannelLayer`` (one
PUBLISH per group_send, fanned out in-process; no per-socket ZADD/BZPOPMIN). Database
connection reuse needs no switch here: ``DB_CONN_MAX_AGE`` is read by server.settings.
"""

import os

from bench.peerchat_settings import *  # noqa: F403
from bench.peerchat_settings import REDIS_URL

if os.environ.get("BENCH_LAYER") == "pubsub":
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": os.environ.get("CHANNEL_LAYER_PREFIX", "peerchat"),
            },
        }
    }
