"""peerchat's own settings with the per-user send-rate limit raised, for load runs only.

The token bucket still runs (one Redis EVAL per send, as in production); it just never
refuses, so that a few hundred clients can push a daphne process to saturation. Use it
with ``DJANGO_SETTINGS_MODULE=bench.peerchat_settings``. The smoke test
(tests/test_bench_smoke.py) runs against ``server.settings`` unchanged.
"""

from server.settings import *  # noqa: F403
from server.settings import PEERCHAT

PEERCHAT = {**PEERCHAT, "SEND_RATE": (100_000, 1.0), "SEND_BURST": 100_000}
