"""The options every compiled (numba) loop of the core is built with.

``cache=True``: later processes load the machine code from ``__pycache__`` or
``NUMBA_CACHE_DIR``; ``nogil``: a worker thread's loop never holds the interpreter;
``error_model="numpy"``: division by zero gives inf/NaN as numpy does, not an exception.
"""

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}
