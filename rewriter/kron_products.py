"""Stage 5, per site — emit: a Kronecker product that is only multiplied by, never built.

    w = tf.numpy_function(np.kron, [a, b], tf.float32)
    w.set_shape([M * M, M * M])
    pred = tf.matmul(x, w)

becomes `pred = kron_matmul(x, a, b, w_shape=[M * M, M * M])` (`tf_helpers.py`): x's last axis
read as [ma, mb] and contracted with a and b, ma*mb*(na + nb) multiplications per row instead
of building ma*mb*na*nb weights and multiplying by all of them.

Only where w is that one product and nothing else, so nothing else could see it go:
- a and b 2-D, of one dtype both tf.matmul and tf.einsum take, which is Tout's (no list of one);
- `w = <site>` in a function, then optionally `w.set_shape(shape)`, then the statement holding
  the product `tf.matmul(x, w)`, `tf.linalg.matmul(x, w)` or `x @ w` (no other argument), one
  right after the other, so a, b and shape read the same values one statement later;
- `w` appears nowhere else in the function (not assigned again, not global, not in a loop
  around the product alone), and the product is in the statement's own expression (not in a
  lambda or comprehension, which could run it many times).
Anything else keeps the materialised kron (`None`).

The `set_shape` line goes (the rewrite does not always have that static shape: a and b may have
none), its shape handed to `kron_matmul`, which keeps what it did: eagerly a check of w's shape,
in a graph the static shape of w (tf.matmul's trace-time check of x's last axis and the static
shape of the product). a, b and the shape are read one statement later than written, which
reads the same values: the statements are consecutive and nothing in them rebinds a name (`:=`
is refused).

The dispatch by input dtype (undeclared inputs, `kron_tf`) keeps w: a body per dtype is chosen
when traced, and the product is outside it.
"""
from __future__ import annotations

import gast
import numpy as np

from . import helper_source
from .edits import Edit
from .sites import MAP_FNS, WRAPPERS

PRODUCT_DTYPES = tuple(np.dtype(d) for d in ("float16", "float32", "float64", "complex64", "complex128",
                                             "int32", "int64"))
"""What tf.matmul and tf.einsum both run (neither runs the other integer dtypes nor bool: those
keep the materialised kron, and the original's error)."""
MATMULS = {"tensorflow.matmul", "tensorflow.linalg.matmul"}
SIMPLE_STATEMENTS = (gast.Assign, gast.AnnAssign, gast.AugAssign, gast.Return, gast.Expr)


def kron_product_edits(site, module, resolver, facts) -> list | None:
    """The edits writing the site's kron into its one product, or None to keep it materialised."""
    if site.numpy_target != "numpy.kron" or site.tout_is_list or not _factors_fit(site, facts):
        return None
    assignment = resolver.parents.get(site.call)
    if not (isinstance(assignment, gast.Assign) and len(assignment.targets) == 1
            and isinstance(assignment.targets[0], gast.Name) and assignment.value is site.call):
        return None
    if not set(site.inputs) <= set(gast.walk(site.call)):
        return None  # `inp` names a list made earlier: a and b are not read here
    function = resolver.enclosing(assignment, (gast.FunctionDef, gast.AsyncFunctionDef, gast.ClassDef))
    if not isinstance(function, (gast.FunctionDef, gast.AsyncFunctionDef)):
        return None
    name = assignment.targets[0].id
    following = _following_statements(assignment, resolver, 2)
    shape_statement = following[0] if following and _set_shape_of(following[0], name) is not None else None
    rest = following[1:] if shape_statement is not None else following[:1]
    if not rest or not isinstance(rest[0], SIMPLE_STATEMENTS):
        return None
    product = _product_of(rest[0], name, resolver)
    if product is None:
        return None
    x, use = product
    shape = _set_shape_of(shape_statement, name) if shape_statement is not None else None
    uses = [use] + ([shape_statement.value.func.value] if shape_statement is not None else [])
    if not _only_uses(function, name, uses, assignment.targets[0]):
        return None
    moved = [x, *site.inputs, *([shape] if shape is not None else [])]
    if any(isinstance(n, gast.NamedExpr) or _is_site(n, resolver) for node in moved for n in gast.walk(node)):
        return None  # a name rebound, or another site whose edits would overlap these
    deleted = [_whole_lines(module.source, s) for s in (assignment, shape_statement) if s is not None]
    if None in deleted:
        return None
    segment = module.source.segment
    arguments = [segment(x), *map(segment, site.inputs)]
    if shape is not None:
        arguments.append(f"w_shape={segment(shape)}")
    multiplication = resolver.parents[use]
    if isinstance(multiplication, gast.BinOp):
        arguments.append("x_to_w_dtype=True")
    span = module.source.span(multiplication)
    return [*deleted, Edit(span.start, span.end, helper_source.call("kron_matmul", *arguments))]


def _factors_fit(site, facts) -> bool:
    """Two 2-D factors of one dtype the product takes, which is also w's (Tout's)."""
    if len(facts) != 2 or any(f.rank != 2 or f.dtype is None for f in facts):
        return False
    dtype = facts[0].dtype
    return facts[1].dtype == dtype and dtype in PRODUCT_DTYPES and site.tout_for(facts) == [dtype]


def _following_statements(statement, resolver, count) -> list:
    """Up to `count` statements right after `statement` in its block."""
    parent = resolver.parents.get(statement)
    for field in ("body", "orelse", "finalbody"):
        block = getattr(parent, field, None) or []
        if any(s is statement for s in block):
            at = next(k for k, s in enumerate(block) if s is statement)
            return block[at + 1:at + 1 + count]
    return []


def _set_shape_of(statement, name):
    """The shape argument of a statement `name.set_shape(shape)`, or None."""
    call = statement.value if isinstance(statement, gast.Expr) else None
    if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and call.func.attr == "set_shape" \
            and isinstance(call.func.value, gast.Name) and call.func.value.id == name \
            and len(call.args) == 1 and not call.keywords and not isinstance(call.args[0], gast.Starred):
        return call.args[0]
    return None


def _product_of(statement, name, resolver):
    """(x, the Name `name` in it) for the one product `x @ name` or `tf.matmul(x, name)`
    in the statement's own expression, or None."""
    found = []
    for node in gast.walk(statement):
        if isinstance(node, gast.BinOp) and isinstance(node.op, gast.MatMult) and _is_name(node.right, name):
            found.append((node.left, node.right))
        elif isinstance(node, gast.Call) and resolver.qualname(node.func) in MATMULS and not node.keywords \
                and len(node.args) == 2 and _is_name(node.args[1], name) \
                and not isinstance(node.args[0], gast.Starred):
            found.append((node.args[0], node.args[1]))
    if len(found) != 1:
        return None
    x, use = found[0]
    node = resolver.parents.get(use)
    while node is not statement:  # the product runs once, where the statement runs
        if isinstance(node, (gast.stmt, gast.Lambda, gast.ListComp, gast.SetComp, gast.DictComp,
                             gast.GeneratorExp)):
            return None
        node = resolver.parents.get(node)
    return x, use


def _is_name(node, name) -> bool:
    return isinstance(node, gast.Name) and node.id == name


def _only_uses(function, name, uses, target) -> bool:
    """`name` appears in the function only as the assignment's target and in `uses`."""
    allowed = {id(target), *map(id, uses)}
    for node in gast.walk(function):
        if isinstance(node, gast.Name) and node.id == name and id(node) not in allowed:
            return False
        if isinstance(node, (gast.Global, gast.Nonlocal)) and name in node.names:
            return False
    return True


def _is_site(node, resolver) -> bool:
    return isinstance(node, gast.Call) and (resolver.qualname(node.func) or "") in {*WRAPPERS, *MAP_FNS}


def _whole_lines(source, statement):
    """An edit deleting a statement that fills its lines (a comment after it goes too), or None."""
    span = source.span(statement)
    start = source.line_starts[statement.lineno - 1]
    end = source.line_starts[statement.end_lineno]
    before, after = source.text[start:span.start], source.text[span.end:end]
    if before.strip() or (after.strip() and not after.strip().startswith("#")):
        return None
    return Edit(start, end, "")
