"""Check that a TensorFlow rewrite computes what the NumPy original computes.

The checker behind the CLI, the decorator and the tests.  Two entry points:

``verify(numpy_fn, tf_fn, *example_args, ...)``
    Runs the original and the rewrite on the example arguments and on a few
    generated variants of them.  It compares output count, shapes, dtypes
    (exactly) and values (with tolerances derived from the dtype and the
    input size).  With ``grad=True`` it also checks the rewrite's gradient
    (``tf.GradientTape``) against central finite differences of the
    *original*, computed in float64.

``verify_distribution(numpy_sampler, tf_sampler, *args, n=..., seed=...)``
    For rewrites of ``np.random`` calls: compares samples with statistical
    tests (two-sample Kolmogorov-Smirnov for continuous samples, support and
    chi-square for discrete ones).  It reports "same distribution", never
    numerical equality.

Both return a :class:`VerifyResult`.

This module is the entry point and holds ``verify``.  The jobs it builds on
have a module each: ``verify_result`` (the result record and the wording of
failures) and ``verify_calls`` (running both sides, flattening their
outputs, dtype helpers) import nothing else of the package;
``verify_inputs`` (the variants tried), ``verify_compare`` (values and
tolerances), ``verify_grad`` (gradients) and ``verify_random``
(``verify_distribution``) import only those two; ``verify_custom_gradient``
(a hand-written ``tf.custom_gradient`` against autodiff) also takes the
gradient tolerances from ``verify_grad``.  ``VerifyResult`` and
``verify_distribution`` are importable from here as before.

Inputs
------
NumPy arrays, NumPy scalars and ``tf.Tensor``/``tf.Variable`` arguments are
data.  The rewrite gets them as tensors, the original as NumPy values
(always a fresh copy, so in-place edits by the original do no harm).  The
verifier varies them, and differentiates them if they are floating point.
Python scalars (``int``, ``float``, ``bool``) and any other objects are
*static*: both functions receive them unchanged in every trial, and they are
neither varied nor differentiated.  They usually stand for hyper-parameters,
axes or sizes.  To verify with respect to a scalar, pass ``np.float64(x)``.

Generated variants
------------------
Trial 0 always uses the example arguments.  The other trials (``trials`` in
total, default 4) are the first candidates from this list that the original
accepts:

1. resized: every dimension length ``s >= 2`` becomes ``s + 1``.  Equal
   lengths change together, so coupled dimensions (the inner dimension of a
   matmul) stay consistent.  Dimensions of length 1 are left alone because
   they are usually broadcast dimensions.  The data is fresh and uniform
   over the example's ``[min, max]``.
2. random signs with about 20 % exact zeros;
3. large magnitudes (x 1e3, or x 16 for float16 and bfloat16);
4. fall-backs: resized to ``2 s``, resized one length at a time, fresh data
   of the same shape, some zeros, negated values, small magnitudes.

Integer inputs keep their dtype.  Fresh integer data stays inside the
example's ``[min, max]``, so non-negative stays non-negative and indices
stay below the original maximum + 1.  Integer and boolean inputs keep their
example values in the sign and magnitude variants.  A variant counts only if
the *original* accepts it: a variant on which the original raises, or
returns NaN/inf when the example output was finite, is dropped (``notes``
says how many).  ``domain(args) -> args`` (a callable) maps each raw variant
into the valid domain before use.

Tolerances
----------
Values are close if ``|rewrite - original| <= atol + rtol * |original|``
element-wise.  By default::

    rtol = clip(16 * eps(dtype) * sqrt(N), floor(dtype), cap(dtype))
    atol = rtol * max|original output|        (per output, per trial)

Here ``N`` is the size of the largest array input of the trial, which bounds
how many terms any reduction can add.  The floors and caps are
float64 1e-10 / 1e-7, float32 1e-5 / 1e-4, float16 1e-2 / 5e-2 and
bfloat16 5e-2 / 2e-1.  The float32 cap is chosen to sit below TF32 errors
(see below).  Complex dtypes use the tolerances of their component
type.  An explicit ``rtol`` replaces the derived one, and an explicit
``atol`` replaces the derived one.  ``max_rel_err`` is
``max |rewrite - original| / max(|original|, atol / rtol)``.  Integer, bool
and string outputs must match exactly.  NaN positions and inf positions
(with their signs) must match exactly.  Dtypes must match exactly: a float64
result computed in float32 fails, and so do complex vs real and int64 vs
int32.  The one exception is a Python ``int`` returned by either side: it
matches any integer dtype, because Python ints have no width.

Gradients
---------
The gradient is checked at the example point only.  Floating-point array
inputs are watched as tensors of the *example's* dtype, so a float32 example
is differentiated in float32.  One persistent tape gives the vector-Jacobian
products ``u^T J`` for a random cotangent ``u`` on each floating output.
Each of a few random directions ``v`` then compares ``u^T J v`` from the
tape with central differences of the original, evaluated in float64 with
step ``eps * v``.  ``v`` is scaled element-wise by ``|x|``, and ``eps`` is
1e-6, falling back to 1e-3 when the small step is numerically unstable.
Larger steps are used when the original rounds its outputs to float32 or
float16 even when it is given float64 inputs.
Richardson extrapolation over ``eps`` and ``eps / 2`` gives the estimate.
A direction is skipped, not failed, where the original is not differentiable
along it: a kink (abs at 0, relu, clip bounds, sort ties) shows up as a
second difference that does not shrink with the step.  Before giving up on
such a direction, the verifier retries it without the elements that usually
sit on kinks: exact zeros, other integral values and repeated values.  A
direction is also skipped where the finite differences themselves are
unstable.  If every direction is skipped, ``grad_ok`` is None and
``grad_skipped`` says why.  A ``None``
gradient for an input the original depends on (``tf.stop_gradient``, ops
with no gradient path) is a failure.  So is a gradient that disagrees with
the finite differences (for example a wrong ``tf.custom_gradient``).
``grad_err`` is the largest relative disagreement.  Integer, bool and
complex inputs and outputs are left out and named in ``grad_skipped``.

Custom gradients
----------------
When ``tf_fn`` is decorated with ``tf.custom_gradient`` (a NumPy forward
made native, its hand-written gradient kept), the tape above runs the
hand-written gradient.  ``custom_gradient`` then also compares it, at the
example and for a random ``dy``, with autodiff of the undecorated forward:
``"agree"`` (within the gradient tolerance of the input's dtype: the
hand-written gradient is redundant), ``"disagree"`` (the input, the element
with the largest difference, both values there, ``max_rel_err`` as the
largest difference over the largest gradient entry, the input and ``dy``
used), ``"fails to run"`` (TF's one-line message) or ``"not checked"``
(why, e.g. the forward still runs NumPy).  ``finite_differences`` says
which of the two agrees with the original.

Devices and TF32
----------------
``device=None`` runs the rewrite on the first GPU TensorFlow sees, or on
the CPU if there is none.  ``device="/GPU:0"`` (or ``"CPU:0"``, or a full
device name) forces a device, and an unknown device raises ``ValueError``.
``VerifyResult.device`` is read from the rewrite's output tensor, so it says
where the rewrite actually ran.

On Ampere and newer NVIDIA GPUs, TensorFlow runs float32 matmuls and
convolutions in TF32 (10-bit mantissa) by default; see
``tf.config.experimental.enable_tensor_float_32_execution``.  In
verification this shows up as float32 matmul errors of about 1e-3 relative
(about 3e-4 of the largest output element).  The float32 tolerance above
does **not** cover that: the verifier reports such rewrites as failing.
When the device is a GPU and TF32 is enabled, a failing result says so
(in ``notes``, printed by ``str()``) and suggests calling
``tf.config.experimental.enable_tensor_float_32_execution(False)`` before
verifying.  Alternatively, pass a looser ``rtol``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import tensorflow as tf

from .verify_calls import (DATA_KINDS, Leaf, classify_args, describe_args, np_call_args, np_leaf,
                           output_leaves, quiet_call, resolve_device, tf_call_args, tf_leaf)
from .verify_compare import compare_leaf
from .verify_custom_gradient import compare_with_autodiff, is_custom_gradient
from .verify_grad import check_grad
from .verify_inputs import choose_trials
from .verify_random import verify_distribution
from .verify_result import FailureLog, VerifyResult, short_error

__all__ = ["VerifyResult", "verify", "verify_distribution"]

DEFAULT_TRIALS = 4


def verify(
    numpy_fn: Callable,
    tf_fn: Callable,
    *example_args,
    grad: bool = True,
    device: str | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    trials: int | None = None,
    domain: Callable | None = None,
    seed: int = 0,
) -> VerifyResult:
    """Check that ``tf_fn`` computes what ``numpy_fn`` computes.

    See the module docstring for how variants, tolerances and gradients are
    chosen.  Raises ``ValueError`` for an unknown ``device`` or if the
    original raises on the example arguments.  The result is failing if the
    rewrite raises, and the exception is recorded in the failures.
    """
    dev = resolve_device(device)
    n_trials = DEFAULT_TRIALS if trials is None else int(trials)
    if n_trials < 1:
        raise ValueError("trials must be >= 1")
    if domain is not None and not callable(domain):
        raise ValueError("domain must be a callable domain(args) -> args")
    rng = np.random.default_rng(seed)
    kinds, ex_values = classify_args(example_args)

    # ---- original on the example ------------------------------------------
    try:
        ex_out = quiet_call(numpy_fn, *np_call_args(kinds, ex_values))
    except Exception as exc:
        raise ValueError(f"the original raised on the example arguments: {short_error(exc)}") from exc
    ex_leaves = [np_leaf(p, x) for p, x in output_leaves(ex_out)]

    # ---- choose trials ----------------------------------------------------
    chosen, dropped = choose_trials(numpy_fn, kinds, ex_values, ex_leaves, n_trials, domain, rng)

    # ---- run the rewrite and compare ----------------------------------------
    log = FailureLog()
    max_abs = 0.0
    max_rel = 0.0
    actual_device: str | None = None
    tf_ex_leaves: list[Leaf] | None = None
    for t, (label, vals, e_leaves) in enumerate(chosen):
        where = f"trial {t} ({label}; inputs {describe_args(kinds, vals)})"
        try:
            with tf.device(dev):
                out = tf_fn(*tf_call_args(kinds, vals))
            a_leaves = [tf_leaf(p, x) for p, x in output_leaves(out)]
        except Exception as exc:
            log.add(("raise", type(exc).__name__), t, f"{where}: rewrite raised {short_error(exc)}")
            continue
        if t == 0:
            tf_ex_leaves = a_leaves
        if actual_device is None:
            actual_device = next((lf.device for lf in a_leaves if lf.device), None)
        if len(a_leaves) != len(e_leaves):
            log.add(("count",), t,
                    f"{where}: output count mismatch: original returned {len(e_leaves)} output(s), "
                    f"rewrite {len(a_leaves)}")
            continue
        if [lf.path for lf in e_leaves] != [lf.path for lf in a_leaves]:
            log.add(("structure",), t,
                    f"{where}: output structure differs: original {[lf.path for lf in e_leaves]}, "
                    f"rewrite {[lf.path for lf in a_leaves]}")
            continue
        n_reduce = max([np.asarray(v).size for k, v in zip(kinds, vals) if k in DATA_KINDS] or [1])
        for e, a in zip(e_leaves, a_leaves):
            problems, ma, mr = compare_leaf(e, a, n_reduce, rtol, atol)
            max_abs = max(max_abs, ma)
            max_rel = max(max_rel, mr)
            for cat, msg in problems:
                log.add((e.path, cat), t, f"output {e.path}: {msg} - {where}")
    values_ok = not log

    # ---- gradients ----------------------------------------------------------
    grad_ok: bool | None = None
    grad_err: float | None = None
    grad_skipped: str | None = None
    grad_notes: list[str] = []
    if not grad:
        grad_skipped = "grad=False"
    elif tf_ex_leaves is None:
        grad_skipped = "the rewrite raised on the example"
    elif len(tf_ex_leaves) != len(ex_leaves) or any(
        (e.value is None) != (a.value is None)
        or (e.value is not None and e.value.shape != a.value.shape)
        for e, a in zip(ex_leaves, tf_ex_leaves)
    ):
        grad_skipped = "outputs on the example do not match in number or shape"
    else:
        grad_ok, grad_err, grad_skipped, gfails, grad_notes = check_grad(
            numpy_fn, tf_fn, kinds, ex_values, ex_leaves, tf_ex_leaves, dev, rng
        )
        for msg in gfails:
            log.add(("grad", msg), None, msg)
    custom_gradient = _check_custom_gradient(numpy_fn, tf_fn, kinds, ex_values, ex_leaves, tf_ex_leaves,
                                             dev, rng, grad_ok, grad_err) \
        if grad and tf_ex_leaves is not None and is_custom_gradient(tf_fn) else None

    notes: list[str] = []
    if dropped:
        notes.append(
            f"{len(dropped)} generated variant(s) dropped because the original rejects them: "
            + "; ".join(dropped)
        )
    notes.extend(grad_notes)
    device_str = actual_device or dev
    ok = values_ok and grad_ok is not False
    if not ok and "GPU" in device_str.upper():
        try:
            tf32 = tf.config.experimental.tensor_float_32_execution_enabled()
        except Exception:  # pragma: no cover
            tf32 = False
        if tf32:
            notes.append(
                "TF32 is enabled on this GPU: float32 matmuls/convolutions run with a 10-bit mantissa "
                "(errors around 1e-3 relative), which the float32 tolerance does not cover; call "
                "tf.config.experimental.enable_tensor_float_32_execution(False) before verifying, "
                "or pass a looser rtol"
            )
    return VerifyResult(
        values_ok=values_ok,
        grad_ok=grad_ok,
        max_abs_err=max_abs,
        max_rel_err=max_rel,
        grad_err=grad_err,
        device=device_str,
        trials=len(chosen),
        failures=log.messages(),
        grad_skipped=grad_skipped,
        notes=tuple(notes),
        custom_gradient=custom_gradient,
    )


def _check_custom_gradient(numpy_fn, tf_fn, kinds, values, ex_leaves, tf_leaves, dev, rng,
                           grad_ok, grad_err) -> dict:
    """The hand-written gradient of a `@tf.custom_gradient` `tf_fn` against autodiff of its
    forward, with both measured against finite differences of the original (the tape check
    above already measured the hand-written one: `grad_ok`, `grad_err`)."""
    record = compare_with_autodiff(tf_fn, kinds, values, dev, rng)
    if grad_ok is not None and record["verdict"] in ("agree", "disagree"):
        autodiff_ok, autodiff_err, *_ = check_grad(numpy_fn, lambda *a: tf_fn.__wrapped__(*a)[0], kinds, values,
                                                   ex_leaves, tf_leaves, dev, rng)
        record["finite_differences"] = {"hand_written_ok": grad_ok, "hand_written_rel_err": grad_err,
                                        "autodiff_ok": autodiff_ok, "autodiff_rel_err": autodiff_err}
    return record

