"""What the site keeps rendered, and for how long: a clinic's dashboard figures, a patient's
progress charts, PDF reports, and the queue that renders session reports ahead.

Each is a cache whose key changes whenever what it shows changes, so these settings bound
sizes and work, never staleness. Part of ``base`` (imported there).
"""

from .environment import env

# Seconds a clinic-wide dashboard's adherence figures stay in the cache (0: never kept). What is
# kept is never stale: its key holds the clinic's AdherenceVersion, which every write changes.
DASHBOARD_CACHE_SECONDS = env.int("DASHBOARD_CACHE_SECONDS", default=3600)
# Seconds a drawn set of progress trend charts stays in the cache (0: drawn on every view),
# and a progress page's weekly trend points with their charts and its scored table pages (0:
# computed on every view). Never stale: the charts' key is a digest of everything they are
# drawn from and of the code; the weekly figures' key holds the patient's ProgressVersion,
# which every write they depend on changes.
CHART_CACHE_SECONDS = env.int("CHART_CACHE_SECONDS", default=3600)

# PDF reports (reports/): how long a rendered PDF stays in the cache (its key changes whenever
# what it shows changes, so this only bounds the cache's size), and up to how many sessions a
# progress report renders in the request; above that a Celery worker renders it. With
# REPORT_PRERENDER a worker renders a session's report when its last recording is analysed
# (the treatment variant), so the first click is a cache hit.
REPORT_CACHE_SECONDS = env.int("REPORT_CACHE_SECONDS", default=7 * 24 * 3600)
REPORT_INLINE_MAX_SESSIONS = env.int("REPORT_INLINE_MAX_SESSIONS", default=12)
REPORT_PRERENDER = env.bool("REPORT_PRERENDER", default=True)
# Pre-rendering is only a cache: it has a queue of its own, which a worker at idle CPU priority
# consumes (README "Sizing"), so it never takes a core from page views or analyses. A job still
# queued after REPORT_PRERENDER_EXPIRES seconds is dropped: the report renders on first click.
REPORT_PRERENDER_QUEUE = "prerender"
REPORT_PRERENDER_EXPIRES = env.int("REPORT_PRERENDER_EXPIRES", default=3600)
CELERY_TASK_ROUTES = {"reports.tasks.prerender_session_report": {"queue": REPORT_PRERENDER_QUEUE}}
