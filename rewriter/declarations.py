"""What a program declares about a site's inputs and outputs: `# rewriter: args=` comments,
the enclosing tf.function's `input_signature`, TF1 placeholders, and `Tout` as people write it.

Declarations narrow what the engine must assume (one body instead of one per input dtype);
everything here only reads the source, nothing runs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import gast
import numpy as np

from . import facts as F
from .facts import Fact, Kind
from .parse import ParsedModule
from .resolve import Resolver


ARGS_COMMENT = re.compile(r"#\s*rewriter:\s*args\s*=\s*(?P<spec>.+?)\s*$")


@dataclass(frozen=True)
class InputDtype:
    """A `Tout` entry that is the dtype of the site's input `index` (`x.dtype`, or `dtype` bound
    to it): each dtype the input takes gives the rewrite its own `Tout`."""

    index: int


def read_tout(node, resolver, inputs=()):
    """(is a list, dtypes) of a `Tout` as people write it: a dtype, a list or tuple of them,
    `[tf.float32] * 3`, `(tf.float32,) * 2`, a sum of such lists, or a name bound once to any
    of these. An entry that is the dtype of one of the site's `inputs` (`[x.dtype] * 2`, or
    `dtype = x.dtype` then `[dtype] * 2`) is an `InputDtype`. None when it is none of them."""
    items = sequence_items(node, resolver)
    if items is None:
        dtype = _dtype_of(node, resolver, inputs)
        return None if dtype is None else (False, [dtype])
    dtypes = [_dtype_of(item, resolver, inputs) for item in items]
    return None if any(d is None for d in dtypes) else (True, dtypes)  # (`in` would match float64 == None)


def sequence_items(node, resolver=None, depth: int = 0):
    """The elements of a list or tuple as written: a literal, `[a] * 3`, `3 * (a,)`, `[a] + [b]`,
    or (given a resolver) a name bound once to any of these; None for anything else."""
    if depth > 4:
        return None
    if isinstance(node, (gast.List, gast.Tuple)):
        return list(node.elts)
    if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Add):
        left, right = sequence_items(node.left, resolver, depth + 1), sequence_items(node.right, resolver, depth + 1)
        return left + right if left is not None and right is not None else None
    if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Mult):
        for sequence, count in ((node.left, node.right), (node.right, node.left)):
            items, times = sequence_items(sequence, resolver, depth + 1), _int_constant(count, resolver)
            if items is not None and times is not None and times >= 0:
                return items * times
        return None
    value = _bound_once(node, resolver) if resolver is not None else None
    return None if value is None else sequence_items(value, resolver, depth + 1)


def _int_constant(node, resolver):
    """An int written out, or (given a resolver) a name bound once to one."""
    if isinstance(node, gast.Constant) and type(node.value) is int:
        return node.value
    value = _bound_once(node, resolver) if resolver is not None else None
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


def _dtype_of(node, resolver, inputs=(), depth: int = 0):
    """The dtype a node names: `tf.float32`, `np.int64`, `"float32"`, an input's `x.dtype`
    (an `InputDtype`), or a name bound once to one of these."""
    name = resolver.qualname(node)
    if name and (name.startswith("tensorflow.") or name.startswith("numpy.")):
        return F.from_tf_name(name)
    if isinstance(node, gast.Constant) and isinstance(node.value, str):
        return F.from_tf_name(node.value)
    if isinstance(node, gast.Attribute) and node.attr == "dtype":
        index = _input_index(node.value, resolver, inputs)
        return None if index is None else InputDtype(index)
    value = _bound_once(node, resolver) if depth < 4 else None
    return None if value is None else _dtype_of(value, resolver, inputs, depth + 1)


def _input_index(node, resolver, inputs):
    """Which of the site's inputs a name is: the same variable, bound by the same statements."""
    if not isinstance(node, gast.Name):
        return None
    definitions = set(resolver.definitions(node))
    for index, given in enumerate(inputs):
        if isinstance(given, gast.Name) and given.id == node.id and set(resolver.definitions(given)) == definitions:
            return index
    return None


def declared_inputs(site, module: ParsedModule, resolver: Resolver) -> list | None:
    """Facts for the site's inputs from a `# rewriter: args=` comment or the enclosing
    `tf.function`'s `input_signature`; None for an input nothing declares."""
    comment = _args_comment(site, module)
    if comment is not None:
        return parse_args_spec(comment)
    return [signature_fact(e, resolver) for e in site.inputs]


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
            values[name] = fact.with_(eager=None)  # `self.threshold`: a tf.Variable or a NumPy array
        else:
            inputs.append(fact)
    return inputs, values


def signature_fact(node, resolver) -> Fact | None:
    """What the program declares about an input passed straight in: the TensorSpec of a
    `tf.function(input_signature=...)` parameter, or a TF1 placeholder's dtype and shape."""
    if not isinstance(node, gast.Name):
        return None
    defs = resolver.definitions(node)
    if len(defs) != 1 or not isinstance(defs[0], gast.Name):
        return None
    return _placeholder_fact(defs[0], resolver) or _input_signature_fact(defs[0], resolver)


_PLACEHOLDERS = ("tensorflow.compat.v1.placeholder", "tensorflow.placeholder")


def _placeholder_fact(name, resolver) -> Fact | None:
    """`x = tf.compat.v1.placeholder(tf.float32, shape=[None, 16])`: Session.run converts every
    fed value to the placeholder's dtype and checks its shape, so the graph sees exactly that."""
    statement = resolver.parents.get(name)
    value = statement.value if isinstance(statement, gast.Assign) and statement.targets == [name] else None
    if not isinstance(value, gast.Call) or resolver.qualname(value.func) not in _PLACEHOLDERS:
        return None
    args = bind_arguments(value, ("dtype", "shape", "name"))
    dtype = _dtype_of(args["dtype"], resolver) if args is not None and "dtype" in args else None
    return None if dtype is None else _array_fact(dtype, args.get("shape"), resolver)


def _input_signature_fact(name, resolver) -> Fact | None:
    fn = resolver.enclosing(name, (gast.FunctionDef,))
    if fn is None or name not in fn.args.args:
        return None
    index = fn.args.args.index(name)
    for decorator in fn.decorator_list:
        if not isinstance(decorator, gast.Call) or resolver.qualname(decorator.func) != "tensorflow.function":
            continue
        for keyword in decorator.keywords:
            specs = sequence_items(keyword.value) if keyword.arg == "input_signature" else None
            if specs is not None:
                offset = 1 if fn.args.args and fn.args.args[0].id == "self" else 0
                if 0 <= index - offset < len(specs):
                    return _spec_fact(specs[index - offset], resolver)
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
    return _array_fact(dtype, args.get("shape"), resolver)


def _array_fact(dtype, shape, resolver) -> Fact:
    """A declared input: its dtype, and its rank and dims when the shape is written out (a
    dim may be a module constant, or arithmetic on them: `[None, N_MELS]`, `[M * M]`)."""
    if not isinstance(shape, (gast.List, gast.Tuple)):
        return Fact(Kind.ARRAY, dtype=dtype, fresh=False)
    dims = tuple(_static_int(d, resolver) for d in shape.elts)
    return Fact(Kind.ARRAY, dtype=dtype, rank=len(dims), fresh=False, shape=dims)


_INT_OPERATORS = {gast.Add: int.__add__, gast.Sub: int.__sub__, gast.Mult: int.__mul__, gast.FloorDiv: int.__floordiv__}


def _static_int(node, resolver, depth=0) -> int | None:
    """The value of an int literal, of a module constant bound once to one, or of + - * // on
    those; None for anything else."""
    if depth > 8:
        return None
    if isinstance(node, gast.Constant):
        return node.value if type(node.value) is int else None
    if isinstance(node, gast.BinOp) and type(node.op) in _INT_OPERATORS:
        left, right = _static_int(node.left, resolver, depth + 1), _static_int(node.right, resolver, depth + 1)
        if left is None or right is None or (isinstance(node.op, gast.FloorDiv) and right == 0):
            return None
        return _INT_OPERATORS[type(node.op)](left, right)
    if isinstance(node, gast.Name):
        defs = resolver.definitions(node)
        statement = resolver.parents.get(defs[0]) if len(defs) == 1 else None
        if isinstance(statement, gast.Assign) and statement.targets == [defs[0]] \
                and isinstance(resolver.parents.get(statement), gast.Module):
            return _static_int(statement.value, resolver, depth + 1)
    return None


def bind_arguments(call, names):
    """A call's arguments by parameter name (positional first, then keywords), or None when
    it passes **kwargs (then nothing can be said about them)."""
    args = dict(zip(names, call.args))
    for keyword in call.keywords:
        if keyword.arg is None:
            return None
        args[keyword.arg] = keyword.value
    return args
