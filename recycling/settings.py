"""Settings for the 再生资源信息服务平台.

One file, read from the environment through a few helpers, with safe development defaults.
Production differs only by environment variables (see README "Configuration").
"""

import os
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_DEV_SECRET_KEY = "dev-only-not-secret-0f6b1c2e9a4d4e7b8c3f5a6d7e8f9a0b1c2d3e4f5a6b7c8d"


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean, got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == _DEV_SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "core",
    "accounts",
    "recycling",
    "auctions",
    "payments",
    "logistics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "recycling.urls"
WSGI_APPLICATION = "recycling.wsgi.application"
ASGI_APPLICATION = "recycling.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "core.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# Embedded default: a SQLite file. IMMEDIATE transactions take the write lock at BEGIN, so
# read-then-write services cannot interleave (SQLite ignores SELECT ... FOR UPDATE).
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
# Under ASGI (Daphne) each request runs its sync part on one of ASGI_THREADS worker threads
# (core/asgi.py), and WebSocket consumers on Channels' own; on PostgreSQL the connections come
# from a pool (psycopg-pool, DB_POOL_MAX_SIZE per process, 0 to turn it off): a request
# borrows one and gives it back when it ends.
DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 20)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"].setdefault("TEST", {})
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DB_POOL_MAX_SIZE > 0 and DATABASES["default"]["CONN_MAX_AGE"] == 0:
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(2, DB_POOL_MAX_SIZE),
            "max_size": DB_POOL_MAX_SIZE,
            # A request that finds every connection busy waits this long, then gets an error.
            "timeout": env_int("DB_POOL_TIMEOUT", 10),
        }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USING_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
# Worker threads per process for the sync part of HTTP requests (core/asgi.py): as many as the
# pool has connections, so that no request holds a thread while it waits for a connection.
ASGI_THREADS = env_int("ASGI_THREADS", DB_POOL_MAX_SIZE or 20)

# --- Redis: channel layer and cache ---------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Pub/Sub: a broadcast is one PUBLISH per lot, fanned out inside each process (the
            # list-based core layer pushed one copy per watcher, each popped by its process in
            # a Redis round trip: fan-out p50 ~150 → ~115 ms at 1,000 watchers, bench/fanout.py).
            # Delivery is at most once; watchers repair a gap from the event log by its seq.
            # Its receive polls with a 0.1 s read timeout of its own, so the socket timeout
            # (redis-py 8's 5 s default, kept explicit) only bounds PUBLISH and SUBSCRIBE.
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 5, "socket_connect_timeout": 5}],
                "prefix": env_str("CHANNELS_PREFIX", "asgi"),
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "core.cache.SharedRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_PREFIX", "recycling"),
            # The cache only holds the throttles' histories, which let a request through when
            # Redis cannot answer (core/throttling.py): a hung Redis costs a request at most this.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:dashboard"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- I18n -----------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"

# --- Files ----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = DEBUG
# Uploaded files. Nothing under MEDIA_ROOT is served directly: every download goes through
# a view that checks who is asking (licence documents are private).
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/media/"
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- E-mail ---------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "平台通知 <noreply@recycling.example>")

# --- Stripe ---------------------------------------------------------------------------
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "sk_test_local")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY", "pk_test_local")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "whsec_local")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "https://api.stripe.com")
STRIPE_JS_URL = env_str("STRIPE_JS_URL", "https://js.stripe.com/v3/")
# Seconds before a Stripe call counts as failed; the step is then retried (docs/payments.md).
STRIPE_TIMEOUT = float(env_str("STRIPE_TIMEOUT", "10"))
# Money steps after a close run in a background thread (False: inline, as the tests do).
PAYMENTS_STEPS_IN_BACKGROUND = env_bool("PAYMENTS_STEPS_IN_BACKGROUND", True)
BUYER_FEE_RATE = Decimal(env_str("BUYER_FEE_RATE", "0.02"))  # of the gross, paid by the buyer
SELLER_FEE_RATE = Decimal(env_str("SELLER_FEE_RATE", "0.00"))  # of the gross, kept from the seller
DEPOSIT_FORFEIT_SELLER_SHARE = Decimal(env_str("DEPOSIT_FORFEIT_SELLER_SHARE", "0.50"))
PAYMENT_DAYS = env_int("PAYMENT_DAYS", 3)  # default payment deadline: days after the award

# --- Logistics (docs/logistics.md) ---------------------------------------------------
# Road km = haversine km × this factor (Harbin's detours around the river and rail yards).
LOGISTICS_ROAD_FACTOR = float(env_str("LOGISTICS_ROAD_FACTOR", "1.3"))
# A net weight off the listed quantity by more than this share goes to the cooperative.
LOGISTICS_WEIGHT_TOLERANCE = float(env_str("LOGISTICS_WEIGHT_TOLERANCE", "0.05"))
LOGISTICS_DISPUTE_HOURS = env_int("LOGISTICS_DISPUTE_HOURS", 48)  # the seller's window after weighing
LOGISTICS_QUOTE_MINUTES = env_int("LOGISTICS_QUOTE_MINUTES", 30)  # a quote's price holds this long
LOGISTICS_MAX_SLOT_HOURS = env_int("LOGISTICS_MAX_SLOT_HOURS", 12)
LOGISTICS_MAX_TRIPS_PER_VEHICLE = env_int("LOGISTICS_MAX_TRIPS_PER_VEHICLE", 4)  # loads per vehicle in one slot
LOGISTICS_SPEED_KMH = env_int("LOGISTICS_SPEED_KMH", 40)  # average loaded speed in and around Harbin
LOGISTICS_SERVICE_MINUTES = env_int("LOGISTICS_SERVICE_MINUTES", 30)  # loading or unloading at a stop
LOGISTICS_PIECE_WEIGHT_T = float(env_str("LOGISTICS_PIECE_WEIGHT_T", "1.0"))  # a lot counted in pieces
LOGISTICS_ROUTE_SECONDS = float(env_str("LOGISTICS_ROUTE_SECONDS", "1.0"))  # the route solver's time limit

# --- API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first so that an unauthenticated API call answers 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.drf.Pagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.drf.exception_handler",
    # DRF's anon, user and scoped throttles, with one cache read and one write per request.
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.BatchedThrottles"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("THROTTLE_ANON", "300/min"),
        "user": env_str("THROTTLE_USER", "1200/min"),
        "auth": env_str("THROTTLE_AUTH", "20/min"),
        "register": env_str("THROTTLE_REGISTER", "20/hour"),
        "bids": env_str("THROTTLE_BIDS", "60/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "再生资源信息服务平台 API",
    "DESCRIPTION": "Public API of the Harbin renewable-resources information service platform.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the installed package, not a CDN: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CompanyRoleEnum": "accounts.models.Company.Role",
        "CompanyStatusEnum": "accounts.models.Company.Status",
        "DistrictEnum": "core.districts.District",
        "LotStatusEnum": "recycling.models.Lot.Status",
        "UnitEnum": "recycling.models.Unit",
        "VehicleTypeEnum": "logistics.models.Vehicle.Type",
        "DeductionKindEnum": "logistics.models.Deduction.Kind",
        "DocumentKindEnum": "accounts.models.CompanyDocument.Kind",
        "BookingStatusEnum": "logistics.models.Booking.Status",
    },
}

# --- Security (production: DEBUG off) -------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}
