"""`rewriter fix --verify`: run each converted site against its original before keeping it.

This is the only place the CLI runs user code: both versions of the module are executed (as
modules named `__rewriter_verify__`, so `if __name__ == "__main__":` blocks do not run), the
wrapped function and its rewrite are taken from them and checked with `verification.verify`
on inputs made from what the site declares, or found by probing the original with small
candidate arrays of the dtypes the rewrite was made for. A site that is the forward of a
`@tf.custom_gradient` function also gets its hand-written gradient checked against autodiff of
the rewrite (a finding for the report, never a reason to leave the site).
"""
from __future__ import annotations

import contextlib
import io
import linecache
import os
import sys
import warnings
from dataclasses import dataclass

import gast
import numpy as np

from . import helper_source

PROBE_RANKS = (1, 2, 3, 0)
DEFAULT_DIM = 6
PROBE_DIMS = ((6, 6), (4, 4), (3, 3), (6, 4), (6, 3))
"""(every other dim, the last dim) of the probe shapes tried in turn."""


@dataclass
class SiteCheck:
    ok: bool
    reason: str = ""
    figures: dict | None = None


def make_verifier(path: str, device: str | None = None):
    """A function (conversion, original text, rewritten text) -> SiteCheck for one file."""
    from .quiet import import_tensorflow_quietly

    import_tensorflow_quietly()

    def check(conversion, original_text: str, rewritten_text: str) -> SiteCheck:
        # The user's modules run here: what they print is kept out of the diff on stdout and
        # out of the run's messages, and shown under the site with -v.
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            try:
                result = _check(conversion, path, original_text, rewritten_text, device)
            except Unverified as exc:
                result = SiteCheck(False, f"unverified: {exc}")
        if printed.getvalue().strip():
            conversion.notes.append("the code printed while verified: " + _short(printed.getvalue()))
        return result

    return check


def _short(text: str, limit: int = 300) -> str:
    text = " | ".join(line for line in text.strip().splitlines() if line.strip())
    return text if len(text) <= limit else text[:limit] + "..."


class Unverified(Exception):
    pass


def _check(conversion, path, original_text, rewritten_text, device) -> SiteCheck:
    site = conversion.site
    if site.kind == "map_fn":
        return _check_map_fn(conversion, path, original_text, device)
    if site.kind == "range_loop":
        # A tf.range loop is TF already: its rewrite has no NumPy original to probe, and each
        # loop form is checked against the loop it replaces by the engine's own tests.
        return SiteCheck(True, "", {"method": "loop form checked by the engine's tests, not probed"})
    target = site.target
    if isinstance(target, gast.Lambda) or site.method_of is not None:
        raise Unverified("lambdas and methods have no handle to call them by")
    if conversion.function_text.startswith(f"{helper_source.PREFIX}kron_matmul("):
        return _check_kron_product(conversion, path, rewritten_text, device)
    if "def " not in conversion.function_text:
        raise Unverified("a NumPy function wrapped directly is rewritten inline: there is no function to call")
    original_module = load_module(original_text, path, "original")
    rewritten_module = load_module(rewritten_text, path, "rewritten")
    original = numpy_callable(site.numpy_target) if site.numpy_target else original_module.get(target.name)
    rewritten_name = conversion.function_text.split("def ", 1)[1].split("(", 1)[0].strip()
    rewritten = rewritten_module.get(rewritten_name)
    if not callable(original) or not callable(rewritten):
        raise Unverified(f"`{target.name}` is not a module-level function")
    bound = [eval(_segment(original_text, a), original_module) for a in site.bound_args]  # noqa: S307
    numpy_fn = numpy_side(site, original, bound)
    tf_fn = _tf_side(rewritten, bound)
    from .registry import default

    random = any(getattr(default().get(p), "random", False) for p in conversion.patterns)
    ties_open = bool(TIE_ORDER_OPEN & set(conversion.patterns))
    figures, tried = None, []
    for probes in conversion.variants or [[conversion.inputs]]:  # every body the rewrite may take
        facts, inputs = first_accepted(probes, numpy_side(site, original, bound, strict=True))
        inputs = without_ties(inputs) if ties_open else inputs
        check = _verify_inputs(numpy_fn, tf_fn, inputs, facts, random, device, without_ties if ties_open else None)
        if not check.ok:
            return check
        figures = figures or check.figures
        tried.append(inputs)
    if site.custom_gradient is not None:
        figures = dict(figures or {}, custom_gradient=_check_custom_gradient(
            site.custom_gradient, original_module, rewritten_module, numpy_fn, tried, device))
    return SiteCheck(True, "", figures)


def _check_kron_product(conversion, path, rewritten_text, device) -> SiteCheck:
    """A kron rewritten into its one product (`kron_products.py`): the `kron_matmul` the file now
    defines against `x @ np.kron(a, b)`, values and gradients, in the factors' dtype, with factors
    that are not square and three rows of x. The call passes the site's inputs as written, in order."""
    from .render_helpers import existing_helpers
    from .verification import verify

    helper = load_module(rewritten_text, path, "rewritten").get(existing_helpers(rewritten_text).get("kron_matmul"))
    if not callable(helper):
        raise Unverified("the rewritten file has no kron_matmul to call")
    dtype = conversion.inputs[0].dtype
    rng = np.random.default_rng(0)
    a, b = _values(dtype, (3, 4), rng), _values(dtype, (2, 5), rng)
    x = _values(dtype, (3, 6), rng)
    with quiet():
        result = verify(lambda x, a, b: np.matmul(x, np.kron(a, b)), helper, x, a, b, device=device)
    figures = dict(result.to_dict(), inputs=[f"{v.dtype}{list(v.shape)}" for v in (x, a, b)],
                   method="the product helper against x @ np.kron(a, b)")
    if not result.ok:
        return SiteCheck(False, f"verification failed: {str(result).splitlines()[0]}", figures)
    return SiteCheck(True, "", figures)


def _check_custom_gradient(custom_gradient, original_module, rewritten_module, numpy_fn, tried, device) -> dict:
    """The hand-written gradient of the @tf.custom_gradient function around the site, against
    autodiff of its rewritten forward (see `verify_custom_gradient`), on the first inputs the
    forward was verified with that are all floating point."""
    from .verification import verify

    record = custom_gradient.describe()
    if custom_gradient.unchecked:
        return dict(record, verdict="not checked", reason=custom_gradient.unchecked)
    inputs = next((i for i in tried if all(np.asarray(a).dtype.kind == "f" for a in i)), None)
    if inputs is None:
        return dict(record, verdict="not checked", reason="no floating-point input the forward was rewritten for")
    try:
        with quiet():
            result = verify(numpy_fn, rewritten_module[custom_gradient.function.name], *inputs, device=device)
    except Exception as exc:  # noqa: BLE001 - the forward verified; its wrapper may still reject the input
        return dict(record, verdict="not checked", reason=f"the function raised ({type(exc).__name__})")
    record.update(result.custom_gradient or {"verdict": "not checked", "reason": "not a @tf.custom_gradient"})
    if not result.values_ok:  # the forward computes more than the NumPy call: no finite differences for it
        record.pop("finite_differences", None)
    if record["verdict"] == "agree":
        record["kept_because"] = _why_kept(custom_gradient, original_module, rewritten_module, inputs, device)
    return record


def _why_kept(custom_gradient, original_module, rewritten_module, inputs, device) -> str:
    """Why --drop-redundant-gradients keeps an agreeing gradient, or "" when it may go."""
    from .verify_calls import resolve_device
    from .verify_custom_gradient import why_not_droppable

    if len(inputs) != 1:
        return "removing a custom gradient is only proven safe for a function of one input"
    name = custom_gradient.function.name
    with quiet():
        return why_not_droppable(original_module[name], rewritten_module[name], np.asarray(inputs[0]),
                                 resolve_device(device), np.random.default_rng(0))


def first_accepted(probes, numpy_fn):
    """(facts, inputs) of the first of `probes` (lists of input facts) the original accepts."""
    for facts in probes[:-1]:
        try:
            return facts, _inputs(facts, numpy_fn)
        except Unverified:
            continue
    return probes[-1], _inputs(probes[-1], numpy_fn)


def numpy_callable(qualname: str):
    """`numpy.kron` as the function itself (the original of a NumPy function wrapped directly)."""
    import importlib

    head, *rest = qualname.split(".")
    value = importlib.import_module(head)
    for attr in rest:
        value = getattr(value, attr)
    return value


def _verify_inputs(numpy_fn, tf_fn, inputs, facts, random, device, domain=None) -> SiteCheck:
    from .verification import verify, verify_distribution

    if not random:
        failure = _traced_failure(tf_fn, inputs, facts)
        if failure:
            return SiteCheck(False, f"verification failed: {failure}")
    try:
        with quiet():
            result = (verify_distribution(numpy_fn, tf_fn, *inputs, device=device) if random
                      else verify(numpy_fn, tf_fn, *inputs, device=device, domain=domain))
    except Exception as exc:  # noqa: BLE001 - the original may reject an input its probe accepted
        raise Unverified(f"running the original failed on a verification input ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0][:160] if str(exc) else ''})") from None
    figures = result.to_dict()
    figures["inputs"] = [f"{a.dtype}{list(a.shape)}" for a in inputs]
    if not result.ok:
        return SiteCheck(False, f"verification failed: {str(result).splitlines()[0]}", figures)
    return SiteCheck(True, "", figures)


def _check_map_fn(conversion, path, original_text, device) -> SiteCheck:
    """The map_fn call and its rewrite, each as a function of the mapped tensor, evaluated in
    the module's namespace (a map_fn over an enclosing function's locals is unverified)."""
    import tensorflow as tf

    from .convert import MAPPED
    from .verification import verify

    namespace = load_module(original_text, path, "original")
    namespace.setdefault("tf", tf)
    call = conversion.site.call
    # the call as written (fn_output_signature and all), mapping MAPPED instead of its elems
    arguments = [MAPPED if a is conversion.site.elems else _segment(original_text, a) for a in call.args]
    arguments += [f"{k.arg}={MAPPED if k.value is conversion.site.elems else _segment(original_text, k.value)}"
                  for k in call.keywords]
    original_src = f"lambda {MAPPED}: {_segment(original_text, call.func)}({', '.join(arguments)})"
    try:
        original = eval(original_src, namespace)  # noqa: S307 - --verify runs user code by design
        rewritten = eval(conversion.function_text, namespace)  # noqa: S307
    except Exception as exc:  # noqa: BLE001
        raise Unverified(f"the mapped function depends on local names ({exc})") from None

    def numpy_side(x):
        result = original(tf.constant(x))
        return tuple(r.numpy() for r in result) if isinstance(result, tuple) else result.numpy()

    declared = conversion.site.elems_declared  # the rewrite may rely on it (the element's rank)
    facts = [declared] if declared is not None and declared.dtype is not None else _Probe([np.dtype("float32")]).inputs
    inputs = _inputs(facts, numpy_side)
    with quiet():
        result = verify(numpy_side, rewritten, *inputs, device=device)
    figures = result.to_dict()
    if not result.ok:
        return SiteCheck(False, f"verification failed: {str(result).splitlines()[0]}", figures)
    return SiteCheck(True, "", figures)


@dataclass
class _Probe:
    """Input facts for probing when the site declares none (map_fn elements)."""

    dtypes: list

    @property
    def inputs(self):
        from .facts import Fact, Kind

        return [Fact(Kind.ARRAY, dtype=d) for d in self.dtypes]


def _segment(text, node) -> str:
    from .parse import SourceMap

    return SourceMap(text).segment(node)


def load_module(text: str, path: str, tag: str) -> dict:
    namespace = {"__name__": "__rewriter_verify__", "__file__": path}
    folder = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, folder)
    # AutoGraph reads a function's source through linecache: it must find this text, not the
    # file on disk (which still holds the original)
    filename = f"<rewriter {tag} {os.path.abspath(path)}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
    try:
        with quiet(), _eager_kept_on(text):
            exec(compile(text, filename, "exec"), namespace)  # --verify: the user asked us to run it
    except BaseException as exc:  # noqa: BLE001 - any failure of user code makes the site unverified
        raise Unverified(f"the {tag} module could not be run ({type(exc).__name__}: {exc})") from None
    finally:
        sys.path.remove(folder)
    return namespace


_EAGER_SWITCHES = ("disable_eager_execution", "disable_v2_behavior")


@contextlib.contextmanager
def _eager_kept_on(text: str):
    """TF1 programs switch eager execution off when imported, and it cannot be switched back on
    once graph ops exist; the checks run both sides eagerly. While such a module runs, the
    switches do nothing and its graph-building code (placeholders) builds a throwaway graph."""
    if not any(switch in text for switch in _EAGER_SWITCHES):
        yield
        return
    import tensorflow as tf

    saved = {switch: getattr(tf.compat.v1, switch) for switch in _EAGER_SWITCHES}
    for switch in saved:
        setattr(tf.compat.v1, switch, lambda: None)
    try:
        with tf.Graph().as_default():
            yield
    finally:
        for switch, function in saved.items():
            setattr(tf.compat.v1, switch, function)


def numpy_side(site, original, bound, strict=False):
    """The original as the verifier calls it: NumPy in, NumPy out, as the wrapper would.
    `strict` (for probing) rejects inputs under which numpy_function would fail on Tout; the
    verifier itself also calls it in float64 for finite differences."""
    def call(*arrays):
        tout = site.tout_for(arrays)
        if site.kind == "py_function":
            import tensorflow as tf

            result = original(*bound, *[tf.constant(a) for a in arrays])
        else:
            result = original(*bound, *arrays)
        outputs = list(result) if isinstance(result, (tuple, list)) else [result]
        outputs = [np.asarray(getattr(o, "numpy", lambda o=o: o)()) for o in outputs]
        if site.kind == "py_function":  # py_function converts results to Tout
            outputs = [o.astype(d) for o, d in zip(outputs, tout)]
        elif strict and any(o.dtype != d for o, d in zip(outputs, tout)):
            raise TypeError("the original's output dtypes differ from Tout")
        return tuple(outputs) if site.tout_is_list else outputs[0]

    return call


def _traced_failure(tf_fn, inputs, facts) -> str:
    """Why the rewrite misbehaves once traced as the program runs it (inside a tf.function,
    with the declared static shape or none, AutoGraph converting its loops), or "" when it
    agrees with its eager run."""
    import tensorflow as tf

    shapes = [fact.shape if getattr(fact, "shape", None) is not None else [None] * np.ndim(a)
              for a, fact in zip(inputs, list(facts) + [None] * len(inputs))]
    specs = [tf.TensorSpec(shape, tf.as_dtype(np.asarray(a).dtype)) for a, shape in zip(inputs, shapes)]
    tensors = [tf.constant(a) for a in inputs]
    try:
        with quiet():
            traced = tf.function(tf_fn, input_signature=specs)(*tensors)
            eager = tf_fn(*tensors)
    except Exception as exc:  # noqa: BLE001 - a rewrite that fails traced fails verification
        return f"the rewrite fails inside a tf.function ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"
    for one, other in zip(tf.nest.flatten(traced), tf.nest.flatten(eager)):
        one, other = np.asarray(one), np.asarray(other)
        if one.shape != other.shape or one.dtype != other.dtype or not np.allclose(one, other, equal_nan=True):
            return "the rewrite gives other values inside a tf.function than eagerly"
    return ""


def _tf_side(rewritten, bound):
    def call(*tensors):
        result = rewritten(*bound, *tensors)
        return tuple(result) if isinstance(result, list) else result

    return call


TIE_ORDER_OPEN = {"numpy.argsort"}
"""NumPy functions whose result on tied values depends on the sort algorithm (argsort's default
kind is not stable): on inputs with ties, a right rewrite and a wrong one both may differ from
NumPy, so such sites are verified on inputs whose values are all distinct."""


def without_ties(arrays) -> tuple:
    """The arrays with their values made distinct where their dtype has room: each repeated
    float moves up to the next representable value above the one before it in sorted order;
    ints become a shuffle of 0..n-1 when that fits the dtype. Bools keep their ties."""
    rng = np.random.default_rng(1)
    out = []
    for array in arrays:
        array = np.asarray(array)
        if array.dtype.kind == "f" and array.size > 1:
            order = np.argsort(array, axis=None, kind="stable")
            values = array.ravel()[order].copy()
            for k in range(1, values.size):
                if not values[k] > values[k - 1]:
                    values[k] = np.nextafter(values[k - 1], array.dtype.type(np.inf))
            flat = np.empty_like(values)
            flat[order] = values
            array = flat.reshape(array.shape)
        elif array.dtype.kind in "iu" and 1 < array.size <= np.iinfo(array.dtype).max + 1:
            array = rng.permutation(array.size).astype(array.dtype).reshape(array.shape)
        out.append(array)
    return tuple(out)


def _inputs(facts, numpy_fn) -> list:
    """Inputs of the given facts, with the declared shapes or, failing that, the first probe
    the original accepts: every dim 6, 4 or 3, or the last one 4 or 3 (columns of boxes, RGB
    channels, a broadcast against a constant of that length). Values are drawn around zero,
    then, if the original rejects all of those (`np.log1p` warns on -1.5), positive."""
    rng = np.random.default_rng(0)
    options = []
    for rank in PROBE_RANKS:
        for dims in PROBE_DIMS:
            shapes = []
            for fact in facts:
                if fact.shape is not None:
                    shapes.append(tuple(DEFAULT_DIM if d is None else d for d in fact.shape))
                else:
                    r = fact.rank if fact.rank is not None else rank
                    shapes.append(tuple(dims[0] for _ in range(r - 1)) + ((dims[1],) if r else ()))
            if shapes not in options:
                options.append(shapes)
    for positive, shapes in ((p, s) for p in (False, True) for s in options):
        arrays = [_values(f.dtype, s, rng, positive) for f, s in zip(facts, shapes)]
        try:
            with quiet():
                numpy_fn(*arrays)
        except Exception:  # noqa: BLE001 - a probe the original rejects is not an input
            continue
        return arrays
    raise Unverified("no probe input was accepted by the original (declare the shapes with "
                      "`# rewriter: args=...`)")


def _values(dtype, shape, rng, positive=False):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) > 0.5
    if dtype.kind in "iu":
        return rng.integers(1 if positive else 0, 5, shape).astype(dtype)
    values = rng.uniform(0.25, 2.0, shape) if positive else rng.standard_normal(shape)
    if dtype.kind == "c":
        values = values + 1j * rng.standard_normal(shape)
    return values.astype(dtype)


@contextlib.contextmanager
def quiet():
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield

