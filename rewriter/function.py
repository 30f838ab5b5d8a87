"""Lower one whole function under given parameter facts: the entry the decorator and the
pattern tests use (the CLI reaches the same lowering through sites)."""
from __future__ import annotations

from dataclasses import dataclass

import gast

from . import helper_source, registry as registry_module
from .edits import Edit, apply_edits
from .lower import FunctionLowering, Inconsistent, Refusal
from .parse import parse
from .resolve import Resolver


@dataclass
class ConvertedFunction:
    text: str          # the rewritten def, as source
    patterns: tuple
    returns: list      # facts of the returned values


def convert_function(source_text: str, name: str, params: dict, registry=None):
    """The TF version of def `name` in `source_text`, its parameters having `params` facts.

    Raises Refusal (with node and reason) when it has no faithful lowering, Inconsistent when
    NumPy itself rejects the function for these facts."""
    module = parse(source_text)
    resolver = Resolver(module)
    target = next((n for n in gast.walk(module.tree) if isinstance(n, gast.FunctionDef) and n.name == name), None)
    if target is None:
        raise LookupError(f"no function named {name}")
    lowered = FunctionLowering(target, module.source, resolver, registry or registry_module.default(),
                               dict(params)).run()
    if lowered.refusals:
        raise lowered.refusals[0]
    source = module.source
    start = source.line_starts[target.lineno - 1]
    if target.decorator_list:
        start = source.line_starts[target.decorator_list[0].lineno - 1]
    end = source.span(target).end
    local = [Edit(s.start - start, s.end - start, t) for s, t in lowered.edits.items()]
    text = helper_source.with_definitions(apply_edits(source.text[start:end], local) + "\n")
    return ConvertedFunction(text, tuple(sorted(lowered.patterns)), [v.fact for _, v in lowered.returns])


__all__ = ["ConvertedFunction", "convert_function", "Refusal", "Inconsistent"]
