"""Non-secret defaults; instance/config.py and BOARD_* environment variables override them."""

from datetime import timedelta


class DefaultConfig:
    """Settings for the embedded default: SQLite in instance/, Whoosh in search_index/."""

    # A development key only; production sets BOARD_SECRET_KEY (create_app warns otherwise).
    SECRET_KEY = "dev-not-secret"  # noqa: S105 (development only; create_app warns)
    SQLALCHEMY_DATABASE_URI = None  # filled in by create_app: sqlite:///<instance>/board.sqlite
    # Test each pooled connection before use: after the database restarted or an operator
    # terminated its connections, the next request reconnects instead of failing.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SEARCH_INDEX_DIR = None  # filled in by create_app: <project>/search_index
    # Apply the search outbox right after each commit in the web process (a cheap single-document
    # update). Off under gunicorn with several workers: then `flask search worker` does it alone.
    SEARCH_APPLY_INLINE = True
    # With SEARCH_APPLY_INLINE: apply the outbox when this process next opens a searcher instead
    # of after every commit (one index write for a run of commits). For the test suite and
    # scripts that write many messages and search seldom; a web process keeps it off, so no
    # page view pays for other requests' writes.
    SEARCH_APPLY_ON_READ = False
    # Who answers searches: "fast" (numpy over Whoosh's files, Whoosh patched in create_app) or
    # "whoosh" (Whoosh's own collectors and writers, nothing patched; slower, same results).
    SEARCH_ENGINE = "fast"
    # /healthz compares the index with the database at most this often per process (seconds).
    HEALTH_INDEX_CHECK_SECONDS = 5.0
    MAIL_URL = None  # smtp[s]://user:pass@host:port[?starttls=1]; None: .eml files in MAIL_DIR
    MAIL_SENDER = "民声 <noreply@minsheng.example>"
    MAIL_DIR = None  # where .eml files go without MAIL_URL; default <instance>/mail
    BASE_URL = "http://127.0.0.1:8000"  # links in mails (BOARD_BASE_URL in production)
    MAIL_DIGEST_HOUR = 8
    MAIL_RETRY_SECONDS = 60  # a failed attempt is retried after 1, 2, 4 … times this
    MAIL_CLAIM_SECONDS = None  # a sender that died mid-send frees its mail after this (600)  # daily digests are queued from this hour (Beijing time) on

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh_CN": "中文", "en": "English"}

    WTF_CSRF_TIME_LIMIT = None  # a long-open compose form must still submit
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = (
        False  # True behind TLS (instance/config.py or BOARD_SESSION_COOKIE_SECURE)
    )
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)
    MAX_CONTENT_LENGTH = 50 * 1024 * 1024

    # How many reverse proxies in front of gunicorn set X-Forwarded-For/-Proto (0: none; the
    # client address is the peer's). Behind nginx, 1.
    PROXY_HOPS = 0
    # A request whose database connection was lost is run again this many times (board/retry).
    DB_DISCONNECT_RETRIES = 2

    # Counters every worker shares: None means a SQLite file in the instance folder
    # (board/ratelimit.py); production with several nodes sets redis://host:6379/0.
    RATELIMIT_STORAGE_URI = None
    RATELIMIT_STRATEGY = "fixed-window"
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True

    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 (an algorithm name, not a password)

    # Attachment bytes: "database" (every app node reads them; nothing else to share) or
    # "disk": UPLOAD_DIR, outside static/ under random names (None means <instance>/uploads),
    # which must then be one directory every node mounts. Files uploaded before the bytes moved
    # into the database stay in UPLOAD_DIR until `flask attachments migrate`.
    ATTACHMENT_STORAGE = "database"
    UPLOAD_DIR = None
    ATTACHMENTS_MAX_COUNT = 9
    ATTACHMENT_IMAGE_MAX_BYTES = 5 * 1024 * 1024
    ATTACHMENT_PDF_MAX_BYTES = 10 * 1024 * 1024
    ATTACHMENT_MAX_PIXELS = 40_000_000

    # Rankings (排行) list only entities with at least this many public cases in the period.
    RANKING_MIN_CASES = 20

    PAGE_SIZE = 20
    API_PAGE_SIZE = 50

    # Public pages as visitors see them (board/cache, docs/performance.md): "memory" keeps them
    # in each worker (no extra service), a redis:// URL shares them between workers and nodes,
    # "off" renders every request. A stored page is dropped as soon as the data changes; the
    # seconds bound what depends on the clock alone (a deadline passing) and the search index.
    PAGE_CACHE = "memory"
    PAGE_CACHE_SECONDS = 60
    PAGE_CACHE_MEMORY_MB = 32
    # The figures, charts, home counters and listing totals of public pages (aggregates whose
    # cost grows with the data) are reused for this many seconds per worker; 0: always exact.
    STATS_REUSE_SECONDS = 60
