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
import numpy as np

from . import facts as F
from .facts import Fact, Kind
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
ARGS_COMMENT = re.compile(r"#\s*rewriter:\s*args\s*=\s*(?P<spec>.+?)\s*$")
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
    tout: list | None = None      # NumPy dtypes of Tout
    tout_is_list: bool = False
    result_rank: int | None = None  # from `y.set_shape([...])` on the site's result: a declaration
    elems: object = None          # map_fn: the mapped tensor expression
    numpy_target: str = ""        # the wrapped function is NumPy's own (`np.kron`)
    reason: str = ""              # why the site cannot be rewritten, when it cannot
    code: str = ""

    @property
    def line(self) -> int:
        return self.call.lineno

    @property
    def col(self) -> int:
        return self.call.col_offset + 1


MAP_FNS = {"tensorflow.map_fn", "tensorflow.compat.v1.map_fn", "tensorflow.compat.v2.map_fn"}
_MAP_FN_PARAMS = ("fn", "elems", "dtype", "parallel_iterations", "back_prop", "swap_memory", "infer_shape",
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
    args = bind_arguments(call, _MAP_FN_PARAMS)
    if args is None or not {"fn", "elems"} <= args.keys():
        return _left(site, "the call's arguments are not written out (fn, elems)", "RW101")
    site.func, site.elems = args["fn"], args["elems"]
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


def bind_arguments(call, names):
    """A call's arguments by parameter name (positional first, then keywords), or None when
    it passes **kwargs (then nothing can be said about them)."""
    args = dict(zip(names, call.args))
    for keyword in call.keywords:
        if keyword.arg is None:
            return None
        args[keyword.arg] = keyword.value
    return args


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
    site.traced = _always_traced(call, resolver)
    site.tensor_inputs = [_is_tensor(e, resolver) or _signature_fact(e, resolver) is not None for e in site.inputs]
    read = _tout(args["Tout"], resolver)
    if read is None:
        return _left(site, "`Tout` is not a list of dtypes this tool can read", "RW103")
    site.tout_is_list, site.tout = read
    site.result_rank = _set_shape_rank(call, resolver)
    _find_target(site, resolver)
    return site


def _is_tensor(node, resolver) -> bool:
    if isinstance(node, gast.Call):
        name = resolver.qualname(node.func) or ""
        return name.startswith("tensorflow.") and not name.startswith("tensorflow.numpy_function")
    if isinstance(node, gast.Name):
        definitions = resolver.definitions(node)
        if len(definitions) == 1:
            statement = resolver.parents.get(definitions[0])
            if isinstance(statement, gast.Assign) and statement.targets == [definitions[0]]:
                return _is_tensor(statement.value, resolver)
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


def _tout(node, resolver, depth=0):
    """(is a list, dtypes) of a `Tout` as people write it: a dtype, a list or tuple of them,
    `[tf.float32] * 3`, `(tf.float32,) * 2`, a sum of such lists, or a name bound once to any
    of these; None when it is none of them (a dtype read from an input, say)."""
    if depth > 4:
        return None
    if isinstance(node, (gast.List, gast.Tuple)):
        dtypes = []
        for element in node.elts:
            read = _tout(element, resolver, depth + 1)
            if read is None or read[0]:
                return None
            dtypes += read[1]
        return True, dtypes
    if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Mult):
        for sequence, count in ((node.left, node.right), (node.right, node.left)):
            read, times = _tout(sequence, resolver, depth + 1), _int_constant(count, resolver)
            if read is not None and read[0] and times is not None and times >= 0:
                return True, read[1] * times
        return None
    if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Add):
        left, right = _tout(node.left, resolver, depth + 1), _tout(node.right, resolver, depth + 1)
        return (True, left[1] + right[1]) if left and right and left[0] and right[0] else None
    dtype = _dtype_of(node, resolver)
    if dtype is not None:
        return False, [dtype]
    value = _bound_once(node, resolver)
    return None if value is None else _tout(value, resolver, depth + 1)


def _int_constant(node, resolver):
    """A non-negative int written out, or a name bound once to one."""
    if isinstance(node, gast.Constant) and type(node.value) is int:
        return node.value
    value = _bound_once(node, resolver)
    return _int_constant(value, resolver) if isinstance(value, gast.Constant) else None


def _bound_once(node, resolver):
    """The value a name is bound to by its one plain assignment (`OUT = [tf.float32] * 2`)."""
    if not isinstance(node, gast.Name):
        return None
    definitions = resolver.definitions(node)
    if len(definitions) != 1:
        return None
    statement = resolver.parents.get(definitions[0])
    if isinstance(statement, gast.Assign) and statement.targets == [definitions[0]]:
        return statement.value
    return None


def _dtype_of(node, resolver):
    name = resolver.qualname(node)
    if name and (name.startswith("tensorflow.") or name.startswith("numpy.")):
        return F.from_tf_name(name)
    if isinstance(node, gast.Constant) and isinstance(node.value, str):
        return F.from_tf_name(node.value)
    return None


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

def declared_inputs(site, module: ParsedModule, resolver: Resolver) -> list | None:
    """Facts for the site's inputs from a `# rewriter: args=` comment or the enclosing
    `tf.function`'s `input_signature`; None for an input nothing declares."""
    comment = _args_comment(site, module)
    if comment is not None:
        return parse_args_spec(comment)
    return [_signature_fact(e, resolver) for e in site.inputs]


def declared_values(site, module: ParsedModule) -> dict:
    """Facts of values the function reads but the rewriter cannot see, declared by name in the
    `# rewriter: args=` comment: `self.threshold:float32[]`, `cfg.scale:float`."""
    comment = _args_comment(site, module)
    return parse_declarations(comment)[1] if comment is not None else {}


def _args_comment(site, module) -> str | None:
    lines = module.source.lines
    first = site.call.lineno
    candidates = [*range(first, site.call.end_lineno + 1)]
    if first > 1 and lines[first - 2].lstrip().startswith("#"):
        candidates.append(first - 1)  # a comment line right above the call
    if site.target is not None and not isinstance(site.target, gast.Lambda):
        candidates.append(site.target.lineno)
    for lineno in candidates:
        if 1 <= lineno <= len(lines):
            match = ARGS_COMMENT.search(lines[lineno - 1])
            if match:
                return match.group("spec")
    return None


def parse_args_spec(spec: str) -> list:
    """`x:float32[None,128], y:int64[]` (names optional) -> the inputs' facts, in order;
    raises ValueError."""
    return parse_declarations(spec)[0]


_PYTHON_SCALARS = {"float": float, "int": int, "bool": bool, "complex": complex}


def parse_declarations(spec: str) -> tuple:
    """(input facts in order, {dotted name: fact}) of an args spec: entries named like an
    attribute (`self.threshold:float32[]`, `cfg.scale:float`) declare values the function
    reads; the others are the inputs. Raises ValueError."""
    inputs, values = [], {}
    for item in re.split(r",\s*(?![^\[]*\])", spec.strip()):
        name, _, kind = item.rpartition(":")
        name, kind = name.strip(), kind.strip()
        if kind in _PYTHON_SCALARS and "." in name:
            values[name] = Fact(Kind.SCALAR, pytype=_PYTHON_SCALARS[kind])
            continue
        match = re.fullmatch(r"(?P<dtype>\w+)\s*(\[(?P<shape>[^\]]*)\])?", kind)
        dtype = F.from_tf_name(match.group("dtype")) if match else None
        if dtype is None:
            raise ValueError(f"cannot read `{kind}` (expected e.g. float32[None,128])")
        shape = match.group("shape")
        dims = None if shape is None else tuple(
            None if d.strip() in ("None", "?", "") else int(d) for d in shape.split(",") if d.strip())
        fact = Fact(Kind.ARRAY, dtype=dtype, rank=None if dims is None else len(dims), fresh=False, shape=dims)
        if "." in name:
            values[name] = fact
        else:
            inputs.append(fact)
    return inputs, values


_TF_FUNCTION = {"tensorflow.function", "tensorflow.compat.v1.function", "tensorflow.compat.v2.function"}


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


def _signature_fact(node, resolver) -> Fact | None:
    """The TensorSpec of a `tf.function(input_signature=...)` parameter passed straight in."""
    if not isinstance(node, gast.Name):
        return None
    defs = resolver.definitions(node)
    if len(defs) != 1 or not isinstance(defs[0], gast.Name):
        return None
    fn = resolver.enclosing(defs[0], (gast.FunctionDef,))
    if fn is None or defs[0] not in fn.args.args:
        return None
    index = fn.args.args.index(defs[0])
    for decorator in fn.decorator_list:
        if not isinstance(decorator, gast.Call) or resolver.qualname(decorator.func) != "tensorflow.function":
            continue
        for keyword in decorator.keywords:
            specs = _spec_list(keyword.value) if keyword.arg == "input_signature" else None
            if specs is not None:
                offset = 1 if fn.args.args and fn.args.args[0].id == "self" else 0
                if 0 <= index - offset < len(specs):
                    return _spec_fact(specs[index - offset], resolver)
    return None


def _spec_list(node):
    """The specs of an `input_signature` literal: `[a, b]`, `(a, b)`, `[a] * 2`, `[a] + [b]`."""
    if isinstance(node, (gast.List, gast.Tuple)):
        return list(node.elts)
    if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Add):
        left, right = _spec_list(node.left), _spec_list(node.right)
        return left + right if left is not None and right is not None else None
    if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Mult):
        items, count = (node.left, node.right) if isinstance(node.right, gast.Constant) else (node.right, node.left)
        items = _spec_list(items)
        if items is not None and isinstance(count, gast.Constant) and type(count.value) is int and count.value >= 0:
            return items * count.value
    return None


def _spec_fact(spec, resolver) -> Fact | None:
    if not isinstance(spec, gast.Call) or resolver.qualname(spec.func) != "tensorflow.TensorSpec":
        return None
    args = bind_arguments(spec, ("shape", "dtype", "name"))
    if args is None:  # TensorSpec(**kwargs): nothing is declared that we can read
        return None
    dtype = _dtype_of(args["dtype"], resolver) if "dtype" in args else np.dtype("float32")
    if dtype is None:
        return None
    shape = args.get("shape")
    if not isinstance(shape, (gast.List, gast.Tuple)):
        return Fact(Kind.ARRAY, dtype=dtype, fresh=False)
    dims = tuple(d.value if isinstance(d, gast.Constant) and isinstance(d.value, int) else None for d in shape.elts)
    return Fact(Kind.ARRAY, dtype=dtype, rank=len(dims), fresh=False, shape=dims)
