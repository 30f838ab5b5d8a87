"""Stage 3 — find sites: `tf.numpy_function` / `tf.py_function` / `tf.compat.v1.py_func` calls,
the function each one wraps, its inputs and declared output dtypes.

A site is only as good as what can be proven about it: when the wrapped function can't be
found (an import from another module, a value computed at run time), the site records why
and is left alone.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import gast

from .custom_gradients import custom_gradient_around
from .declarations import InputDtype, bind_arguments, read_tout, signature_fact
from .parse import ParsedModule
from .resolve import Resolver

WRAPPERS = {
    "tensorflow.numpy_function": "numpy_function",
    "tensorflow.compat.v1.numpy_function": "numpy_function",
    "tensorflow.compat.v2.numpy_function": "numpy_function",
    "tensorflow.py_function": "py_function",
    "tensorflow.compat.v1.py_function": "py_function",
    "tensorflow.compat.v2.py_function": "py_function",
    "tensorflow.compat.v1.py_func": "py_func",
    "tensorflow.py_func": "py_func",
}
PARAMS = {
    "numpy_function": ("func", "inp", "Tout", "stateful", "name"),
    "py_function": ("func", "inp", "Tout", "name"),
    "py_func": ("func", "inp", "Tout", "stateful", "name"),
}
OFF_COMMENT = re.compile(r"#\s*rewriter:\s*off\b")


@dataclass
class Site:
    call: gast.Call
    kind: str
    func: object = None           # the `func` argument expression
    target: object = None         # FunctionDef or Lambda it resolves to
    bound_args: list = field(default_factory=list)   # functools.partial positional args
    bound_kwargs: dict = field(default_factory=dict)
    method_of: object = None      # ClassDef when the target is a method reached through `self`
    inputs: list | None = None    # expressions of `inp`
    tensor_inputs: list = field(default_factory=list)  # per input: provably a tensor already (no conversion needed)
    traced: bool = False          # the call only ever runs in a graph (inside a tf.function or a Dataset.map function)
    tout: list | None = None      # NumPy dtypes of Tout, or InputDtype where it is an input's dtype
    tout_is_list: bool = False
    result_rank: int | None = None  # from `y.set_shape([...])` on the site's result: a declaration
    elems: object = None          # map_fn: the mapped tensor expression
    elems_declared: object = None  # map_fn: the Fact the program declares for elems (an input signature)
    numpy_target: str = ""        # the wrapped function is NumPy's own (`np.kron`)
    custom_gradient: object = None  # CustomGradient: the call is the forward of a @tf.custom_gradient function
    reason: str = ""              # why the site cannot be rewritten, when it cannot
    code: str = ""

    def tout_for(self, inputs) -> list:
        """Tout's NumPy dtypes for these inputs (facts or arrays: their `dtype`), None where it
        follows an input of unknown dtype."""
        return [getattr(inputs[d.index], "dtype", None) if isinstance(d, InputDtype) else d for d in self.tout]

    @property
    def tout_follows_inputs(self) -> bool:
        return any(isinstance(d, InputDtype) for d in self.tout or ())

    @property
    def line(self) -> int:
        return self.call.lineno

    @property
    def col(self) -> int:
        return self.call.col_offset + 1


MAP_FNS = {"tensorflow.map_fn", "tensorflow.compat.v1.map_fn", "tensorflow.compat.v2.map_fn"}
MAP_FN_PARAMS = ("fn", "elems", "dtype", "parallel_iterations", "back_prop", "swap_memory", "infer_shape",
                  "name", "fn_output_signature")


def find_sites(module: ParsedModule, resolver: Resolver) -> list:
    """Every site in the module, except those a `# rewriter: off` comment turns off."""
    sites = []
    off = {n for n, line in enumerate(module.source.lines, 1) if OFF_COMMENT.search(line)}
    for node in gast.walk(module.tree):
        if off and isinstance(node, (gast.Call, gast.For)) and turned_off(node, module, resolver, off):
            continue
        if isinstance(node, gast.Call):
            qualname = resolver.qualname(node.func) or ""
            kind = WRAPPERS.get(qualname)
            if kind:
                sites.append(_describe(node, kind, resolver))
            elif qualname in MAP_FNS:
                sites.append(_describe_map_fn(node, resolver))
        elif isinstance(node, gast.For) and isinstance(node.iter, gast.Call) and isinstance(node.target, gast.Name) \
                and resolver.qualname(node.iter.func) == "tensorflow.range" and not node.orelse:
            sites.append(Site(node, "range_loop"))
    return sorted(sites, key=lambda s: (s.call.lineno, s.call.col_offset))


def turned_off(node, module: ParsedModule, resolver: Resolver, off: set) -> bool:
    """`# rewriter: off` (on the lines `off`) on the code's own lines, on a comment line right
    above them, or on the `def` line of a function around them."""
    lines = module.source.lines
    first = node.lineno
    candidates = list(range(first, (node.body[0].lineno if isinstance(node, gast.For) else node.end_lineno) + 1))
    if first > 1 and lines[first - 2].lstrip().startswith("#"):
        candidates.append(first - 1)
    function = resolver.enclosing(node, (gast.FunctionDef,))
    while function is not None:
        candidates.append(function.lineno)
        function = resolver.enclosing(function, (gast.FunctionDef,))
    return not off.isdisjoint(candidates)


def _describe_map_fn(call, resolver) -> Site:
    """A `tf.map_fn(fn, elems, ...)` call: vectorizable unless its output is ragged, sparse or
    strings (per-element decoding of variable-size data stays a map)."""
    site = Site(call, "map_fn")
    args = bind_arguments(call, MAP_FN_PARAMS)
    if args is None or not {"fn", "elems"} <= args.keys():
        return _left(site, "the call's arguments are not written out (fn, elems)", "RW101")
    site.func, site.elems = args["fn"], args["elems"]
    site.elems_declared = signature_fact(site.elems, resolver)
    if isinstance(site.elems, (gast.Tuple, gast.List, gast.Dict)):
        return _left(site, "mapping over a structure of tensors is not vectorized yet", "RW303")
    for key in ("dtype", "fn_output_signature"):
        spec = args.get(key)
        if spec is None:
            continue
        for item in (spec.elts if isinstance(spec, (gast.Tuple, gast.List)) else [spec]):
            name = resolver.qualname(item.func if isinstance(item, gast.Call) else item) or ""
            if name.endswith(("RaggedTensorSpec", "SparseTensorSpec", ".string")) or not name.startswith("tensorflow."):
                return _left(site, f"`{key}=` is not a plain dtype (ragged, sparse or string output stays a map)",
                             "RW304")
    return site


def _describe(call, kind, resolver) -> Site:
    site = Site(call, kind)
    args = bind_arguments(call, PARAMS[kind])
    if args is None or not {"func", "inp", "Tout"} <= args.keys():
        return _left(site, "the call's arguments are not written out (func, inp, Tout)", "RW101")
    site.func = args["func"]
    if not isinstance(args["inp"], (gast.List, gast.Tuple)):
        return _left(site, "`inp` is not a list literal, so the number of inputs is unknown", "RW102")
    if any(isinstance(e, gast.Starred) for e in args["inp"].elts):
        return _left(site, "`inp` unpacks a sequence, so the number of inputs is unknown", "RW102")
    site.inputs = list(args["inp"].elts)
    if _gradient_overridden(call, resolver):
        return _left(site, "the op's gradient is overridden (`gradient_override_map`): the rewrite has no op to "
                           "override, so autodiff would replace the registered gradient (a straight-through "
                           "estimator would lose its gradient)", "RW112")
    site.custom_gradient = custom_gradient_around(call, site.inputs, resolver)
    site.traced = _always_traced(call, resolver)
    site.tensor_inputs = [is_tensor(e, resolver) or signature_fact(e, resolver) is not None for e in site.inputs]
    read = read_tout(args["Tout"], resolver, site.inputs)
    if read is None:
        return _left(site, "`Tout` is not a list of dtypes this tool can read", "RW103")
    site.tout_is_list, site.tout = read
    site.result_rank = _set_shape_rank(call, resolver)
    _find_target(site, resolver)
    return site


def is_tensor(node, resolver) -> bool:
    if isinstance(node, gast.Call):
        name = resolver.qualname(node.func) or ""
        return name.startswith("tensorflow.") and not name.startswith("tensorflow.numpy_function")
    if isinstance(node, gast.Name):
        definitions = resolver.definitions(node)
        if len(definitions) == 1:
            statement = resolver.parents.get(definitions[0])
            if isinstance(statement, gast.Assign) and statement.targets == [definitions[0]]:
                return is_tensor(statement.value, resolver)
            parent = resolver.parents.get(resolver.parents.get(definitions[0]))
            if isinstance(parent, gast.Lambda) and _mapped_by_dataset(parent, resolver):
                return True
    return False


def _mapped_by_dataset(function, resolver) -> bool:
    """A lambda passed to `<dataset>.map(...)`: tf.data calls it with tensors."""
    call = resolver.parents.get(function)
    return isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and call.func.attr == "map" \
        and function in call.args[:1]


def _set_shape_rank(call, resolver) -> int | None:
    """The rank `y.set_shape([...])` gives the site's result `y = <site>` later in the same
    block (before `y` is bound again): the program declares it, so a rewrite of another rank
    must not take that path (the original's result has no static shape to contradict)."""
    statement = resolver.parents.get(call)
    if not (isinstance(statement, gast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], gast.Name)):
        return None
    name = statement.targets[0].id
    block = next((getattr(parent, field) for parent in [resolver.parents.get(statement)] if parent is not None
                  for field in ("body", "orelse", "finalbody") if statement in getattr(parent, field, [])), [])
    for later in block[block.index(statement) + 1:]:
        value = later.value if isinstance(later, gast.Expr) else None
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
                and value.func.attr == "set_shape" and isinstance(value.func.value, gast.Name) \
                and value.func.value.id == name and len(value.args) == 1 \
                and isinstance(value.args[0], (gast.List, gast.Tuple)):
            return len(value.args[0].elts)
        if any(isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Store) for n in gast.walk(later)):
            return None
    return None


def _left(site, reason, code) -> Site:
    site.reason, site.code = reason, code
    return site


def _find_target(site, resolver):
    func = site.func
    if isinstance(func, gast.Call) and resolver.qualname(func.func) == "functools.partial" and func.args:
        site.bound_args = list(func.args[1:])
        site.bound_kwargs = {k.arg: k.value for k in func.keywords if k.arg}
        if len(site.bound_kwargs) != len(func.keywords):
            return _left(site, "functools.partial with **kwargs is not rewritten", "RW104")
        func = func.args[0]
    if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) and func.value.id == "self":
        method = _method(site, func.attr, resolver)
        if method is None:
            return _left(site, f"method `self.{func.attr}` is not defined in the enclosing class", "RW105")
        site.target = method
        return site
    target = resolver.function_def(func)
    qualname = resolver.qualname(func) or ""
    if target is None and qualname.startswith("numpy.") and not site.bound_args and not site.bound_kwargs:
        site.numpy_target = qualname
        return site
    if target is None:
        what = "the wrapped function" if not isinstance(func, gast.Name) else f"`{func.id}`"
        return _left(site, f"{what} is not a function defined in this file", "RW105")
    if isinstance(target, gast.FunctionDef) and target.decorator_list:
        return _left(site, f"`{target.name}` is decorated: its decorator may change what it receives", "RW105")
    site.target = target
    return site


def _method(site, name, resolver):
    cls = resolver.enclosing(site.call, (gast.ClassDef,))
    if cls is None:
        return None
    for statement in cls.body:
        if isinstance(statement, gast.FunctionDef) and statement.name == name and not statement.decorator_list:
            if _overridden(cls, name, resolver):
                return None  # `self.name` may reach a subclass's version
            site.method_of = cls
            return statement
    return None


def _overridden(cls, name, resolver) -> bool:
    for node in gast.walk(resolver.module.tree):
        if isinstance(node, gast.ClassDef) and node is not cls and any(
                isinstance(b, gast.Name) and b.id == cls.name for b in node.bases):
            if any(isinstance(s, gast.FunctionDef) and s.name == name for s in node.body):
                return True
    return False


# -- what is known about the inputs --------------------------------------------------------


_TF_FUNCTION = {"tensorflow.function", "tensorflow.compat.v1.function", "tensorflow.compat.v2.function"}


def _gradient_overridden(call, resolver) -> bool:
    """Whether the call is inside `with graph.gradient_override_map({...}):`, which registers a
    gradient by op type for the PyFunc ops it makes."""
    node = resolver.parents.get(call)
    while node is not None:
        if isinstance(node, gast.With) and any(
                isinstance(item.context_expr, gast.Call) and isinstance(item.context_expr.func, gast.Attribute)
                and item.context_expr.func.attr == "gradient_override_map" for item in node.items):
            return True
        node = resolver.parents.get(node)
    return False


def _always_traced(call, resolver) -> bool:
    """Whether the function holding the call is a `@tf.function` or a lambda given to a
    Dataset's `.map`: the call then runs in a graph, never eagerly."""
    holder = resolver.enclosing(call, (gast.FunctionDef, gast.Lambda))
    if isinstance(holder, gast.Lambda):
        return _mapped_by_dataset(holder, resolver)
    if holder is None:
        return False
    for decorator in holder.decorator_list:
        function = decorator.func if isinstance(decorator, gast.Call) else decorator
        if resolver.qualname(function) in _TF_FUNCTION:
            return True
    return False


