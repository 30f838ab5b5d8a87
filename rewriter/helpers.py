"""User functions of the same file that a site's function calls: converted with it.

`def f(x): return _norm(x) * 2` wrapped in numpy_function converts only if `_norm` does, for
the argument facts at that call. The helper gets a TF copy `_norm_tf` next to it (the
original stays for its other callers). Facts that need another rewrite of the same helper (a
row of a batch where another body passes a scalar, float64 where another passes float32) get
another copy, `_norm_tf2`: one site's bodies for different input ranks each call their own.
While the site's bodies are lowered a copy is called by a placeholder (`__RW_COPY_3__`);
`named` gives the copies the chosen bodies call their names, in order, once they are chosen.
"""
from __future__ import annotations

import re

import gast

from . import facts as F
from .edits import Edit, apply_edits, fresh_name, names_in
from .facts import Kind
from .lower import FunctionLowering, Inconsistent, Lowered, Refusal
from .lowered import AUTOGRAPH_DECORATOR
from .nested import bound_arguments
from .parse import Span

MAX_DEPTH = 4


class FileHelpers:
    """The `context` a site's lowering uses to reach helpers defined in the file."""

    def __init__(self, module, resolver, registry=None):
        self.module, self.resolver, self.registry = module, resolver, registry
        self.copies: dict = {}  # (helper def, its rewritten text) -> placeholder of the copy
        self.used: set = set()  # placeholders of the copies the body lowered last calls
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
        edits = lowered.edits
        if lowered.graph_branches:  # converted on its own: callers traced without AutoGraph do not convert it
            line = self.module.source.line_starts[helper.lineno - 1]
            edits = {Span(line, line): self.module.source.indent_of_line(helper.lineno) + AUTOGRAPH_DECORATOR + "\n",
                     **edits}
        name = self._copy(helper, edits)
        self.used.add(name)
        return Lowered(f"{name}({arguments})", fact, True)

    def _copy(self, helper, edits) -> str:
        """The name of the copy of `helper` with `edits`: the one made before, or a new one."""
        source = self.module.source
        start = source.line_starts[helper.lineno - 1]
        end = source.span(helper).end
        local = [Edit(s.start - start, s.end - start, t) for s, t in edits.items()]
        key = (helper, apply_edits(source.text[start:end], local))
        if key not in self.copies:
            self.copies[key] = f"__RW_COPY_{len(self.copies)}__"
        return self.copies[key]

    def named(self, placeholders) -> dict:
        """placeholder -> name, for the copies `placeholders` (in the order given): `_norm_tf`,
        `_norm_tf2`, ... per helper, none a name of the file."""
        helpers = {placeholder: helper for (helper, _), placeholder in self.copies.items()}
        taken = names_in(self.module.tree)
        return {p: fresh_name(f"{helpers[p].name}_tf", taken) for p in placeholders}


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

    def insertions(self, names: dict) -> dict:
        """Span edits adding the copies `names` holds (placeholder -> name) after their originals."""
        source = self.module.source
        texts: dict = {}
        order = {placeholder: k for k, placeholder in enumerate(names)}
        for (helper, text), placeholder in sorted(self.copies.items(), key=lambda c: order.get(c[1], -1)):
            if placeholder in names:
                renamed = re.sub(rf"(\bdef\s+){re.escape(helper.name)}\b", rf"\g<1>{names[placeholder]}", text,
                                 count=1)
                texts.setdefault(helper, []).append(with_copy_names(renamed, names))
        out = {}
        for helper, copies in texts.items():
            at = source.line_starts[helper.end_lineno]
            nested = self.resolver.enclosing(helper, (gast.FunctionDef, gast.ClassDef)) is not None
            gap = "\n" if nested else "\n\n"
            out[Span(at, at)] = "".join(gap + text + "\n" for text in copies)
        return out


def with_copy_names(text: str, names: dict) -> str:
    """`text` calling the helper copies by their names (`FileHelpers.named`)."""
    return _PLACEHOLDER.sub(lambda m: names.get(m.group(0), m.group(0)), text)


_PLACEHOLDER = re.compile(r"__RW_COPY_\d+__")
