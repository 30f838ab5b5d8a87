"""User functions of the same file that a site's function calls: converted with it.

`def f(x): return _norm(x) * 2` wrapped in numpy_function converts only if `_norm` does, for
the argument facts at that call. The helper gets a TF copy `_norm_tf` next to it (the
original stays for its other callers); a helper called with facts that need two different
rewrites is refused rather than guessed.
"""
from __future__ import annotations

import re

import gast

from . import facts as F
from .edits import Edit, apply_edits, fresh_name, names_in
from .facts import Kind
from .lower import FunctionLowering, Inconsistent, Lowered, Refusal
from .nested import bound_arguments
from .parse import Span

MAX_DEPTH = 4


class FileHelpers:
    """The `context` a site's lowering uses to reach helpers defined in the file."""

    def __init__(self, module, resolver, registry=None):
        self.module, self.resolver, self.registry = module, resolver, registry
        self.copies: dict = {}  # helper def -> (name, text)
        self.depth = 0
        self._constants: dict = {}
        self._rebound_names: set | None = None

    def free_fact(self, node):
        """Fact of a module-level constant the function reads (`GAMMA = 0.99`,
        `MEAN = np.array([...], np.float32)`): assigned once at module level, its value
        expression is lowered for its dtype and rank (nothing is run)."""
        definitions = self.resolver.definitions(node)
        if len(definitions) != 1 or node.id in self._rebound():
            return None
        target = definitions[0]
        statement = self.resolver.parents.get(target)
        if not (isinstance(statement, gast.Assign) and statement.targets == [target]
                and self.resolver.parents.get(statement) is self.module.tree):
            return None
        if target in self._constants:
            return self._constants[target]
        self._constants[target] = None  # a constant defined through itself stays unknown
        lowering = FunctionLowering(self.module.tree, self.module.source, self.resolver, self.registry, {},
                                    context=self)
        try:
            fact = lowering.expr(statement.value).fact
        except (Refusal, Inconsistent):
            fact = None
        if lowering.out.refusals or (fact is not None and fact.kind not in (Kind.ARRAY, Kind.SCALAR, Kind.TUPLE)):
            fact = None
        if fact is not None and fact.kind is Kind.ARRAY:
            fact = fact.with_(fresh=False)  # shared by every call: never updated in place
        self._constants[target] = fact
        return fact

    def convert_call(self, lw, node):
        if not isinstance(node.func, gast.Name):
            return None
        helper = self.resolver.function_def(node.func)
        if not isinstance(helper, gast.FunctionDef) or helper is lw.fn:
            return None
        args = helper.args
        if args.vararg or args.kwarg or args.kwonlyargs:
            raise Refusal(node, f"helper `{helper.name}` has a signature that is not rewritten", "RW202")
        if self.depth >= MAX_DEPTH:
            raise Refusal(node, f"helper `{helper.name}` is nested too deeply", "RW202")
        parts, env = bound_arguments(lw, node, helper, f"helper `{helper.name}`")
        defaults = dict(zip([p.id for p in args.args][len(args.args) - len(args.defaults):], args.defaults))
        for name, default in defaults.items():
            if name not in env:
                env[name] = F.constant(default.value) if isinstance(default, gast.Constant) else F.OTHER
        if len(env) != len(args.args):
            raise Refusal(node, f"helper `{helper.name}` is called with too few arguments", "RW202")
        self.depth += 1
        try:
            lowered = FunctionLowering(helper, self.module.source, self.resolver, self.registry, env,
                                       context=self).run()
        finally:
            self.depth -= 1
        if lowered.refusals:
            raise lowered.refusals[0]
        facts = {v.fact for _, v in lowered.returns}
        if len(facts) != 1:
            raise Refusal(node, f"helper `{helper.name}` returns values of different kinds", "RW202")
        lw.out.patterns.update(lowered.patterns)
        (fact,) = facts
        keywords = [None] * len(node.args) + [k.arg for k in node.keywords]
        arguments = ", ".join(f"{k}={v.text}" if k else v.text for k, (_, v) in zip(keywords, parts))
        if not lowered.edits:
            return Lowered(f"{helper.name}({arguments})", fact, any(v.changed for _, v in parts))
        name = self._copy(node, helper, lowered.edits)
        return Lowered(f"{name}({arguments})", fact, True)

    def _copy(self, node, helper, edits) -> str:
        source = self.module.source
        start = source.line_starts[helper.lineno - 1]
        end = source.span(helper).end
        local = [Edit(s.start - start, s.end - start, t) for s, t in edits.items()]
        previous = self.copies.get(helper)
        name = previous[0] if previous else fresh_name(f"{helper.name}_tf", names_in(self.module.tree))
        text = apply_edits(source.text[start:end], local)
        text = re.sub(rf"(\bdef\s+){re.escape(helper.name)}\b", rf"\g<1>{name}", text, count=1)
        if previous is not None and previous[1] != text:
            raise Refusal(node, f"helper `{helper.name}` would need two different rewrites", "RW202")
        self.copies[helper] = (name, text)
        return name

    def _rebound(self) -> set:
        """Module names some code rebinds (`global X` in a function, `X += 1`, loops): not constants."""
        if self._rebound_names is None:
            names = set()
            for n in gast.walk(self.module.tree):
                if isinstance(n, gast.Global):
                    names.update(n.names)
            for statement in self.module.tree.body:
                if isinstance(statement, (gast.AugAssign, gast.For, gast.With, gast.AnnAssign)):
                    names.update(t.id for t in gast.walk(statement) if isinstance(t, gast.Name)
                                 and isinstance(t.ctx, gast.Store))
            self._rebound_names = names
        return self._rebound_names

    def insertions(self) -> dict:
        """Span edits adding each helper copy after its original."""
        source = self.module.source
        out = {}
        for helper, (_, text) in self.copies.items():
            at = source.line_starts[helper.end_lineno]
            nested = self.resolver.enclosing(helper, (gast.FunctionDef, gast.ClassDef)) is not None
            out[Span(at, at)] = ("\n" if nested else "\n\n") + text + "\n"
        return out
