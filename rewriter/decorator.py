"""`@autograph_numpy`: a NumPy function becomes a TF-native, differentiable `tf.function`.

At the first call with a new input signature (dtypes and ranks), the function's source is
rewritten by the same engine as the CLI, with facts the source alone can't give: the input
dtypes of the call, what its global and closure names hold (NumPy arrays become graph
constants once per trace), and the user functions it calls (converted recursively). The
result is compiled against the function's own globals and closure cells.

It never breaks user code: when something can't be converted (no source, an unsupported
call) the original runs through `tf.numpy_function` with inferred output dtypes, and one
warning says what and why. The conversion itself is in `decorator_convert.py`.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np

from . import RewriterWarning
from .decorator_convert import ConversionError, CustomGradientOrder, convert, fact_of
from .facts import Kind

__all__ = ["autograph_numpy", "NumpyFunction", "ConversionError", "CustomGradientOrder", "convert", "fact_of"]


class NumpyFunction:
    """The object `@autograph_numpy` returns: callable like a `tf.function`."""

    def __init__(self, fn, verify=False, input_signature=None, jit_compile=None, reduce_retracing=False):
        if type(fn).__module__.endswith("custom_gradient"):  # @autograph_numpy over @tf.custom_gradient
            raise CustomGradientOrder(CustomGradientOrder.ADVICE)
        functools.update_wrapper(self, fn)
        self.original = fn
        self._verify = verify
        self._input_signature = input_signature
        self._tf_options = {"jit_compile": jit_compile, "reduce_retracing": reduce_retracing}
        self._specialisations: dict = {}
        self._warned = False
        self.report: list = []
        self.rewritten_source: str | None = None
        if input_signature is not None:
            self._specialise([fact_of(spec) for spec in input_signature], None)

    def __get__(self, instance, _owner=None):
        if instance is None:
            return self
        return functools.partial(self.__call__, instance)

    # AutoGraph (which tf.data runs on map functions) must not convert this dispatcher: what it
    # calls is the engine, not graph code, and converting it only prints warnings about it.
    # This is the mark `tf.autograph.experimental.do_not_convert` leaves, without importing TF.
    autograph_info__ = frozenset()

    def __call__(self, *args):
        key = tuple(_key(fact_of(a), a) for a in args)
        if self._input_signature is not None:
            key = next(iter(self._specialisations))
        function = self._specialisations.get(key)
        if function is None:
            function = self._specialise([fact_of(a) for a in args], args)
            self._specialisations[key] = function
        return function(*args)

    __call__.autograph_info__ = frozenset()

    def _specialise(self, facts, args):
        import tensorflow as tf

        options = {k: v for k, v in self._tf_options.items() if v}
        try:
            compiled, text, returns, patterns, control_flow = convert(self.original, facts)
        except ConversionError as exc:
            return self._fall_back(str(exc), facts, args)
        graph_fn = tf.function(compiled, input_signature=self._input_signature, autograph=control_flow, **options)
        if self._verify and args is not None:
            from .verification import verify

            check = verify(self.original, graph_fn, *[_as_numpy(a) for a in args])
            self.report.append({"status": "verified" if check.ok else "verification failed",
                                "details": str(check)})
            if not check.ok:
                return self._fall_back(f"verification failed: {check}", facts, args)
        self.rewritten_source = text
        self.report.append({"status": "converted", "inputs": _describe(facts), "patterns": list(patterns)})
        if self._input_signature is not None:
            self._specialisations[tuple(_key(f, None) for f in facts)] = graph_fn
        return graph_fn

    def _fall_back(self, reason, facts, args):
        import tensorflow as tf

        self.report.append({"status": "fell back", "inputs": _describe(facts), "reason": reason})
        if not self._warned:
            self._warned = True
            warnings.warn(f"{self.original.__qualname__} runs as NumPy through tf.numpy_function: {reason}",
                          RewriterWarning, stacklevel=4)
        tout, sequence = _infer_tout(self.original, facts, args)
        original = self.original

        def through_numpy(*inputs):
            result = tf.numpy_function(original, list(inputs), tout)
            return result if sequence else result[0]

        return tf.function(through_numpy, input_signature=self._input_signature)

    def __repr__(self):
        return f"<autograph_numpy {self.original.__qualname__}>"


def _key(fact, value):
    if fact is None:
        return ("object", type(value).__name__)
    if fact.kind is Kind.SCALAR:
        return ("scalar", fact.pytype.__name__)
    return ("array", str(fact.dtype), fact.rank)


def _describe(facts) -> str:
    return ", ".join("?" if f is None else (f"{f.dtype}[rank {f.rank}]" if f.kind is Kind.ARRAY else f.pytype.__name__)
                     for f in facts)


def _as_numpy(value):
    return value.numpy() if hasattr(value, "numpy") else value


def _sample_inputs(facts, args):
    """The call's own inputs when they have values (an eager call), else zeros of the inputs'
    dtypes and ranks (a first call inside a tf.function or a tf.data map has only symbols)."""
    values = [_as_numpy(a) for a in args] if args is not None else None
    if values is not None and all(isinstance(v, (np.ndarray, np.generic, bool, int, float, complex)) for v in values):
        return values
    return [np.zeros((1,) * (f.rank or 0), f.dtype) if f is not None and f.kind is Kind.ARRAY else 0.0
            for f in facts]


def _call_original(fn, facts, args):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*_sample_inputs(facts, args))


def _infer_tout(fn, facts, args):
    """(output dtypes, whether it returns a sequence) of the original, from one run on the
    call's inputs (or zeros when there are none yet)."""
    import tensorflow as tf

    result = _call_original(fn, facts, args)
    sequence = isinstance(result, (tuple, list))
    outputs = list(result) if sequence else [result]
    return [tf.as_dtype(np.asarray(o).dtype) for o in outputs], sequence


def autograph_numpy(fn=None, *, verify=False, input_signature=None, jit_compile=None, reduce_retracing=False):
    """Decorate a NumPy function; get a tf.function that computes the same in the graph.

    Use bare (`@autograph_numpy`), with options (`@autograph_numpy(verify=True)`), or as a
    call (`g = autograph_numpy(f)`). The result has `.rewritten_source`, `.report` and
    `.original`."""
    options = dict(verify=verify, input_signature=input_signature, jit_compile=jit_compile,
                   reduce_retracing=reduce_retracing)
    if fn is None:
        return lambda f: NumpyFunction(f, **options)
    return NumpyFunction(fn, **options)
