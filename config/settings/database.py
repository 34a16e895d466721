"""The database: its URL, connection reuse, prepared statements and JIT (README settings)."""

from django.core.exceptions import ImproperlyConfigured

from .environment import VAR_DIR, env

# DATABASES
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#databases
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USING_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
# Connection reuse (README "Sizing"): on PostgreSQL with DB_POOL_MAX_SIZE > 0 each process keeps
# a psycopg pool (Django's "pool" option) of DB_POOL_MIN_SIZE..DB_POOL_MAX_SIZE connections; a
# request (or a sync_to_async call of a websocket consumer) takes one for its duration and gives
# it back, health-checked before reuse. A request that waits longer than DB_POOL_TIMEOUT
# seconds for a free connection fails instead of queueing forever. Without a pool,
# CONN_MAX_AGE keeps one persistent connection per thread, checked before reuse
# (CONN_HEALTH_CHECKS). A pool and CONN_MAX_AGE exclude each other (Django refuses both).
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=0) if USING_POSTGRES else 0
if DB_POOL_MAX_SIZE > 0:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(env.int("DB_POOL_MIN_SIZE", default=2), DB_POOL_MAX_SIZE),
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
        "max_idle": env.float("DB_POOL_MAX_IDLE", default=300.0),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Prepared statements (README settings; docs/api.md round 4), on by default on PostgreSQL: queries
# send their parameters apart from the SQL (psycopg's server-side binding), and a statement run
# DB_PREPARE_THRESHOLD times on a connection is prepared there, so PostgreSQL stops parsing it on
# every request (a manager's dashboard: 43-48 -> 36-38 ms p50 in process). Prepared statements
# live in one server connection: behind PgBouncer in transaction pooling mode set
# DB_PREPARE_THRESHOLD=off unless the pooler tracks them (1.21+ with max_prepared_statements).
# DB_SERVER_SIDE_BINDING=false gives back client-side binding (nothing prepared).
if USING_POSTGRES and env.bool("DB_SERVER_SIDE_BINDING", default=True):
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["server_side_binding"] = True
    _threshold = env.str("DB_PREPARE_THRESHOLD", default="2").strip().lower()
    # psycopg: None never prepares, N prepares on the Nth run of a statement.
    if _threshold in {"off", "none", ""}:
        _options["prepare_threshold"] = None
    elif _threshold.isdigit():
        _options["prepare_threshold"] = int(_threshold)
    else:
        raise ImproperlyConfigured(
            f"DB_PREPARE_THRESHOLD must be a whole number or 'off', not {_threshold!r}"
        )
# PostgreSQL's JIT compiles every query the planner prices above jit_above_cost, and on pages
# such as a manager's dashboard (one pass over the clinic's active patients) compiling took
# 20-90 ms of a 20-40 ms query. Off for the application's connections unless DB_JIT is set.
if USING_POSTGRES and not env.bool("DB_JIT", default=False):
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
