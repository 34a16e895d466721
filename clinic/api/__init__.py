"""The REST API's shared parts (authentication, permissions, errors, pagination, throttles) and
the clinic's endpoints (therapists, clinic scoring settings). Each app's endpoints are in its
own ``api`` module; ``config/api_router.py`` registers them all under /api/v1/."""
