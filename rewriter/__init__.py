"""rewriter: NumPy code inside TensorFlow programs, rewritten to native TF and verified.

Importing this package is cheap: TensorFlow is imported only by `verify` and
`autograph_numpy`, which load on first use.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"


class RewriterWarning(UserWarning):
    """A conversion fell back to the original code; the message says what and why."""


_LAZY = {
    "rewrite_source": ".pipeline", "RewriteOptions": ".pipeline",
    "verify": ".verification", "verify_distribution": ".verification", "VerifyResult": ".verification",
    "autograph_numpy": ".decorator", "CustomGradientOrder": ".decorator",
}


def __getattr__(name):
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name], __name__)
        return getattr(module, name)
    raise AttributeError(f"module 'rewriter' has no attribute {name!r}")


__all__ = ["RewriterWarning", *_LAZY]
