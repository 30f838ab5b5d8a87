"""TensorFlow without its start-up noise, for the commands that need it (show, bench, --verify).

absl's and oneDNN's start-up lines are written by C++ straight to file descriptor 2 before
Python's logging exists, so TF_CPP_MIN_LOG_LEVEL does not stop them (TF 2.21); and pfor logs
its fallbacks at ERROR level while --verify differentiates user code. None of it is the
user's answer. Importing this module does not import TensorFlow.
"""
from __future__ import annotations

import os
import sys


def import_tensorflow_quietly():
    """Import TensorFlow with file descriptor 2 pointed at /dev/null, and its Python logger at
    CRITICAL; a failing import still raises, with its message."""
    if "tensorflow" not in sys.modules:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 2)
                import tensorflow  # noqa: F401
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    import tensorflow as tf

    tf.get_logger().setLevel("CRITICAL")
