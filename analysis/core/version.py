"""The numeric core's version, stored with every result document.

Its own module so the package's ``__init__`` and :mod:`.analysis` both read it without
either importing the other.
"""

__version__ = "1.2.0"
