"""Stage 4, per site — convert: lower a site's function under every input dtype it could have
been given, and group the dtypes by the TF code they need.

Input dtypes come from a declaration (`# rewriter: args=...`, the enclosing tf.function's
`input_signature`); then there is one body. Otherwise every candidate dtype is tried: the ones
that lower to the same TF text share a body, the most common groups each get one (chosen by
`x.dtype` when traced), and every other dtype, including those NumPy cannot return `Tout` for,
runs the original NumPy code through the site's wrapper (see `dispatch.py`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import gast

from . import facts as F
from .facts import Fact, Kind
from .assignments import TooManyAssignments, choose_variants, describe_check, lower_assignments, plausibility
from .helpers import FileHelpers, with_copy_names
from .lower import FunctionLowering, Inconsistent, Refusal
from .parse import ParsedModule
from .resolve import Resolver
from .declarations import declared_inputs, declared_values
from .sites import Site


@dataclass
class Conversion:
    """The outcome for one site: converted with edits, or left with a reason."""

    site: Site
    status: str                   # "converted" | "left"
    reason: str = ""
    code: str = ""
    line: int = 0
    col: int = 0
    edits: list = field(default_factory=list)  # (Span, text) on the file
    patterns: tuple = ()
    assumed: str = ""             # how the input dtypes were settled
    function_text: str = ""       # the TF function as emitted (for reports and the decorator)
    inputs: list = field(default_factory=list)  # facts of the inputs the rewrite was made for
    variants: list = field(default_factory=list)  # per native body, the input facts --verify may probe it with
    verification: dict | None = None  # figures from --verify
    notes: list = field(default_factory=list)  # loops kept as loops, and why
    fewer_bodies: list = field(default_factory=list)  # Emitted with fewer dtype bodies, for --verify to fall back on
    lowering: "SiteLowering | None" = None  # what the emit stage writes a wrapped function's site from


@dataclass
class SiteLowering:
    """A wrapped function's site, lowered: its native bodies (`Variant`s, most common first)
    and what the emit stage needs to write them into the file."""

    variants: list
    parameters: list               # the wrapped function's parameter names taking the inputs
    open_inputs: list              # positions of the inputs nothing declares (chosen when traced)
    shared: bool = False           # other modules may use the function: copied, never edited in place
    wrapped: object = None         # for a NumPy function wrapped directly, its stand-in `def` module


def convert_site(site: Site, module: ParsedModule, resolver: Resolver, registry, shared=None) -> Conversion:
    """`shared(name)`: whether other modules may use function `name` (never rewritten in place)."""
    def left(reason, code, node=None):
        node = node if node is not None else site.call
        return Conversion(site, "left", reason, code, getattr(node, "lineno", site.line),
                          getattr(node, "col_offset", site.col - 1) + 1)

    if site.reason:
        return left(site.reason, site.code)
    if site.kind == "map_fn":
        return _convert_map_fn(site, module, resolver, left)
    if site.kind == "range_loop":
        return _convert_range_loop(site, module, resolver, left)
    try:
        declared = declared_inputs(site, module, resolver)
    except ValueError as exc:
        return left(f"`# rewriter: args=` comment: {exc}", "RW107")
    if len(declared) != len(site.inputs):
        return left("`# rewriter: args=` declares a different number of inputs than the site has", "RW107")
    original = (module, resolver)
    if site.numpy_target:
        module, resolver, site.target = _numpy_target(site)
    target = site.target
    params = _parameters(target, site)
    if params is None:
        return left("the wrapped function's parameters do not match the site's inputs", "RW106", target)
    fixed = _bound_facts(site, params, FileHelpers(*original, registry))
    fixed.update(declared_values(site, original[0]))  # `self.threshold:float32[]` in the comment
    open_inputs = [i for i, fact in enumerate(declared) if fact is None or fact.rank is None]
    private = _private_inputs(site)

    helpers = FileHelpers(module, resolver, registry)
    nested = isinstance(target, gast.FunctionDef) and resolver.enclosing(target, (gast.FunctionDef,)) is not None

    def lower(facts):
        env = dict(fixed)
        env.update({name: _as_given(fact, site, private=i in private)
                    for i, (name, fact) in enumerate(zip(params["inputs"], facts))})
        helpers.used = set()
        lowered = FunctionLowering(target, module.source, resolver, registry, env, context=helpers).run()
        if lowered.graph_branches and nested:
            raise Refusal(target, f"the nested def's {lowered.graph_branches[0].split(': ', 1)[1]}: only AutoGraph "
                                  "compiles it, and to_graph on a def that a traced enclosing function defines would "
                                  "convert it a second time (ConversionError)", "RW111")
        lowered.helper_copies = frozenset(helpers.used)
        tout = site.tout_for(facts)
        edits = _output_edits(site, lowered, module, tout)
        edits.update(helpers.insertions({p: p for p in sorted(lowered.helper_copies)}))
        if site.result_rank is not None and not lowered.refusals \
                and any(value.fact.rank != site.result_rank for _, value in lowered.returns):
            raise Inconsistent("the result's rank differs from the program's `set_shape`")
        return lowered, edits

    try:
        groups, refusals, inconsistencies = lower_assignments(lower, declared, open_inputs)
    except TooManyAssignments as exc:
        return left(f"{exc}: declare them with `# rewriter: args=...` or an input_signature", "RW110")
    if not groups:
        if refusals:
            refusal = refusals[0][1]
            return left(refusal.reason, refusal.code, refusal.node)
        combo, why = min(inconsistencies, key=lambda item: plausibility(item[0])) if inconsistencies else ((), "")
        inputs = _named(combo, params, open_inputs)
        return left(f"the function cannot return the declared `Tout` ({why}{'; e.g. with ' + inputs if inputs else ''}): "
                    "declare the inputs with `# rewriter: args=...`", "RW108")
    variants = _with_all_copies(choose_variants(groups, declared, open_inputs, params["inputs"]), helpers)
    lowering = SiteLowering(variants, params["inputs"], open_inputs,
                            shared=bool(shared and shared(getattr(site.target, "name", ""))),
                            wrapped=module if site.numpy_target else None)
    return Conversion(site, "converted", line=site.line, col=site.col,
                      patterns=tuple(sorted({p for v in variants for p in v.lowered.patterns})),
                      assumed=_assumed(variants, params["inputs"], open_inputs, inline=bool(site.numpy_target)),
                      inputs=variants[0].facts,
                      notes=site_notes(site, variants), lowering=lowering)


GRADIENT_NOTE = "gradients now flow through this site (the original's {kind} blocked them)"


def site_notes(site, variants) -> list:
    """The notes of a converted site's bodies (loops kept, and why) and, for a body that calls
    TensorFlow itself, that gradients now flow where the wrapper blocked them: numpy_function
    has no gradient, and py_function loses it at `.numpy()` or a NumPy call."""
    notes = list(dict.fromkeys(n for v in variants for n in v.lowered.notes))
    bodies = [v.lowered for v in variants]
    blocked = site.kind in ("numpy_function", "py_func") or any(b.leaves_tensorflow for b in bodies)
    touts = [site.tout_for(v.facts) for v in variants] or [site.tout or []]
    differentiable = any(dtype is not None and dtype.kind in "fc" for tout in touts for dtype in tout)
    if blocked and differentiable and any(b.tensorflow_calls for b in bodies):
        notes.append(GRADIENT_NOTE.format(kind=site.kind))
    branches = graph_branches(variants)
    if branches:
        notes.append(f"converted by AutoGraph at import (tf.autograph.to_graph): {'; '.join(branches)}; only "
                     "AutoGraph compiles that, and a Keras layer or a Dataset.map built inside a tf.function "
                     "would trace the function unconverted")
    return notes


def graph_branches(variants) -> list:
    """Where the bodies branch or loop on tensors ("line N: ..."), which has AutoGraph convert
    the emitted function when it is defined (`lowered.AUTOGRAPH_DECORATOR`)."""
    return sorted({b for v in variants for b in v.lowered.graph_branches})


def _as_given(fact, site, private: bool):
    """An input as the wrapped function receives it: py_function hands it EagerTensors, whose
    operators follow TF's rules until `.numpy()`; numpy_function and py_func NumPy arrays
    (`hasattr(x, "numpy")` tells them apart), which
    the function may update in place when they are its own (`_private_inputs`)."""
    if fact is None or fact.kind is not Kind.ARRAY:
        return fact
    return fact.with_(eager=site.kind == "py_function", fresh=fact.fresh or private)


def _with_all_copies(variants, helpers):
    """The variants, each adding every helper copy some variant calls, named now in the order
    the variants call them: the file holds them all once, whichever body a call takes."""
    used = [p for v in variants for p in sorted(v.lowered.helper_copies, key=_copy_number)]
    names = helpers.named(dict.fromkeys(used))
    every = helpers.insertions(names)
    for variant in variants:
        own = helpers.insertions({p: p for p in variant.lowered.helper_copies})
        variant.edits = {**{s: with_copy_names(t, names) for s, t in variant.edits.items() if s not in own},
                         **every}
    return variants


def _copy_number(placeholder) -> int:
    return int(placeholder.strip("_").rsplit("_", 1)[1])


def _numpy_target(site):
    """A NumPy function wrapped directly (`tf.numpy_function(np.kron, [a, b], ...)`) is
    lowered as `def kron(a, b): return numpy.kron(a, b)`, named as NumPy names its parameters."""
    from .parse import parse

    names = ", ".join(_numpy_parameters(site))
    text = f"import numpy\n\n\ndef {site.numpy_target.rsplit('.', 1)[1]}({names}):\n" \
           f"    return {site.numpy_target}({names})\n"
    module = parse(text, "<wrapped NumPy function>")
    return module, Resolver(module), module.tree.body[1]


def _numpy_parameters(site) -> list:
    import importlib
    import inspect

    head, *rest = site.numpy_target.split(".")
    value = importlib.import_module(head)
    for attr in rest:
        value = getattr(value, attr)
    try:
        names = [p.name for p in inspect.signature(value).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][:len(site.inputs)]
    except (TypeError, ValueError):
        names = []
    if len(names) != len(site.inputs) or len(set(names)) != len(names):
        names = [f"input{i}" for i in range(len(site.inputs))]
    return names


def _assumed(variants, names, open_inputs, inline=False) -> str:
    """How the input dtypes were settled, per input, for reports."""
    if inline and not open_inputs:
        return "inputs: " + ", ".join(str(f.dtype) for f in variants[0].facts)
    def describe(i, name, fact):
        if i not in open_inputs:
            return f"{name}: {fact.dtype} (declared)"
        return f"{name}: {' | '.join(describe_check(*v.checks[name]) for v in variants)} " \
               "(chosen when traced; others run the original)"

    return ", ".join(describe(i, n, f) for i, (n, f) in enumerate(zip(names, variants[0].facts)))


def _named(combo, params, open_inputs) -> str:
    return ", ".join(f"{params['inputs'][i]}: {dtype} of rank {rank}" for i, (dtype, rank) in zip(open_inputs, combo))


def _convert_map_fn(site, module, resolver, left) -> Conversion:
    from .edits import Edit
    from .vectorize import vectorize_map_fn

    try:
        text, how = vectorize_map_fn(site, module, resolver)
        alone, _ = vectorize_map_fn(site, module, resolver, elems=MAPPED)
    except Refusal as refusal:
        return left(refusal.reason, refusal.code, refusal.node)
    span = module.source.span(site.call)
    return Conversion(site, "converted", line=site.line, col=site.col, edits=[Edit(span.start, span.end, text)],
                      patterns=(), assumed=how, function_text=f"lambda {MAPPED}: {alone}")


def _convert_range_loop(site, module, resolver, left) -> Conversion:
    from .edits import Edit
    from .range_loops import vectorize_range_loop

    try:
        text = vectorize_range_loop(site, module, resolver)
    except Refusal as refusal:
        return left(refusal.reason, refusal.code, refusal.node)
    loop = site.call
    start, end = module.source.line_starts[loop.lineno - 1], module.source.line_starts[loop.end_lineno]
    return Conversion(site, "converted", line=site.line, col=site.col, edits=[Edit(start, end, text)],
                      assumed="all iterations at once", function_text=text)


MAPPED = "__mapped"
"""Stand-in name for a map_fn's elements in `Conversion.function_text` (used by --verify)."""


def _parameters(target, site):
    """Parameter names split into the ones partial binds, the inputs, and the rest."""
    args = target.args
    if args.vararg or args.kwarg or args.kwonlyargs:
        return None
    if isinstance(target, gast.Lambda) and args.defaults:
        return None  # an inlined lambda has no place for its defaults
    names = [a.id for a in args.args]
    if site.method_of is not None:
        names = names[1:]
    bound = names[: len(site.bound_args)]
    rest = names[len(site.bound_args):]
    rest = [n for n in rest if n not in site.bound_kwargs]
    inputs = rest[: len(site.inputs)]
    if len(inputs) != len(site.inputs):
        return None
    defaults = dict(zip(names[len(names) - len(args.defaults):], args.defaults))
    if any(n not in defaults for n in rest[len(site.inputs):]):
        return None
    return {"bound": bound, "inputs": inputs, "defaults": {n: defaults[n] for n in rest[len(site.inputs):]}}


def _private_inputs(site) -> set:
    """Positions of the inputs the wrapped function receives as arrays of its own, which it may
    update in place (`x[x < 0] = 0`) without anyone else seeing it: the inputs of numpy_function
    (and v1 py_func), each passed once. (py_function passes tensors, which cannot be updated in
    place; their `.numpy()` is a copy, see `calls._method_call`.)

    Eagerly, numpy_function hands its function a copy of each input. In a graph (tf.function,
    Dataset.map) TF 2.21 hands it the input tensor's own buffer instead, so the original's
    update also overwrites that tensor: a captured constant, a cached or repeated Dataset
    element, even a variable then change for later readers. That breaks TF's rule that tensors
    are immutable, and its outcome depends on the order ops run in; the rewrite gives the
    function's result exactly and leaves the input tensor as it was, as eager execution does.
    An input passed twice (`[a, a]`) reaches the function as two names of one buffer in a
    graph (eagerly, two copies), so neither counts as private. Inputs that are different
    expressions of one buffer (`[a, tf.reshape(a, [-1])]`) share it in a graph too; that
    cannot be seen in the source, and the rewrite gives them eager execution's two copies."""
    if site.kind not in ("numpy_function", "py_func") or site.numpy_target:
        return set()
    texts = [gast.dump(node) for node in site.inputs]
    return {i for i, text in enumerate(texts) if texts.count(text) == 1}


def _bound_facts(site, params, constants) -> dict:
    """Facts of parameters given by functools.partial or left at their defaults: literals, or
    module-level constants (`partial(crop, size=CROP)`)."""
    env = {}
    values = list(zip(params["bound"], site.bound_args)) + list(site.bound_kwargs.items()) + list(
        params["defaults"].items())
    for name, node in values:
        if isinstance(node, gast.Constant):
            env[name] = F.constant(node.value)
        elif isinstance(node, gast.Name):
            env[name] = constants.free_fact(node) or F.OTHER
        else:
            env[name] = F.OTHER
    if site.method_of is not None:
        env[site.target.args.args[0].id] = F.OTHER
    return env


def _output_edits(site, lowered, module, tout) -> dict:
    """Check the results against `tout` (the site's `Tout` for these inputs) and make them
    tensors of exactly `tout`.

    numpy_function fails on any dtype mismatch (so that input assignment is impossible);
    py_function converts NumPy results to Tout, so casts are added there (a TF tensor it
    returns must already be of Tout). Python numbers (and the
    int32 tensors that hold shape values) are made tensors of Tout, as the wrapper did."""
    edits = dict(lowered.edits)
    expected = len(tout)
    if any(dtype is None for dtype in tout):
        raise Inconsistent("`Tout` is the dtype of an input whose dtype is unknown")
    if not lowered.returns:
        raise Inconsistent("the function returns nothing")
    for node, value in lowered.returns:
        outputs = value.items if site.tout_is_list and value.items is not None else [value]
        facts = [o.fact for o in outputs]
        if site.tout_is_list and value.fact.kind is Kind.TUPLE and value.items is None:
            facts = list(value.fact.items)
        if len(facts) != expected:
            raise Inconsistent("the number of outputs differs from Tout")
        for output, fact, dtype in zip(outputs, facts, tout):
            produced = _produced_dtype(fact)
            numbers = fact.kind is Kind.SCALAR
            if produced is None or (produced == dtype and not numbers):
                continue
            if produced != dtype and (site.kind != "py_function" or fact.eager):
                # py_function converts a NumPy result to Tout, but raises on a TF tensor's
                raise Inconsistent("output dtype differs from Tout")
            if numbers and not fact.tensor:
                text = f"tf.constant({output.text}, {F.tf_name(dtype)})"
            elif numbers and fact.dtype == dtype:
                continue
            else:
                text = f"tf.cast({output.text}, {F.tf_name(dtype)})"
            if len(outputs) != len(facts):
                raise Refusal(node, "cannot make this output a tensor of Tout")
            span = module.source.span(output_node(node, outputs.index(output), len(outputs)))
            edits = {s: t for s, t in edits.items() if not (span.start <= s.start and s.end <= span.end)}
            edits[span] = text
    return edits


def output_node(node, index, count):
    """The expression of one output: the returned tuple's element, or the value itself."""
    if count > 1 and isinstance(node, (gast.Tuple, gast.List)) and len(node.elts) == count:
        return node.elts[index]
    if count > 1:
        raise Refusal(node, "cannot make this output a tensor of Tout")
    return node


def _produced_dtype(fact: Fact):
    if fact.kind is Kind.ARRAY:
        return fact.dtype
    if fact.kind is Kind.SCALAR and fact.pytype is not None:
        return F.as_dtype(fact.pytype)
    return None


