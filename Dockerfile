# peerchat: one image for the daphne replicas, migrations, the purge job and static files.
# See docs/operations.md. Build:  docker build -t peerchat:local .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=server.settings \
    PEERCHAT_VAR_DIR=/app/var

# An unprivileged user with a fixed id (volumes and file ownership stay predictable).
RUN groupadd --system --gid 10001 peerchat \
 && useradd --system --uid 10001 --gid peerchat --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin peerchat

WORKDIR /app

# Dependencies first, read from pyproject.toml, so that this layer stays cached while
# only the code changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# The project itself. The processes run from /app (manage.py and daphne put the working
# directory first on sys.path), so data files the wheel does not carry are still there.
COPY . .
RUN pip install --no-deps . \
 && rm -rf build ./*.egg-info

# Static files are collected (hashed and compressed by whitenoise) at build time. The
# SECRET_KEY and ALLOWED_HOSTS below exist only for this one RUN step: they are not in
# the image's environment, and every container must be given its own real values.
RUN DEBUG=0 SECRET_KEY=build-time-only-not-a-secret ALLOWED_HOSTS=build.invalid \
        python manage.py collectstatic --noinput \
 && mkdir -p /srv/static \
 && chown -R peerchat:peerchat /app/var /srv/static

# The moderation engine's compiled matchers and Hyperscan gates, built once into the
# image: a process then starts in about 0.3 s instead of compiling for about 13 s
# (docs/moderation.md). Build on the CPU family you run on: Hyperscan refuses a
# database for another one, and the engine then compiles again at start.
# Readable, not writable, by the service account; a miss only recompiles in memory.
ENV PEERCHAT_ENGINE_CACHE_DIR=/opt/peerchat/engine-cache
RUN python -c "from moderation.engine import default_engine; default_engine()" \
 && chmod -R a+rX,go-w /opt/peerchat/engine-cache

USER peerchat

EXPOSE 8000

# 200 only when the database and the channel layer answer. The Host header is the first
# of ALLOWED_HOSTS and X-Forwarded-Proto says https (as the proxy would), so that
# ALLOWED_HOSTS and SECURE_SSL_REDIRECT do not turn the probe into a 400 or a 301.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, sys, urllib.request as u; h = (os.environ.get('ALLOWED_HOSTS') or 'localhost').split(',')[0].strip().lstrip('.'); h = 'localhost' if h in ('', '*') else h; r = u.Request('http://127.0.0.1:8000/healthz', headers={'Host': h, 'X-Forwarded-Proto': 'https'}); sys.exit(0 if u.urlopen(r, timeout=4).status == 200 else 1)"

# --proxy-headers: the client address and scheme come from X-Forwarded-For/-Proto, which
# only the proxy can set (port 8000 is never published).
# Frame and message limits: the app refuses frames over 64 KiB with a clear error;
# daphne's own 128 KiB cap stops anything larger before it is buffered in memory.
CMD ["daphne", "--bind", "0.0.0.0", "--port", "8000", "--proxy-headers", "--websocket-max-message-size", "131072", "--websocket-max-frame-size", "131072", "server.asgi:application"]
