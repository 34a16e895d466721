"""Entry point for ``python -m analysis.core``."""

import sys

from .cli import main

sys.exit(main())
