"""Checking a hand-written `@tf.custom_gradient` against autodiff of its (native) forward.

A `@tf.custom_gradient` function returns `(y, grad)`. Calling it under a tape runs the
user's `grad(dy)`; calling the undecorated function (`__wrapped__`) under a tape and
differentiating `y` gives TF's own gradient of the forward. Once the forward is native TF
the two must agree: the verdict is "agree" (the hand-written gradient is redundant),
"disagree" (where, by how much, with which input and `dy`), "fails to run" (TF's one-line
message), or "not checked" (why). Finite differences of the original are `verify_grad`'s job;
`verification.verify` adds their figures to this record.
"""

from __future__ import annotations

import inspect

import numpy as np
import tensorflow as tf

from .corpus import CALLBACK_OPS
from .verify_calls import component_name, is_real_float, tf_call_args
from .verify_grad import GRAD_TOL
from .verify_result import short_error


def is_custom_gradient(fn) -> bool:
    """Whether `fn` is a function decorated with `tf.custom_gradient`."""
    return type(fn).__module__.endswith("custom_gradient") and callable(getattr(fn, "__wrapped__", None))


def compare_with_autodiff(custom_fn, kinds, values, dev, rng) -> dict:
    """The verdict record for `custom_fn` on the example (kinds, values) and a random `dy`."""
    names = _parameter_names(custom_fn.__wrapped__, len(values))
    watched = [i for i, (k, v) in enumerate(zip(kinds, values))
               if k != "static" and is_real_float(np.asarray(v).dtype) and np.asarray(v).size]
    if not watched:
        return {"verdict": "not checked", "reason": "no non-empty floating-point input to differentiate"}

    def forward(*arguments):  # y of the undecorated function's (y, grad)
        return custom_fn.__wrapped__(*arguments)[0]

    with tf.device(dev):
        args = tf_call_args(kinds, values)
        try:
            dys = [rng.standard_normal(np.shape(y)).astype(y.dtype.as_numpy_dtype)
                   for y in tf.nest.flatten(forward(*args))]
            autodiff = _gradients(forward, args, watched, dys)
            not_native = all(g is None for g in autodiff) or _runs_python(forward, kinds, args)
        except Exception as exc:  # noqa: BLE001 - the forward's own verification reports it
            return {"verdict": "not checked", "reason": f"the forward raised, eagerly or traced ({short_error(exc)})"}
        if not_native:
            return {"verdict": "not checked",
                    "reason": "autodiff finds no gradient through the forward (it still runs Python code)"}
        try:
            hand_written = _gradients(custom_fn, args, watched, dys)
        except Exception as exc:  # noqa: BLE001 - a gradient that raises is the finding
            return {"verdict": "fails to run", "message": short_error(exc).removesuffix(" name:").strip()}
    findings = [f for f in (_disagreement(names[i], np.asarray(values[i]), user, exact)
                            for i, user, exact in zip(watched, hand_written, autodiff)) if f is not None]
    if not findings:
        return {"verdict": "agree", "max_rel_err": max(
            (_relative_error(u, a) for u, a in zip(hand_written, autodiff) if u is not None and a is not None),
            default=0.0)}
    structural = [f for f in findings if "max_rel_err" not in f]  # None, shape, dtype: no figure to rank
    worst = structural[0] if structural else max(findings, key=lambda f: f["max_rel_err"])
    record = {"verdict": "disagree", **worst}
    i = watched[[names[j] for j in watched].index(worst["input"])]
    record["input_values"] = np.asarray(values[i]).tolist()
    record["dy_values"] = [d.tolist() for d in dys] if len(dys) > 1 else dys[0].tolist()
    if "index" in worst and len(dys) == 1 and dys[0].shape == np.shape(values[i]):
        record["dy"] = float(dys[0][tuple(worst["index"])])
    return record


def _runs_python(forward, kinds, args) -> bool:
    """Whether the forward, traced for these inputs, calls back into Python (a py_function's
    gradient is zero, not None, so autodiff alone does not tell)."""
    tensors = [i for i, k in enumerate(kinds) if k != "static"]

    def on_tensors(*given):
        arguments = list(args)
        for i, tensor in zip(tensors, given):
            arguments[i] = tensor
        return forward(*arguments)

    graph = tf.function(on_tensors).get_concrete_function(
        *[tf.TensorSpec.from_tensor(args[i]) for i in tensors]).graph
    found = {op.type for op in graph.get_operations()}
    for function in graph.as_graph_def().library.function:
        found.update(node.op for node in function.node_def)
    return not found.isdisjoint(CALLBACK_OPS)


def _gradients(fn, args, watched, dys):
    """The gradient of `fn(*args)` per watched input, with output gradients `dys`."""
    with tf.GradientTape() as tape:
        for i in watched:
            tape.watch(args[i])
        outputs = tf.nest.flatten(fn(*args))
    gradients = tape.gradient(outputs, [args[i] for i in watched], output_gradients=[tf.constant(d) for d in dys])
    return [None if g is None else tf.convert_to_tensor(g).numpy() for g in gradients]


def _disagreement(name, x, user, exact) -> dict | None:
    """What is wrong with the hand-written gradient `user` of input `x`, or None."""
    if user is None:
        return None if exact is None or not np.any(exact) else \
            {"input": name, "reason": f"the hand-written gradient returns None for `{name}`"}
    if exact is None:
        exact = np.zeros_like(x)
    if user.shape != x.shape:
        return {"input": name, "reason": f"the gradient for `{name}` has shape {list(user.shape)}, "
                                         f"`{name}` has {list(x.shape)}"}
    if user.dtype != x.dtype:
        return {"input": name, "reason": f"the gradient for `{name}` is {user.dtype.name}, `{name}` is {x.dtype.name}"}
    error = _relative_error(user, exact)
    if error <= GRAD_TOL[component_name(x.dtype)]:
        return None
    index = np.unravel_index(np.argmax(np.abs(user.astype(np.float64) - exact)), x.shape)
    return {"input": name, "max_rel_err": error, "index": [int(i) for i in index],
            "where": f"{name}[{', '.join(map(str, index))}]" if index else name, "input_value": float(x[index]),
            "hand_written": float(user[index]), "autodiff": float(exact[index]),
            "input_shape": f"{x.dtype.name}{list(x.shape)}"}


def _relative_error(user, exact) -> float:
    """Largest difference relative to the largest gradient entry (entries near zero would
    make an element-wise ratio meaningless)."""
    user, exact = np.asarray(user, np.float64), np.asarray(exact, np.float64)
    scale = max(float(np.max(np.abs(exact), initial=0.0)), float(np.max(np.abs(user), initial=0.0)))
    return float(np.max(np.abs(user - exact), initial=0.0)) / scale if scale > 0 else 0.0


def _parameter_names(function, count) -> list:
    try:
        names = list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        names = []
    return (names + [f"input {i}" for i in range(len(names), count)])[:count]


SWEPT_DTYPES = ("float16", "bfloat16", "float32", "float64")
SWEPT_RANKS = (0, 1, 2, 3, 4)
SWEPT_DIMS = (3, 4, 6, 1)


def why_not_droppable(original_fn, rewritten_fn, example, dev, rng) -> str:
    """Why removing the @tf.custom_gradient of a one-input function would change a gradient the
    program computes today, or "" when it would not: for every floating dtype and rank (0-4) of
    the input under which the original runs (a dispatch picks its body by dtype and rank, so
    one accepted shape per rank stands for the rank), the rewritten forward must be native
    (autodiff finds a gradient) and the hand-written gradient must agree with autodiff or fail."""
    for dtype in SWEPT_DTYPES:
        for rank in SWEPT_RANKS:
            x = _accepted_input(original_fn, example, dtype, rank, dev)
            if x is None:
                continue
            where = f"a {dtype} input of rank {rank}"
            record = compare_with_autodiff(rewritten_fn, ["array"], [x], dev, rng)
            if record["verdict"] == "not checked":
                return f"for {where}, {record['reason']}: removing the hand-written gradient would change it there"
            if record["verdict"] == "disagree":
                return f"the hand-written gradient disagrees with autodiff for {where}"
    return ""


def _accepted_input(original_fn, example, dtype, rank, dev):
    """An input of `dtype` and `rank` the original runs on (the example's shape first), or None."""
    shapes = ([example.shape] if example.ndim == rank else []) + [(d,) * rank for d in SWEPT_DIMS]
    for shape in dict.fromkeys(shapes):
        x = np.resize(example.astype(np.float64), shape).astype(tf.as_dtype(dtype).as_numpy_dtype)
        try:
            with tf.device(dev):
                original_fn(tf.constant(x))
        except Exception:  # noqa: BLE001 - the original does not accept this input
            continue
        return x
    return None
