"""Settings for BRAiN Mission Control, read from the environment.

Nothing set gives the embedded default: SQLite, the in-memory channel layer and the
local-memory cache, so the app runs on a bare machine. ``DATABASE_URL`` and
``REDIS_URL`` switch to PostgreSQL and Redis, the shape for production and for
several server processes. See the README's "Configuration" section.
"""

import ipaddress
import secrets
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DATA_DIR = Path(env.str("BRAIN_DATA_DIR", default=str(BASE_DIR / "var")))


def _secret_key() -> str:
    """The configured key, else one generated once and kept in the data folder."""
    key = env.str("SECRET_KEY", default="")
    if key:
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "brain.api.exceptions.csrf_failure"

# The domain apps, by label (each is installed under the same name): configuration,
# so the core imports none of them. ``brain.access`` gives its groups the permissions
# of their models.
BRAIN_DOMAIN_APPS = ["missions", "credits", "hardware", "supervisor", "webhooks"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "axes",
    "csp",
    "pgtrigger",
    "brain.access",
    "brain.api",
    "brain.events",
    "django_tasks",
    "django_tasks_db",
    *BRAIN_DOMAIN_APPS,
    "dashboard",
]

MIDDLEWARE = [
    "brain.metrics.RequestLatencyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "brain.api.middleware.BodySizeLimitMiddleware",
    "brain.api.middleware.RefuseNulInUrlMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "brain.events.context.EventContextMiddleware",
    "axes.middleware.AxesMiddleware",
    "brain.api.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "brain.urls"
ASGI_APPLICATION = "brain.asgi.application"
WSGI_APPLICATION = None

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

# Databases --------------------------------------------------------------------------

DATABASE_URL = env.str("DATABASE_URL", default="")
if DATABASE_URL:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
            # Writers wait for each other instead of failing at once.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Under ASGI every request runs in a fresh thread, so persistent connections
    # are never reused; a pool per server process is (psycopg_pool).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "connect_timeout": 3,
            # Prepared statements, for the few queries that ask for them (the event
            # INSERT: brain/events/publish.py); Django's own cursors never prepare.
            # DB_PREPARED_STATEMENTS=0 behind a transaction-pooling PgBouncer.
            "prepare_threshold": (
                5 if env.bool("DB_PREPARED_STATEMENTS", default=True) else None
            ),
            "pool": {
                "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
                "max_size": env.int("DB_POOL_MAX_SIZE", default=10),
                "timeout": env.float("DB_POOL_TIMEOUT", default=5.0),
            },
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: channel layer and cache -----------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Pub/sub: one PUBLISH per event batch reaches every server process's
            # hub. At-most-once like any layer; the hubs heal gaps from the log.
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_connect_timeout": 1,
                        "socket_timeout": 5,
                    }
                ],
                "prefix": env.str("CHANNEL_LAYER_PREFIX", default="brain"),
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "brain",
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }
    # A cache outage degrades throttling and caching; it never fails a request.
    DJANGO_REDIS_IGNORE_EXCEPTIONS = True
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Auth -------------------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.UserAttributeSimilarityValidator"},
    {"NAME": f"{_VALIDATORS}.MinimumLengthValidator"},
    {"NAME": f"{_VALIDATORS}.CommonPasswordValidator"},
    {"NAME": f"{_VALIDATORS}.NumericPasswordValidator"},
]
LOGIN_URL = "dashboard:login"
LOGIN_REDIRECT_URL = "dashboard:board"
LOGOUT_REDIRECT_URL = "dashboard:login"

# Sign-in lockout (django-axes): repeated failures lock a user and address out.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
# Per user and address, and per user alone: guesses spread over many addresses (a
# botnet, or forged ones) still lock the account. The price: anyone can keep a known
# username locked for the cool-off; ``manage.py axes_reset_username`` lifts it.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]
# The address is the connection's (``REMOTE_ADDR``), never a header the client sends:
# behind a proxy, TRUSTED_PROXIES makes it the client's (brain/asgi.py).
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
AXES_RESET_ON_SUCCESS = True
# 429 with Retry-After and the time to retry: a styled page for a browser, JSON else.
AXES_LOCKOUT_CALLABLE = "dashboard.errors.lockout"
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)

# Security ---------------------------------------------------------------------------

HTTPS = env.bool("HTTPS", default=False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
# The reverse proxies whose ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed
# (addresses or networks, e.g. ``127.0.0.1,10.0.0.0/8``). None by default: the client
# address is the connection's, whatever a client writes in those headers. The ASGI
# server runs with ``--no-proxy-headers`` (bin/run); brain/asgi.py applies these.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
if env.bool("BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# The dashboard loads only its own scripts and styles and talks only to its own host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        # CSP Level 3: 'self' also allows ws:// and wss:// to the page's own host.
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
}

# A request body larger than this is refused with 413 before it is parsed.
MAX_REQUEST_BODY_BYTES = env.int("MAX_REQUEST_BODY_BYTES", default=8 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES
# HTTP requests inside Django at once per server process; the rest wait on the event
# loop (brain.api.middleware.ASGIConcurrencyLimit). 0: no limit.
HTTP_MAX_IN_FLIGHT = env.int("HTTP_MAX_IN_FLIGHT", default=16)
# Worker threads that run requests' sync code (middleware, views), per process
# (brain/http.py): by default one per request let in.
HTTP_THREADS = env.int("HTTP_THREADS", default=HTTP_MAX_IN_FLIGHT or 16)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10000
# Before authentication, a request with no credential (no ``Authorization`` header,
# no session cookie) may send at most this: anonymous requests only sign in.
ANON_MAX_REQUEST_BODY_BYTES = env.int("ANON_MAX_REQUEST_BODY_BYTES", default=64 * 1024)
# Seconds to receive a whole body; a slower one gets 408 and the connection closes.
HTTP_BODY_READ_TIMEOUT = env.float("HTTP_BODY_READ_TIMEOUT", default=30.0)
# Bytes of request bodies one process holds at once (brain.api.middleware).
HTTP_BODY_BUFFER_MAX_BYTES = env.int("HTTP_BODY_BUFFER_MAX_BYTES", default=32 * 1024**2)
# The largest JSON document one field of a request may hold (``data``, ``imu_data``).
API_JSON_FIELD_MAX_BYTES = env.int("API_JSON_FIELD_MAX_BYTES", default=64 * 1024)
# ``Idempotency-Key``: how long a first response is kept and replayed, and how long a
# request may hold its key in flight before another may take it over.
IDEMPOTENCY_KEY_RETENTION_HOURS = env.float(
    "IDEMPOTENCY_KEY_RETENTION_HOURS", default=24.0
)
IDEMPOTENCY_KEY_LEASE_SECONDS = env.float("IDEMPOTENCY_KEY_LEASE_SECONDS", default=60.0)

# I18N, static -----------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Times to the second everywhere Django formats them (admin lists, detail pages).
FORMAT_MODULE_PATH = ["brain.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The dashboard's charting library, installed by ``npm ci`` from package-lock.json.
_CHARTJS_DIST = BASE_DIR / "node_modules" / "chart.js" / "dist"
STATICFILES_DIRS = [("vendor/chartjs", _CHARTJS_DIST)] if _CHARTJS_DIST.is_dir() else []
# Production runs ``collectstatic`` first (bin/run does, with DEBUG off) and serves
# hashed, compressed files. Until it has, files are served unhashed from the apps,
# so a bare start still works.
_COLLECTED = (STATIC_ROOT / "staticfiles.json").exists()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if _COLLECTED and not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or not _COLLECTED

# REST framework ---------------------------------------------------------------------

REST_FRAMEWORK = {
    # Token first, so an anonymous request gets 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "brain.api.authentication.PlainTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["brain.api.permissions.ReadSignedInWriteModelPerms"],
    "DEFAULT_PAGINATION_CLASS": "brain.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    # JSON only, and only JSON the database can store (NUL, lone surrogates: 400).
    "DEFAULT_PARSER_CLASSES": ["brain.api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "brain.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "brain.api.exceptions.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_THROTTLE_CLASSES": [
        "brain.api.throttling.AnonBurstThrottle",
        "brain.api.throttling.UserWriteThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="120/min"),
        "user_write": env.str("THROTTLE_USER_WRITE", default="6000/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "BRAiN Mission Control API",
    "DESCRIPTION": (
        "Missions, credits, hardware and supervisor. Every change is a Charter v1.0 "
        "event, also streamed on the WebSocket `/ws/events/`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the installed sidecar package: no CDN, CSP-friendly.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PREPROCESSING_HOOKS": ["brain.api.schema.drop_trailing_slash_twins"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "brain.api.schema.name_integer_enums",
    ],
    # Several models have a ``status``/``state`` field: name each choice set once.
    "ENUM_NAME_OVERRIDES": {
        "MissionStatusEnum": "missions.models.MissionStatus",
        "CommandStatusEnum": "hardware.models.CommandStatus",
        "AgentStateEnum": "supervisor.models.AgentState",
        "TransactionKindEnum": "credits.models.TransactionKind",
        "EndpointStateEnum": "webhooks.models.EndpointState",
        "AttemptOutcomeEnum": "webhooks.models.AttemptOutcome",
    },
}

# Charter events ---------------------------------------------------------------------

EVENTS_RETENTION_DAYS = env.int("EVENTS_RETENTION_DAYS", default=30)
# A write's answer waits at most this long for its events' seq (read-your-writes on
# GET /api/events); past it the answer goes and the events are numbered later.
EVENTS_NUMBERING_WAIT_SECONDS = env.float("EVENTS_NUMBERING_WAIT_SECONDS", default=1.0)
# How often each server process checks the log for events it has not seen.
EVENTS_POLL_INTERVAL = env.float("EVENTS_POLL_INTERVAL", default=1.0)
# How often each process re-checks that its sockets' tokens and sessions still hold.
EVENTS_AUTH_RECHECK_SECONDS = env.float("EVENTS_AUTH_RECHECK_SECONDS", default=5.0)
# App actions on the socket (e.g. robot telemetry) one socket may have unanswered.
EVENTS_SOCKET_ACTIONS_IN_FLIGHT = env.int(
    "EVENTS_SOCKET_ACTIONS_IN_FLIGHT", default=1000
)
# Events a socket may have queued before it is closed and told to resume.
EVENTS_SOCKET_QUEUE_LIMIT = env.int("EVENTS_SOCKET_QUEUE_LIMIT", default=10000)
# Seconds a frame may wait for a socket whose client does not read; then the
# connection is aborted (brain/wsprotocol.py).
EVENTS_SOCKET_SEND_TIMEOUT = env.float("EVENTS_SOCKET_SEND_TIMEOUT", default=10.0)
# Sockets one user may hold open on one server process (0: no limit).
EVENTS_MAX_SOCKETS_PER_USER = env.int("EVENTS_MAX_SOCKETS_PER_USER", default=20)
# Most events one replay or one REST page returns.
EVENTS_PAGE_LIMIT = env.int("EVENTS_PAGE_LIMIT", default=1000)
# Seconds a hub waits for a live message that arrived out of order (writers publish
# after their own commits) before it reads the missing events from the log.
EVENTS_REORDER_WAIT = env.float("EVENTS_REORDER_WAIT", default=0.05)

# Integrations: SSE, CloudEvents, metrics, webhooks ----------------------------------

# Seconds between the comment lines that keep an idle SSE stream open through proxies.
EVENTS_SSE_KEEPALIVE_SECONDS = env.float("EVENTS_SSE_KEEPALIVE_SECONDS", default=15.0)
# The CloudEvents ``source`` of a module is ``<prefix>/<module>``; an absolute URI
# (``https://brain.example.com``) makes it unique across installations.
CLOUDEVENTS_SOURCE_PREFIX = env.str("CLOUDEVENTS_SOURCE_PREFIX", default="/brain")
# ``GET /metrics``: with a token, only ``Authorization: Bearer <token>``; without,
# only clients at these addresses or networks.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
METRICS_ALLOWED_NETWORKS = [
    ipaddress.ip_network(item, strict=False) for item in METRICS_ALLOWED_IPS
]
# Event types whose storing counts as a telemetry report.
METRICS_TELEMETRY_TYPES = env.list(
    "METRICS_TELEMETRY_TYPES", default=["hardware.state_reported"]
)
# Webhook delivery runs on django-tasks' database backend (``manage.py
# webhooks_worker``, several at once on PostgreSQL); see webhooks/README.md.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "webhooks"],
    }
}
WEBHOOKS_TIMEOUT_SECONDS = env.float("WEBHOOKS_TIMEOUT_SECONDS", default=15.0)
WEBHOOKS_RETRY_BASE_SECONDS = env.float("WEBHOOKS_RETRY_BASE_SECONDS", default=5.0)
WEBHOOKS_RETRY_MAX_DELAY_SECONDS = env.float(
    "WEBHOOKS_RETRY_MAX_DELAY_SECONDS", default=6 * 3600.0
)
WEBHOOKS_RETRY_HORIZON_SECONDS = env.float(
    "WEBHOOKS_RETRY_HORIZON_SECONDS", default=3 * 24 * 3600.0
)
WEBHOOKS_SECRET_GRACE_SECONDS = env.float(
    "WEBHOOKS_SECRET_GRACE_SECONDS", default=24 * 3600.0
)
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = env.bool(
    "WEBHOOKS_ALLOW_PRIVATE_NETWORKS", default=False
)
WEBHOOKS_BATCH_SIZE = env.int("WEBHOOKS_BATCH_SIZE", default=100)
WEBHOOKS_SWEEP_SECONDS = env.float("WEBHOOKS_SWEEP_SECONDS", default=30.0)

# Domain settings --------------------------------------------------------------------

HARDWARE_OFFLINE_AFTER_SECONDS = env.int("HARDWARE_OFFLINE_AFTER_SECONDS", default=30)
# State reports: at most this many in one REST batch; the socket's state frames are
# stored together every HARDWARE_TELEMETRY_FLUSH_SECONDS (or when this many wait).
HARDWARE_STATE_BATCH_MAX = env.int("HARDWARE_STATE_BATCH_MAX", default=1000)
HARDWARE_TELEMETRY_FLUSH_SECONDS = env.float(
    "HARDWARE_TELEMETRY_FLUSH_SECONDS", default=0.02
)
HARDWARE_TELEMETRY_BATCH_MAX = env.int("HARDWARE_TELEMETRY_BATCH_MAX", default=500)
# At most one hardware.state_reported per robot per this many seconds from the
# socket's telemetry, with the latest values (0: one per flush).
HARDWARE_STATE_EVENT_SECONDS = env.float("HARDWARE_STATE_EVENT_SECONDS", default=1.0)
SUPERVISOR_HEARTBEAT_WINDOW_SECONDS = env.int(
    "SUPERVISOR_HEARTBEAT_WINDOW_SECONDS", default=60
)
# How often ``manage.py watch_agents`` looks for agents past the heartbeat window.
SUPERVISOR_CHECK_INTERVAL_SECONDS = env.float(
    "SUPERVISOR_CHECK_INTERVAL_SECONDS", default=5.0
)
SUPERVISOR_ALLOW_KILL = env.bool("SUPERVISOR_ALLOW_KILL", default=True)
SUPERVISOR_ALLOW_RESTART = env.bool("SUPERVISOR_ALLOW_RESTART", default=True)
SUPERVISOR_STATUS_CACHE_SECONDS = env.float(
    "SUPERVISOR_STATUS_CACHE_SECONDS", default=1.0
)
MISSIONS_LOG_BATCH_MAX = env.int("MISSIONS_LOG_BATCH_MAX", default=10000)
CREDITS_MAX_AMOUNT = env.str("CREDITS_MAX_AMOUNT", default="1000000.00")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # One line per webhook request is the attempts console's job, not the log's.
        "httpx": {"level": "WARNING"},
        # One JSON line per lockout, revocation, refused origin, slow-socket close.
        "brain.security": {"level": "INFO"},
    },
}
