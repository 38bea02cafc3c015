"""Settings, all from the environment (or an `.env` file at the repository root).

Every name is documented in README.md. Defaults work on a laptop: an SQLite file and uploads
under `instance/`, mail kept in the development mailbox, rate limits in memory.
"""
import base64
import os
import secrets
from datetime import timedelta
from pathlib import Path

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_PATH = Path(os.environ.get("NOVADESK_INSTANCE", BASE_DIR / "instance"))

load_dotenv(BASE_DIR / ".env")


def _bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name, default):
    return int(os.environ.get(name, default))


def _secret_key():
    """The secret key from SECRET_KEY, or one generated once and kept in instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    INSTANCE_PATH.mkdir(parents=True, exist_ok=True)
    key_file = INSTANCE_PATH / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _encryption_keys():
    """Keys for secrets at rest from NOVADESK_ENCRYPTION_KEYS (comma- or space-separated, the
    first one encrypts), or one generated once and kept in instance/."""
    value = os.environ.get("NOVADESK_ENCRYPTION_KEYS", "")
    if not value.strip():
        INSTANCE_PATH.mkdir(parents=True, exist_ok=True)
        key_file = INSTANCE_PATH / "encryption_keys"
        if not key_file.exists():
            key_file.write_text(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
            key_file.chmod(0o600)
        value = key_file.read_text()
    return [key for key in value.replace(",", " ").split() if key]


def normalise_database_url(url):
    """`postgres://` and `postgresql://` mean psycopg2 here: psycogreen makes it cooperative
    under gevent (SQLAlchemy 2.1 would otherwise pick psycopg 3)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def _database_url():
    url = os.environ.get("DATABASE_URL")
    if url:
        return normalise_database_url(url)
    INSTANCE_PATH.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{INSTANCE_PATH / 'novadesk.db'}"


def _engine_options(url):
    """The database connections each process keeps (SQLAlchemy's pool, PostgreSQL only): a
    gevent process serves hundreds of sockets, each action borrowing one connection for its
    transaction; an action that finds none free waits DATABASE_POOL_TIMEOUT seconds, then fails."""
    options = {"pool_pre_ping": True}
    if not url.startswith("sqlite"):
        options.update(
            pool_size=_int("DATABASE_POOL_SIZE", 5),
            max_overflow=_int("DATABASE_MAX_OVERFLOW", 10),
            pool_timeout=_int("DATABASE_POOL_TIMEOUT", 30),
        )
    return options


class Config:
    APP_NAME = "NovaDesk"
    VENDOR_NAME = os.environ.get("VENDOR_NAME", "NOVA LEAD")
    TICKET_PREFIX = os.environ.get("TICKET_PREFIX", "NL")
    SECRET_KEY = _secret_key()
    ENCRYPTION_KEYS = _encryption_keys()
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS = _engine_options(SQLALCHEMY_DATABASE_URI)
    INSTANCE_DIR = str(INSTANCE_PATH)
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", str(INSTANCE_PATH / "uploads"))
    # Links in mail point to PUBLIC_URL (e.g. https://support.example); without it, to the
    # address run.py serves on, HOST and PORT (app/services/public_address.py).
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "")
    # A client's reply that only thanks or confirms (« Merci, c'est confirmé ») leaves a resolved
    # ticket resolved instead of reopening it (app/services/thanks.py).
    THANKS_KEEP_RESOLVED = _bool("THANKS_KEEP_RESOLVED", True)
    HOST = os.environ.get("HOST", "127.0.0.1")
    PORT = _int("PORT", 5000)
    # Reverse proxies (addresses or networks) whose X-Forwarded-For/-Proto/-Host are believed.
    TRUSTED_PROXIES = os.environ.get("TRUSTED_PROXIES", "")
    MAX_ATTACHMENT_MB = _int("MAX_ATTACHMENT_MB", 25)
    MAX_ATTACHMENT_BYTES = MAX_ATTACHMENT_MB * 1024 * 1024
    # A whole form (several files and the text) may be this large; each file is checked alone.
    MAX_CONTENT_LENGTH = _int("MAX_UPLOAD_TOTAL_MB", 100) * 1024 * 1024

    # Compressed responses (Flask-Compress): pages, JSON and static files; gzip is what browsers
    # offer over plain HTTP, so it stays among the algorithms for files sent in chunks too.
    COMPRESS_ALGORITHM_STREAMING = ["zstd", "br", "gzip", "deflate"]

    # Flask-AppBuilder
    FAB_SECURITY_MANAGER_CLASS = "app.security.manager.NovaSecurityManager"
    FAB_INDEX_VIEW = "app.views.home.HomeView"
    FAB_BASE_TEMPLATE = "novadesk/base.html"
    FAB_ADD_SECURITY_API = False
    FAB_ADD_SECURITY_PERMISSION_VIEW = False  # the permission matrix is edited on each role
    FAB_ADD_SECURITY_VIEW_MENU_VIEW = False
    FAB_ADD_SECURITY_PERMISSION_VIEWS_VIEW = False
    FAB_CREATE_DB = False  # the schema comes from migrations only
    FAB_API_KEY_ENABLED = True
    FAB_API_KEY_PREFIXES = ["nd_"]
    # Keys are 256 random bits: a slow hash adds nothing but latency on every API call.
    FAB_API_KEY_HASH_METHOD = "pbkdf2:sha256:1000"
    FAB_API_SWAGGER_UI = True
    FAB_API_MAX_PAGE_SIZE = 100
    # Webhooks: each attempt waits at most this long for the receiver; failures are retried
    # after WEBHOOK_RETRY_SECONDS, doubled each time (at most an hour), WEBHOOK_MAX_ATTEMPTS times.
    WEBHOOK_TIMEOUT_SECONDS = _int("WEBHOOK_TIMEOUT_SECONDS", 5)
    WEBHOOK_RETRY_SECONDS = _int("WEBHOOK_RETRY_SECONDS", 30)
    WEBHOOK_MAX_ATTEMPTS = _int("WEBHOOK_MAX_ATTEMPTS", 12)
    FAB_PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt")
    AUTH_TYPE = 1  # AUTH_DB
    AUTH_ROLE_ADMIN = "Admin"
    AUTH_ROLE_PUBLIC = "Public"
    AUTH_USER_REGISTRATION = False  # NovaDesk's own account requests replace FAB's
    APP_ICON = "/static/img/novadesk.svg"

    # Language and time: French first (A5)
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "app" / "translations")
    LANGUAGES = {"fr": {"flag": "fr", "name": "Français"}, "en": {"flag": "gb", "name": "English"}}
    DEFAULT_TIMEZONE = os.environ.get("DEFAULT_TIMEZONE", "Europe/Paris")

    # Sessions, CSRF and tokens (U7)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=_int("SESSION_HOURS", 12))
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead of a clock
    JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=_int("JWT_ACCESS_MINUTES", 15))
    JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=_int("JWT_REFRESH_DAYS", 7))

    # Rate limits and lockout (U7)
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    # Scaled out, every process must count the same hits: Redis when REDIS_URL is set.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL") or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Redis restarting must not take the site down: limits count in memory meanwhile.
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    AUTH_RATE_LIMITED = RATELIMIT_ENABLED
    AUTH_RATE_LIMIT = os.environ.get("AUTH_RATE_LIMIT", "20 per minute")
    SENSITIVE_RATE_LIMIT = os.environ.get("SENSITIVE_RATE_LIMIT", "10 per minute")
    LOGIN_LOCKOUT_THRESHOLD = _int("LOGIN_LOCKOUT_THRESHOLD", 5)
    LOGIN_LOCKOUT_MINUTES = _int("LOGIN_LOCKOUT_MINUTES", 15)
    LOGIN_ADDRESS_THRESHOLD = _int("LOGIN_ADDRESS_THRESHOLD", 20)  # failures from one client address
    KNOWN_DEVICE_DAYS = _int("KNOWN_DEVICE_DAYS", 180)  # a browser that signed in is remembered this long
    TWO_FACTOR_CODE_MINUTES = _int("TWO_FACTOR_CODE_MINUTES", 10)
    TWO_FACTOR_MAX_ATTEMPTS = _int("TWO_FACTOR_MAX_ATTEMPTS", 5)
    PASSWORD_MIN_LENGTH = _int("PASSWORD_MIN_LENGTH", 10)
    PASSWORD_HASH_OFF_HUB = _bool("PASSWORD_HASH_OFF_HUB", True)  # bench/login_stall.py turns it off to compare

    # Mail: Flask-Mail's names. No MAIL_SERVER = development mailbox.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "NovaDesk <support@novadesk.local>")
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 10)
    MAIL_SUPPRESS_SEND = False  # "no mail server" is said by leaving MAIL_SERVER empty
    # Where partners' replies should go (the polled mailbox); empty = the sender address.
    MAIL_REPLY_TO = os.environ.get("MAIL_REPLY_TO", "")
    # The authserv-id your own mail server writes in the Authentication-Results headers it adds
    # (e.g. "mx.novalead.com"): only its DMARC/DKIM verdicts are believed. Empty: no sender is
    # taken as authenticated, and every ticket by mail is marked « expéditeur non vérifié ».
    MAIL_TRUSTED_AUTHSERV_ID = os.environ.get("MAIL_TRUSTED_AUTHSERV_ID", "").strip()
    # Incoming mail (T10): messages above this size are kept but not turned into tickets.
    MAIL_MAX_MESSAGE_MB = _int("MAIL_MAX_MESSAGE_MB", 30)
    # A reply to a ticket closed less than this many days ago reopens it; later, a new linked ticket.
    MAIL_REOPEN_DAYS = _int("MAIL_REOPEN_DAYS", 14)
    # More messages than this from one sender within an hour are kept aside, not acted on.
    MAIL_FLOOD_PER_HOUR = _int("MAIL_FLOOD_PER_HOUR", 30)
    MAIL_POLL_SECONDS = _int("MAIL_POLL_SECONDS", 60)  # how often IMAP mailboxes are read
    # Mailboxes whose server offers IMAP IDLE are watched (new mail read at once) instead of
    # polled; the watch is renewed this often (servers end an IDLE after 30 minutes).
    MAIL_IDLE = _bool("MAIL_IDLE", True)
    MAIL_IDLE_RENEW_SECONDS = _int("MAIL_IDLE_RENEW_SECONDS", 600)

    # Background work: the worker runs inside the server unless told otherwise.
    WORKER_IN_PROCESS = _bool("WORKER_IN_PROCESS", True)
    WORKER_INTERVAL_SECONDS = _int("WORKER_INTERVAL_SECONDS", 5)
    # Personal data (A4): closed tickets older than this many years are anonymised by the
    # worker; 0 keeps them as they are.
    PERSONAL_DATA_RETENTION_YEARS = _int("PERSONAL_DATA_RETENTION_YEARS", 0)
    # The only folder scheduled directory sources may read files from (FileMaker, Quadratus exports).
    DIRECTORY_DROP_FOLDER = os.environ.get("DIRECTORY_DROP_FOLDER", str(INSTANCE_PATH / "drop"))

    # Dashboards, SLA watch, satisfaction (P2–P4, T13)
    DASHBOARD_REFRESH_SECONDS = _int("DASHBOARD_REFRESH_SECONDS", 60)
    SLA_WARNING_MINUTES = _int("SLA_WARNING_MINUTES", 60)  # warn this long before a deadline
    SLA_ALERT_LOOKBACK_HOURS = _int("SLA_ALERT_LOOKBACK_HOURS", 24)  # older breaches are not mailed
    SATISFACTION_LINK_DAYS = _int("SATISFACTION_LINK_DAYS", 14)
    # How long a dashboard figure is kept per scope (Redis when REDIS_URL is set, else this
    # process's memory); 0: counted at every request. A ticket change shows at once anyway.
    FIGURES_CACHE_SECONDS = _int("FIGURES_CACHE_SECONDS", 5)

    # Live chat (C1–C6). REDIS_URL: several processes share Socket.IO through Redis.
    REDIS_URL = os.environ.get("REDIS_URL", "")
    DESK_PRESENCE_SECONDS = _int("DESK_PRESENCE_SECONDS", 90)  # a desk not heard of for this long no longer shows as viewing a ticket
    CHAT_BUSINESS_HOURS_ONLY = _bool("CHAT_BUSINESS_HOURS_ONLY", True)  # outside them, the widget takes a message
    CHAT_MESSAGES_PER_MINUTE = _int("CHAT_MESSAGES_PER_MINUTE", 30)  # per widget connection, beyond: a notice
    DEMO_CHAT_ORIGINS = os.environ.get("DEMO_CHAT_ORIGINS", "")  # more origins for the demo widget channel
    CHAT_UPLOADS_PER_MINUTE = os.environ.get("CHAT_UPLOADS_PER_MINUTE", "20 per minute")  # widget files, per address
    CHAT_STARTS_PER_HOUR = os.environ.get("CHAT_STARTS_PER_HOUR", "30 per hour")  # new chats and offline messages, per address
    CHAT_MAX_EVENT_BYTES = _int("CHAT_MAX_EVENT_BYTES", 64 * 1024)  # one socket event; files go by HTTP upload

    DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "NovaDesk-demo-2026")
    # The demo partner page and its widget channel exist only in demo mode (`make run` turns it
    # on); never in production: the page hands anyone a signed identity for that channel.
    DEMO_MODE = _bool("DEMO_MODE", False)
