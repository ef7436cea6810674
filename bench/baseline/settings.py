"""Settings of the baseline: the Channels tutorial chat on the Redis channel layer.

No database, no sessions, no auth, no persistence, no moderation: just the tutorial's
``AsyncWebsocketConsumer`` fanning messages out through ``group_send``. The channel layer
is configured like peerchat's (same backend, capacity and expiry) so that the difference
measured is the application's message path, not the layer.
"""

import os

SECRET_KEY = "bench-baseline-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["daphne", "channels"]
ASGI_APPLICATION = "bench.baseline.asgi.application"
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")],
            "prefix": os.environ.get("CHANNEL_LAYER_PREFIX", "benchbase"),
            "capacity": 1500,
            "expiry": 30,
        },
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
