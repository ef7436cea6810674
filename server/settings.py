"""Settings for peerchat, read from the environment (12-factor).

With ``DEBUG=0`` the site runs in production mode: ``SECRET_KEY`` and ``ALLOWED_HOSTS``
must be set, and the security settings that ``manage.py check --deploy`` asks for are on.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from server.layers import channel_layers

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PEERCHAT_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean from the environment ("1", "true", "yes", "on" are true)."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    """Read a comma-separated list from the environment."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def development_secret_key() -> str:
    """Return a random key made once for this checkout and kept under var/."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


DEBUG = env_bool("DEBUG", True)

if DEBUG:
    SECRET_KEY = os.environ.get("SECRET_KEY") or development_secret_key()
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
else:
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set in production (DEBUG=0): export a long random value."
        )
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS must be set in production (DEBUG=0): a comma-separated list of hosts."
        )

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "accounts",
    "chat",
    "moderation",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "frontend.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "server.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

ASGI_APPLICATION = "server.asgi.application"

# Database: PostgreSQL from DATABASE_URL, else a SQLite file under var/.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
            conn_health_checks=True,
        )
    }
    # Connecting to PostgreSQL for every database call cost about a sixth of the server's
    # CPU per message (bench/README.md). Under ASGI, Django's persistent connections are
    # not safe; psycopg's pool is (Django 5.1+). DB_POOL_MAX_SIZE=0 turns it off.
    pool_max = int(os.environ.get("DB_POOL_MAX_SIZE", "10"))
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and pool_max > 0:
        if DATABASES["default"].get("CONN_MAX_AGE"):
            raise ImproperlyConfigured("Set DB_POOL_MAX_SIZE=0 to use DB_CONN_MAX_AGE.")
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": int(os.environ.get("DB_POOL_MIN_SIZE", "1")),
            "max_size": pool_max,
            "timeout": float(os.environ.get("DB_POOL_TIMEOUT", "10")),
        }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "peerchat.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# Channel layer: Redis from REDIS_URL (CHANNEL_LAYER: "pubsub", the default, or "redis"
# for channels_redis' sorted-set layer; bench/README.md compares them), else in memory
# (one process only).
REDIS_URL = os.environ.get("REDIS_URL", "")
CHANNEL_LAYERS = channel_layers(
    REDIS_URL,
    prefix=os.environ.get("CHANNEL_LAYER_PREFIX", "peerchat"),
    backend=os.environ.get("CHANNEL_LAYER", "pubsub"),
)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "rooms"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("cs", "Čeština"),
]
LOCALE_PATHS = [BASE_DIR / "frontend" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if not DEBUG:
    # The reverse proxy terminates TLS and says so in X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Never let a library log request bodies or message text.
        "django.request": {"level": "ERROR"},
    },
}

# peerchat limits (see docs/protocol.md); each one is read where it is used.
PEERCHAT = {
    "MAX_FRAME_BYTES": 64 * 1024,
    "MAX_BODY_CHARS": 4000,
    "SEND_RATE": (5, 10.0),  # messages per seconds, refilled continuously
    "SEND_BURST": 8,
    "TYPING_MIN_INTERVAL": 2.0,
    "MAX_SOCKETS_PER_ROOM": 5,
    "HISTORY_PAGE_MAX": 100,
    "HELLO_MESSAGES": 50,
    # Retention (docs/operations.md#retention). Messages live Room.retention_days; those in
    # a session with flags stay while a flag is open and this long after the last is closed.
    "FLAGGED_RETENTION_DAYS": 90,
    "AUDIT_RETENTION_DAYS": 365,
    # What happens to a member's messages when they delete their account:
    # "anonymise" (kept as "former member") or "delete".
    "DELETED_MEMBER_MESSAGES": "anonymise",
    # Crisis alerts nobody acknowledged by then go to the on-call supervisors.
    "ESCALATE_AFTER_SECONDS": 120,
    "ESCALATION_CHECK_SECONDS": 5,
    # Threads per process for websocket database work (sends run side by side; the room
    # row lock keeps seq in commit order). Keep DB_POOL_MAX_SIZE above this.
    "DB_THREADS": int(os.environ.get("DB_THREADS", "4")),
    # Threads kept for messages the engine reads as crisis language, so that their
    # alerts never wait behind a queue of ordinary sends.
    "URGENT_DB_THREADS": int(os.environ.get("URGENT_DB_THREADS", "2")),
}
