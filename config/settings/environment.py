"""Where every settings module reads its environment from, set up once.

django-environ's ``env`` (with the repository's ``.env`` file loaded, when there is one), the
repository root and the folder the embedded defaults keep their data in. ``base`` and
``security`` both read variables, so this is their shared first step rather than part of either.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))
# Where the embedded defaults keep their SQLite database, media and collected static files.
VAR_DIR = Path(env("MYOCLINIC_VAR_DIR", default=str(BASE_DIR / "var")))
