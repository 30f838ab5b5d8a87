"""What every `rewriter` command shares: the exit codes, the [tool.rewriter] settings under the
flags, the rule codes select/ignore may name, and the files a run takes.
"""
from __future__ import annotations

import os
import sys

EXIT_OK, EXIT_CHANGES, EXIT_ERROR = 0, 1, 2


def load_settings(args, keys, known_codes):
    """The [tool.rewriter] settings for the first path, with the flags' values on top;
    `known_codes()` gives the rule codes select/ignore may name (a prefix of one counts)."""
    from .config import ConfigError, load_config

    try:
        config = load_config(args.paths[0])
        config = config.merge({k: getattr(args, k, None) for k in keys})
        if config.patterns:
            config.registry()  # fail early, with the module's name, on a broken pattern module
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    codes = known_codes(config)
    unknown = sorted(p for p in config.select | config.ignore if not any(c.startswith(p) for c in codes))
    if unknown:
        families = sorted({c.rstrip("0123456789") for c in codes})
        print(f"error: select/ignore: no rule code starts with {', '.join(map(repr, unknown))} "
              f"(codes start with {', '.join(families)}; `rewriter patterns` lists the pattern codes)",
              file=sys.stderr)
        return None
    return config


def known_codes(config) -> set:
    """Codes select/ignore can name, for fix and check alike ([tool.rewriter] serves both):
    site kinds, the patterns' rule codes and the check rules."""
    from .check import RULES
    from .pipeline import SITE_CODES

    return set(SITE_CODES.values()) | {p.code for p in config.registry()} | set(RULES)


def selected_files(args, config):
    """Files under the paths given, less what [tool.rewriter] include/exclude leave out; a file
    named on the command line is always taken (as ruff and black do)."""
    from .files import discover

    files, problems = discover(args.paths, exclude=args.exclude)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    named = {os.path.realpath(p) for p in args.paths if os.path.isfile(p)}
    return [f for f in files if os.path.realpath(f) in named or config.selects(f)], problems
