"""rewriter: NumPy code inside TensorFlow programs, rewritten to native TF and verified.

Importing this package is cheap: TensorFlow is imported only by `verify` and
`autograph_numpy`, which load on first use.
"""
from __future__ import annotations

__version__ = "0.1.0"


class RewriterWarning(UserWarning):
    """A conversion fell back to the original code; the message says what and why."""


def __getattr__(name):
    if name in ("rewrite_source", "RewriteOptions"):
        from . import pipeline

        return getattr(pipeline, name)
    if name in ("verify", "VerifyResult"):
        from . import verify as module

        return getattr(module, name)
    if name == "autograph_numpy":
        from .decorator import autograph_numpy

        return autograph_numpy
    raise AttributeError(f"module 'rewriter' has no attribute {name!r}")


__all__ = ["RewriterWarning", "rewrite_source", "RewriteOptions", "verify", "VerifyResult", "autograph_numpy"]
