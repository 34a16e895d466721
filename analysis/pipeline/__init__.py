"""The recording pipeline: from a stored C3D file to stored results, one job per module.

- ``queue``: send recordings to the worker (upload, re-analysis, the sweeper), wait for them;
- ``worker``: claim a recording, run the numeric core on it, fail it with a human reason;
- ``inputs``: what the core is given for a patient (protocol, MVC, channel map, read limits);
- ``store``: write one analysis (channels, contractions) and make it current, atomically;
- ``notify``: tell the session's open pages over the channel layer;
- ``stateless``: analyse an uploaded file and store nothing.

``analysis.tasks`` only adapts Celery to ``worker`` and ``queue``.
"""
