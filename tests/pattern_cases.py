"""The pattern self-test machinery lives in the package (`rewriter.selftest`), so a project's own
patterns are tested the same way (`rewriter patterns --test`)."""
from rewriter.selftest import *  # noqa: F401,F403
from rewriter.selftest import __all__  # noqa: F401
