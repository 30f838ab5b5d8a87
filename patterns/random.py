"""Random numbers: NumPy's global generator (`np.random.normal`, ...) and its `Generator` API
(`np.random.default_rng(seed).normal(...)`).

A rewrite draws from the same distribution as NumPy, never the same numbers (`random=True`:
tests compare samples statistically). What is kept exactly is everything else NumPy decides:
the dtype (float64 for floats, int64 for integers unless `dtype=` says otherwise), the shape
(`size`, or the broadcast shape of array parameters when `size` is None), which bounds are
inclusive, and what the parameters mean (NumPy's `scale` is a standard deviation or 1/rate,
TF's `beta` is a rate).

`size=None` with scalar parameters gives NumPy a Python scalar (`np.random.rand()` is a
`float`, `np.random.randint(5)` an `int`); the rewrite gives a 0-d tensor (float64, int64)
with the fact of a Python scalar, so it promotes as weakly as NumPy's Python number does
(`np.random.rand() * x32` stays float32). Where NumPy gives a NumPy scalar (`Generator.integers`,
`choice` from an array, an explicit NumPy `dtype=`), the fact is a 0-d array of that dtype.

Global generator: lowered to TF's stateful ops (`tf.random.normal`, ...), which draw new
numbers on every run, in eager mode, under `tf.function` and in `tf.data` maps alike.
`np.random.seed` is refused: TF has no way to reproduce NumPy's stream, and
`tf.random.set_seed` would change how every other TF op in the program draws.

Generator: `tf.random.Generator` cannot be used. Created inside a function traced by
`tf.function` (or a `tf.data` map), `tf.random.Generator.from_seed(...)` fails at the first
call in TF 2.21 ("tf.function only supports singleton tf.Variables created on the first
call"), because it creates a variable on every trace. So `np.random.default_rng(seed)` becomes
a stateless key, `tf.constant([0, seed], tf.int64)` (a fresh random key when there is no
seed), and each draw from it a stateless op whose seed folds a number unique to the call site
into that key (`tf.random.experimental.stateless_fold_in(rng, 3)`). That keeps NumPy's
reproducibility: with a seed, every call of the rewritten function draws the same numbers,
as every call of the original does (the numbers differ from NumPy's). A draw inside a loop
would repeat the same numbers on every iteration, so it is refused; so is a draw from a
Generator made outside the function (its type is not known there).
"""
import re

import gast
import numpy as np

from rewriter import facts as F
from rewriter.facts import Fact, Kind, tf_name
from rewriter.lower import Lowered
from rewriter.pattern import ALL, INTS, NUMERIC, Batch, Cast, Domain, Pattern

FAMILY_CODE = "NPG"

_PARAMS = Domain(dtypes=NUMERIC, ranks=(0, 1, 2), grad=False, broadcast=False)
_ANY = Domain(dtypes=ALL, ranks=(1, 2), grad=False, broadcast=False)
_GENERATOR = "numpy.random.Generator"
_SEED_FROM_GLOBAL = "tf.random.uniform([2], maxval=tf.int64.max, dtype=tf.int64)"
_F64 = np.dtype("float64")
_I64 = np.dtype("int64")


# -- facts -----------------------------------------------------------------------------------

def _none(fact) -> bool:
    return fact is None or (fact.kind is Kind.OTHER and fact.known and fact.value is None)


def _size_rank(size: Fact):
    """Rank of the result from a `size` argument's fact (None: not known)."""
    if size.kind is Kind.SCALAR:
        return 1
    if size.kind is Kind.TUPLE:
        return len(size.items)
    if size.kind is Kind.SHAPE:
        return size.rank
    return None


def _python_scalar(dtype) -> Fact:
    """A Python number NumPy returns for a scalar draw, held as a 0-d tensor."""
    return Fact(Kind.SCALAR, pytype=bool if dtype.kind == "b" else int if dtype.kind in "iu" else float,
                tensor=True)


def _draw_fact(facts, params, dtype, python_scalar=True) -> Fact:
    """The fact of a draw: rank from `size`, or from the broadcast of array parameters."""
    size = facts.get("size")
    if not _none(size):
        return F.array(dtype, _size_rank(size))
    ranks = [facts[n].rank for n in params if n in facts and facts[n].kind is Kind.ARRAY]
    ranks += [1 for n in params if n in facts and facts[n].kind is Kind.TUPLE]
    if any(r is None for r in ranks):
        return F.array(dtype, None)
    rank = max(ranks, default=0)
    if rank == 0:
        return _python_scalar(dtype) if python_scalar else F.array(dtype, 0)
    return F.array(dtype, rank)


def _given_dtype(facts, name, default):
    fact = facts.get(name)
    if _none(fact):
        return np.dtype(default)
    value = fact.value if fact.known else None
    dtype = F.as_dtype(value) if value is not None else None
    return dtype if dtype is not None else np.dtype(default)


def _result(*params, dtype=_F64, python_scalar=True, dtype_param=None):
    def result(facts):
        chosen = _given_dtype(facts, dtype_param, dtype) if dtype_param else np.dtype(dtype)
        return _draw_fact(facts, params, chosen, python_scalar)

    return result


def _dims_result(facts):
    """rand(3, 4): the dimensions are the arguments."""
    dims = facts.get("args")
    return F.array(_F64, len(dims.items)) if dims is not None and dims.items else _python_scalar(_F64)


# -- argument text ---------------------------------------------------------------------------

_ATOM = r"[-+]?[\w.]+"
_CHEAP = re.compile(rf"{_ATOM}|\[({_ATOM}(, )?)*\]|tf\.(cast|shape)\([\w.]+(, [\w.]+)?\)")


def _cheap(text: str) -> bool:
    """Whether an argument's text may be written twice (a name, a number, a cast of a name)."""
    return _CHEAP.fullmatch(text.strip()) is not None


def _given(call, name) -> bool:
    return call.given(name) and not _none(call.fact(name))


def _scalar_like(fact) -> bool:
    return fact.kind is Kind.SCALAR or (fact.kind is Kind.ARRAY and fact.rank == 0)


def _param(call, name, dtype=_F64) -> str:
    """A distribution parameter in `dtype`: Python numbers stay literals (TF converts them to
    the op's dtype), tensors are cast."""
    fact = call.fact(name)
    if fact.kind is Kind.SCALAR and not fact.tensor:
        return call.text(name)
    if fact.kind in (Kind.ARRAY, Kind.SCALAR):
        if fact.kind is Kind.ARRAY and fact.dtype is not None and fact.dtype.kind not in "biuf":
            call.refuse(f"`{name}` must be real")
        return call.cast(name, dtype)
    if fact.kind is Kind.OTHER and not fact.known and _module_number(call, name):
        return call.text(name)  # NOISE_STD = 0.1 at module level: a Python number
    call.refuse(f"`{name}` must be a number or an array (a list is not rewritten)")


def _module_number(call, name) -> bool:
    """Whether argument `name` is (minus) a name bound once, at module level, to a number
    literal: the engine does not track module constants (`NOISE_STD = 0.1`)."""
    from rewriter.calls import numpy_object
    from rewriter.lower import signature_of

    signature = signature_of(call.pattern, numpy_object(call.pattern))
    positional = list(call.node.args)
    if "self" in call.args:
        positional.insert(0, None)
    try:
        node = signature.bind(*positional, **{k.arg: k.value for k in call.node.keywords}).arguments.get(name)
    except TypeError:
        return False
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        node = node.operand
    if not isinstance(node, gast.Name):
        return False
    resolver = call.lowering.resolver
    definitions = resolver.definitions(node)
    if len(definitions) != 1:
        return False
    assign = resolver.parents.get(definitions[0])
    return (isinstance(assign, gast.Assign) and isinstance(resolver.parents.get(assign), gast.Module)
            and len(assign.targets) == 1 and assign.targets[0] is definitions[0]
            and isinstance(assign.value, gast.Constant) and type(assign.value.value) in (int, float))


def _param_tensor(call, name, dtype=_F64) -> str:
    """Like `_param`, but a Python literal becomes a tensor of `dtype` (ops whose parameter
    would otherwise be converted to float32)."""
    fact = call.fact(name)
    if fact.kind is Kind.SCALAR and not fact.tensor:
        return f"tf.constant({call.text(name)}, {tf_name(dtype)})"
    return _param(call, name, dtype)


def _array_params(call, params):
    return [n for n in params if call.given(n) and call.fact(n).kind is Kind.ARRAY and call.fact(n).rank != 0]


def _shape(call, params=()) -> str:
    """The shape to draw: `size` as TF takes it, else the broadcast shape of array parameters
    (NumPy's result shape when `size` is None)."""
    if _given(call, "size"):
        fact = call.fact("size")
        if fact.kind is Kind.SCALAR:
            return f"[{call.text('size')}]"
        if fact.kind is Kind.TUPLE:
            items = call.args["size"].items
            if items is None or any(i.fact.kind is not Kind.SCALAR for i in items):
                call.refuse("`size` must be a tuple of integers")
            return f"[{', '.join(i.text for i in items)}]"
        if fact.kind is Kind.SHAPE:
            return call.text("size")
        call.refuse("`size` must be an integer, a tuple or a shape")
    arrays = _array_params(call, params)
    for name in arrays:
        if not _cheap(call.text(name)):
            call.refuse(f"`{name}` is needed twice (for its shape); assign it to a name first")
    if not arrays:
        return "[]"
    shapes = [f"tf.shape({call.text(n)})" for n in arrays]
    out = shapes[0]
    for other in shapes[1:]:
        out = f"tf.broadcast_dynamic_shape({out}, {other})"
    return out


def _scalar_result(call, text: str) -> Lowered:
    """A draw whose result fact is the pattern's (a Python scalar stays a 0-d tensor)."""
    return Lowered(text, call.result, True)


def _require_scalars(call, *names):
    for name in names:
        if call.given(name) and not _scalar_like(call.fact(name)):
            call.refuse(f"an array `{name}` is not rewritten")


# -- drawing: stateful ops for the global generator, stateless ones for a Generator --------

class _Draws:
    """Spells TF's draws for one NumPy call.

    The global generator maps to TF's stateful ops. A `Generator` is a stateless key (see the
    module docstring): each draw gets its own seed, the key with a number folded in that is
    unique to the call site (and to the draw within it)."""

    def __init__(self, call):
        self.call = call
        self.key = call.text("self") if "self" in call.args else None
        self.count = 0
        if self.key is not None:
            if _inside_loop(call):
                call.refuse("a Generator draw inside a loop would repeat the same numbers on every "
                            "iteration (Generators become stateless TF ops)")
            self.site = _site(call)

    @property
    def stateless(self) -> bool:
        return self.key is not None

    def seed(self) -> str:
        number = self.site * 4 + self.count
        self.count += 1
        return f"tf.random.experimental.stateless_fold_in({self.key}, {number})"

    def _kw(self, **kwargs) -> str:
        return "".join(f", {k}={v}" for k, v in kwargs.items() if v is not None)

    def uniform(self, shape, minval=None, maxval=None, dtype="tf.float64") -> str:
        extra = self._kw(minval=minval, maxval=maxval, dtype=dtype)
        if self.stateless:
            return f"tf.random.stateless_uniform({shape}, seed={self.seed()}{extra})"
        return f"tf.random.uniform({shape}{extra})"

    def normal(self, shape, mean=None, stddev=None, dtype="tf.float64") -> str:
        extra = self._kw(mean=mean, stddev=stddev, dtype=dtype)
        if self.stateless:
            return f"tf.random.stateless_normal({shape}, seed={self.seed()}{extra})"
        return f"tf.random.normal({shape}{extra})"

    def gamma(self, shape, alpha, alpha_is_array=False) -> str:
        """Gamma(alpha, 1) draws of exactly `shape` (alpha broadcasts to it)."""
        if self.stateless:
            return f"tf.random.stateless_gamma({shape}, seed={self.seed()}, alpha={alpha}, dtype=tf.float64)"
        if alpha_is_array:  # tf.random.gamma's result is shape + alpha.shape
            return f"tf.random.gamma([], tf.broadcast_to({alpha}, {shape}), dtype=tf.float64)"
        return f"tf.random.gamma({shape}, {alpha}, dtype=tf.float64)"

    def poisson(self, shape, lam, lam_is_array=False) -> str:
        if self.stateless:
            return f"tf.random.stateless_poisson({shape}, seed={self.seed()}, lam={lam}, dtype=tf.int64)"
        if lam_is_array:  # tf.random.poisson's result is shape + lam.shape
            return f"tf.random.poisson([], tf.broadcast_to({lam}, {shape}), dtype=tf.int64)"
        return f"tf.random.poisson({shape}, {lam}, dtype=tf.int64)"

    def binomial(self, shape, counts, probs) -> str:
        # TF's binomial exists only stateless: the global generator gets a fresh random seed.
        seed = self.seed() if self.stateless else _SEED_FROM_GLOBAL
        return (f"tf.random.stateless_binomial({shape}, seed={seed}, counts={counts}, probs={probs}, "
                "output_dtype=tf.int64)")

    def categorical(self, logits, count) -> str:
        if self.stateless:
            return f"tf.random.stateless_categorical({logits}, {count}, seed={self.seed()})"
        return f"tf.random.categorical({logits}, {count})"

    def shuffle(self, value) -> str:
        if self.stateless:
            return f"tf.random.experimental.stateless_shuffle({value}, seed={self.seed()})"
        return f"tf.random.shuffle({value})"


def _site(call) -> int:
    """The call's position among the calls of its function: unique, and stable however often
    the lowering visits it (loops are lowered more than once)."""
    calls = sorted((n for n in gast.walk(call.lowering.fn) if isinstance(n, gast.Call)),
                   key=lambda n: (n.lineno, n.col_offset))
    return next(i for i, n in enumerate(calls) if n is call.node)


def _inside_loop(call) -> bool:
    for loop in gast.walk(call.lowering.fn):
        if isinstance(loop, (gast.For, gast.While)):
            if any(n is call.node for stmt in loop.body for n in gast.walk(stmt)):
                return True
    return False


# -- continuous distributions ----------------------------------------------------------------

def _uniform01(call):
    """Uniform on [0, 1) in float64 (float32 for a Generator's dtype=np.float32)."""
    draws = _Draws(call)
    dtype = _dtype_arg(call)
    text = draws.uniform(_shape(call), dtype=tf_name(dtype))
    return _scalar_result(call, _as_python_float(call, text, dtype))


def _standard_normal(call):
    """Standard normal in float64 (or the Generator's dtype)."""
    draws = _Draws(call)
    dtype = _dtype_arg(call)
    text = draws.normal(_shape(call), dtype=tf_name(dtype))
    return _scalar_result(call, _as_python_float(call, text, dtype))


def _dtype_arg(call, default=_F64):
    """The dtype a Generator method draws in (its `dtype=`; float64 by default)."""
    if "dtype" not in call.args or not call.given("dtype"):
        return np.dtype(default)
    dtype = _given_dtype({"dtype": call.fact("dtype")}, "dtype", default)
    if dtype.name not in ("float32", "float64"):
        call.refuse(f"dtype {dtype} is not supported by NumPy here")
    return dtype


def _as_python_float(call, text, dtype):
    """A scalar float32 draw is a Python float (float64) in NumPy."""
    if call.result.kind is Kind.SCALAR and dtype != _F64:
        return f"tf.cast({text}, tf.float64)"
    return text


def _dims(call):
    """rand(d0, d1, ...) / randn(d0, d1, ...): the dimensions are the arguments."""
    if call.given("args"):
        items = call.args["args"].items
        if any(i.fact.kind is not Kind.SCALAR for i in items):
            call.refuse("dimensions must be integers")
        return f"[{', '.join(i.text for i in items)}]"
    return "[]"


def _rand(call):
    """tf.random.uniform in float64: [0, 1) like NumPy."""
    return _scalar_result(call, _Draws(call).uniform(_dims(call)))


def _randn(call):
    """tf.random.normal in float64."""
    return _scalar_result(call, _Draws(call).normal(_dims(call)))


def _uniform(call):
    """low + (high - low) * U[0, 1) in float64, as NumPy computes it (high is excluded, up to rounding)."""
    draws = _Draws(call)
    shape = _shape(call, ("low", "high"))
    low = _param(call, "low") if call.given("low") else None
    high = _param(call, "high") if call.given("high") else None
    return _scalar_result(call, draws.uniform(shape, minval=low, maxval=high))


def _normal(call):
    """tf.random.normal in float64; NumPy's `scale` is the standard deviation (TF's stddev)."""
    draws = _Draws(call)
    shape = _shape(call, ("loc", "scale"))
    mean = _param(call, "loc") if call.given("loc") else None
    stddev = _param(call, "scale") if call.given("scale") else None
    return _scalar_result(call, draws.normal(shape, mean=mean, stddev=stddev))


def _lognormal(call):
    """exp of a normal draw with NumPy's `mean` and `sigma` (of the underlying normal)."""
    draws = _Draws(call)
    shape = _shape(call, ("mean", "sigma"))
    mean = _param(call, "mean") if call.given("mean") else None
    stddev = _param(call, "sigma") if call.given("sigma") else None
    return _scalar_result(call, f"tf.exp({draws.normal(shape, mean=mean, stddev=stddev)})")


def _scaled(call, text, scale="scale", loc=None):
    """loc + scale * text, leaving out what the call leaves out."""
    if call.given(scale):
        text = f"{_factor(_param(call, scale))} * {text}"
    if loc and call.given(loc):
        text = f"{_factor(_param(call, loc))} + {text}"
    return text


def _factor(text):
    from rewriter.pattern import parenthesize

    return parenthesize(text)


def _exponential(call):
    """scale * Gamma(1): NumPy's `scale` is 1/rate (TF's gamma `beta` would be the rate)."""
    draws = _Draws(call)
    shape = _shape(call, ("scale",))
    return _scalar_result(call, _scaled(call, draws.gamma(shape, "1.0")))


def _standard_exponential(call):
    """Gamma(1) draws: the exponential with rate 1."""
    return _scalar_result(call, _Draws(call).gamma(_shape(call), "1.0"))


_SUBNORMAL_SAFE = 0.02
"""Gamma and beta shapes below this put a measurable share of draws under 2.2e-308, where TF
differs from NumPy: TF flushes subnormal floats to zero and its gamma sampler clamps at
2.2e-308 (at shape 0.001 NumPy's Gamma is exactly 0 for 47% of draws, TF's never; at 0.02 the
difference is below 1e-6)."""


def _refuse_tiny_shapes(call, *names):
    for name in names:
        fact = call.fact(name) if call.given(name) else None
        if fact is not None and fact.known and isinstance(fact.value, (int, float)) \
                and fact.value < _SUBNORMAL_SAFE:
            call.refuse(f"`{name}` below {_SUBNORMAL_SAFE}: many draws fall under 2.2e-308, where TF "
                        "flushes subnormals to zero and clamps its gamma draws, unlike NumPy")


def _gamma(call):
    """scale * Gamma(shape, 1): NumPy's `scale` is a scale, TF's `beta` a rate."""
    _refuse_tiny_shapes(call, "shape")
    draws = _Draws(call)
    alpha = _param(call, "shape")
    if _alone(call, "shape") and not draws.stateless:  # the draw takes alpha's shape by itself
        return _scalar_result(call, _scaled(call, f"tf.random.gamma([], {alpha}, dtype=tf.float64)"))
    shape = _shape(call, ("shape", "scale"))
    alpha_array = bool(_array_params(call, ("shape",)))
    return _scalar_result(call, _scaled(call, draws.gamma(shape, alpha, alpha_array)))


def _laplace(call):
    """loc + scale * (E1 - E2) with E1, E2 ~ Exp(1): the Laplace distribution exactly."""
    draws = _Draws(call)
    shape = _shape(call, ("loc", "scale"))
    if not _cheap(shape):
        call.refuse("the shape is needed twice; assign `size` to a name first")
    diff = f"({draws.gamma(shape, '1.0')} - {draws.gamma(shape, '1.0')})"
    return _scalar_result(call, _scaled(call, diff, loc="loc"))


def _logistic(call):
    """loc + scale * log(E1 / E2) with E1, E2 ~ Exp(1): log(U / (1 - U)), the logistic exactly."""
    draws = _Draws(call)
    shape = _shape(call, ("loc", "scale"))
    if not _cheap(shape):
        call.refuse("the shape is needed twice; assign `size` to a name first")
    diff = f"(tf.math.log({draws.gamma(shape, '1.0')}) - tf.math.log({draws.gamma(shape, '1.0')}))"
    return _scalar_result(call, _scaled(call, diff, loc="loc"))


def _beta(call):
    """X / (X + Y) for X ~ Gamma(a), Y ~ Gamma(b), in log space: log Gamma(a) is
    log Gamma(a + 1) + log(U) / a, so small `a` and `b` (where both gammas may underflow and
    X / (X + Y) would be NaN) still give NumPy's distribution; the result is sigmoid(lx - ly)."""
    _require_scalars(call, "a", "b")
    _refuse_tiny_shapes(call, "a", "b")
    draws = _Draws(call)
    shape = _shape(call)
    a, b = _param(call, "a"), _param(call, "b")
    if not all(_cheap(t) for t in (shape, a, b)):
        call.refuse("`a`, `b` and `size` are needed more than once; assign them to names first")

    def log_gamma(alpha):
        return (f"tf.math.log({draws.gamma(shape, f'{alpha} + 1')}) + "
                f"tf.math.log1p(-{draws.uniform(shape)}) / {alpha}")

    return _scalar_result(call, f"tf.sigmoid({log_gamma(a)} - ({log_gamma(b)}))")


# -- discrete distributions ------------------------------------------------------------------

def _python_int_dtype(call, position) -> bool:
    """Whether `dtype=` is absent with a Python default, or spelled as a Python type
    (`int`, `bool`): NumPy then returns a Python scalar for a scalar draw."""
    node = next((k.value for k in call.node.keywords if k.arg == "dtype"), None)
    if node is None and len(call.node.args) > position:
        node = call.node.args[position]
    if node is None:
        return call.pattern.numpy == "numpy.random.randint"
    return isinstance(node, gast.Name) and node.id in ("int", "bool") and \
        call.lowering.resolver.builtin(node) in (int, bool)


_BIAS_FREE_RANGE = 2 ** 40


def _integers_text(call, draws, low, high, dtype) -> str:
    """Uniform integers in [low, high) of `dtype`, always drawn in int64 and cast (exact: every
    value lies in the dtype's range). TF reduces random bits modulo the range, which favours
    some values by a factor of up to 1 + range / 2**bits: with 64 bits that is below 1e-7 for
    ranges under 2**40, while int32 draws would be visibly biased for ranges near 2**31."""
    text = draws.uniform(_shape(call), minval=low, maxval=high, dtype="tf.int64")
    return text if dtype == _I64 else f"tf.cast({text}, {tf_name(dtype)})"


def _bound(call, name, dtype) -> str:
    fact = call.fact(name)
    if fact.kind is Kind.SCALAR and not fact.tensor:
        if fact.known and not isinstance(fact.value, int):
            call.refuse(f"`{name}` must be an integer")
        return call.text(name)
    if fact.dtype is not None and fact.dtype.kind not in "iu":
        call.refuse(f"`{name}` must be an integer")
    return call.cast(name, dtype)


def _integers(position, inclusive=False, one_based=False):
    def lower(call):
        _require_scalars(call, "low", "high")
        dtype = call.result.dtype
        if dtype.kind not in "biu":
            call.refuse(f"dtype {dtype} is not an integer type")
        draws = _Draws(call)
        draw_dtype = _I64
        upper = "high" if _given(call, "high") else "low"
        if upper == "high":
            low = _bound(call, "low", draw_dtype)
        else:  # randint(n), integers(n): [0, n); random_integers(n): [1, n]
            low = "1" if one_based else "0"
        high = _bound(call, upper, draw_dtype)
        closed = inclusive or ("endpoint" in call.args and call.const("endpoint", False))
        if closed:
            fact = call.fact(upper)
            high = str(fact.value + 1) if fact.known else f"{_factor(high)} + 1"
        bounds = [low if upper == "low" else call.fact("low").value, call.fact(upper).value]
        if all(isinstance(b, int) or (isinstance(b, str) and b.lstrip("-").isdigit()) for b in bounds):
            span = int(bounds[1]) - int(bounds[0]) + (1 if closed else 0)
            if span > _BIAS_FREE_RANGE:
                call.refuse(f"a range of {span} integers: TF's draw (random bits modulo the range) "
                            "is measurably biased beyond 2**40")
        text = _integers_text(call, draws, low, high, dtype)
        if call.result.rank == 0 and not _given(call, "size") and _python_int_dtype(call, position):
            return Lowered(text, _python_scalar(dtype), True)
        return Lowered(text, call.result, True)

    lower.__doc__ = ("uniform integers in [low, high]" if inclusive else
                     "tf.random.uniform integers in [low, high) (high exclusive; one bound means [0, n))")
    return lower


def _integer_result(dtype_param=None, default=_I64):
    def result(facts):
        dtype = _given_dtype(facts, dtype_param, default) if dtype_param else np.dtype(default)
        return _draw_fact(facts, ("low", "high"), dtype, python_scalar=False)

    return result


def _poisson(call):
    """tf.random.poisson in int64 (NumPy's C long); the rate in float64."""
    draws = _Draws(call)
    lam = _param_tensor(call, "lam") if call.given("lam") else "tf.constant(1.0, tf.float64)"
    if _alone(call, "lam") and not draws.stateless:  # the draw takes lam's shape by itself
        return _scalar_result(call, f"tf.random.poisson([], {lam}, dtype=tf.int64)")
    shape = _shape(call, ("lam",))
    return _scalar_result(call, draws.poisson(shape, lam, bool(_array_params(call, ("lam",)))))


def _alone(call, name) -> bool:
    """No `size`, and `name` is the only array parameter: the result has its shape."""
    params = [n for n in call.args if n not in ("self", "size")]
    return not _given(call, "size") and _array_params(call, params) == [name]


def _binomial(call):
    """tf.random.stateless_binomial in int64 (counts and probs in float64, as TF requires)."""
    fact = call.fact("n")
    if fact.kind is Kind.ARRAY and fact.dtype is not None and fact.dtype.kind not in "iu":
        call.refuse("`n` must be an integer")
    draws = _Draws(call)
    shape = _shape(call, ("n", "p"))
    return _scalar_result(call, draws.binomial(shape, _param_tensor(call, "n"), _param_tensor(call, "p")))


# -- choice and permutation ------------------------------------------------------------------

def _population(facts):
    """(dtype of the values, rank of `a`) of choice's population."""
    a = facts.get("a", facts.get("x"))
    if a.kind is Kind.SCALAR or (a.kind is Kind.ARRAY and a.rank == 0):
        return _I64, 0
    if a.kind is Kind.ARRAY:
        return a.dtype, a.rank
    if a.kind is Kind.TUPLE and a.items and all(i.kind is Kind.SCALAR and i.known for i in a.items):
        return np.asarray([i.value for i in a.items]).dtype, 1
    return None, None


def _choice_result(facts):
    dtype, rank = _population(facts)
    dtype = dtype if dtype is not None else _I64
    size = facts.get("size")
    if not _none(size):
        return F.array(dtype, _size_rank(size))
    return _python_scalar(dtype) if rank == 0 else F.array(dtype, 0)


def _values(call, name):
    """The population as a tensor (a list literal of numbers becomes a constant)."""
    fact = call.fact(name)
    if fact.kind is Kind.TUPLE:
        dtype, _ = _population({"a": fact})
        if dtype is None:
            call.refuse(f"`{name}` must be an array or a list of numbers")
        return f"tf.constant({call.text(name)}, {tf_name(dtype)})"
    if fact.kind is not Kind.ARRAY or fact.rank != 1:
        call.refuse(f"`{name}` must be an integer or a 1-D array")
    return call.text(name)


def _count_and_shape(call):
    """(number of draws, final shape or None for one scalar draw)."""
    if not _given(call, "size"):
        return "1", None
    fact = call.fact("size")
    shape = _shape(call)
    if fact.kind is Kind.SCALAR:
        return call.text("size"), shape
    if fact.kind is Kind.TUPLE and all(i.known for i in fact.items):
        return str(int(np.prod([i.value for i in fact.items]))), shape
    if not _cheap(shape):
        call.refuse("`size` is needed twice; assign it to a name first")
    return f"tf.reduce_prod({shape})", shape


def _choice(call):
    """Uniform indices (or categorical ones when `p=` is given), then the values at them;
    without replacement: the first draws of a random permutation (NumPy's distribution too)."""
    if call.given("axis") and call.const("axis", 0) != 0:
        call.refuse("axis != 0 is not rewritten")
    replace = call.const("replace", True)
    has_p = _given(call, "p")
    if not replace and call.given("shuffle") and not call.const("shuffle", True):
        call.refuse("shuffle=False keeps an order NumPy does not document")
    if not replace and has_p:
        call.refuse("sampling without replacement with weights `p` is not rewritten")
    draws = _Draws(call)
    a = call.fact("a")
    is_count = _scalar_like(a)
    if is_count:
        n = _bound(call, "a", _I64)
        values = None
    else:
        values = _values(call, "a")
        if not _cheap(values) and (replace and not has_p):
            call.refuse("`a` is needed twice; assign it to a name first")
    count, shape = _count_and_shape(call)
    scalar = shape is None
    if not replace:
        population = f"tf.range({n}, dtype=tf.int64)" if is_count else values
        text = f"{draws.shuffle(population)}[:{count}]" if not scalar else f"{draws.shuffle(population)}[0]"
        if shape is not None and call.fact("size").kind is not Kind.SCALAR:
            text = f"tf.reshape({text}, {shape})"
        return _scalar_result(call, text)
    if has_p:
        p = call.fact("p")
        if p.kind is Kind.TUPLE:
            logits = f"tf.math.log(tf.constant([{call.text('p')}], tf.float64))"
        elif p.kind is Kind.ARRAY and p.rank == 1:
            logits = f"tf.math.log({call.cast('p', _F64)})[tf.newaxis]"
        else:
            call.refuse("`p` must be a 1-D array or a list")
        index = f"{draws.categorical(logits, count)}[0]"
        if scalar:
            index = f"{index}[0]"
        elif call.fact("size").kind is not Kind.SCALAR:
            index = f"tf.reshape({index}, {shape})"
    else:
        upper = n if is_count else f"tf.shape({values}, out_type=tf.int64)[0]"
        index = draws.uniform(shape or "[]", minval="0", maxval=upper, dtype="tf.int64")
    text = index if is_count else f"tf.gather({values}, {index})"
    return _scalar_result(call, text)


def _permutation_result(facts):
    dtype, rank = _population({"a": facts.get("x")})
    return F.array(dtype if dtype is not None else _I64, 1 if rank in (0, None) else rank)


def _permutation(call):
    """tf.random.shuffle (along the first axis, as NumPy); an integer n permutes arange(n) in int64."""
    if call.given("axis") and call.const("axis", 0) != 0:
        call.refuse("axis != 0 is not rewritten")
    fact = call.fact("x")
    draws = _Draws(call)
    if _scalar_like(fact):
        return draws.shuffle(f"tf.range({_bound(call, 'x', _I64)}, dtype=tf.int64)")
    if fact.kind is Kind.TUPLE:
        return draws.shuffle(_values(call, "x"))
    if fact.kind is not Kind.ARRAY or not fact.rank:
        call.refuse("`x` must be an integer or an array of rank >= 1")
    return draws.shuffle(call.text("x"))


# -- refusals and the Generator itself ---------------------------------------------------------

def _refuse(reason):
    def lower(call):
        call.refuse(reason)

    lower.__doc__ = f"refused: {reason}"
    return lower


_SHUFFLE_REASON = ("shuffles its argument in place, which a TF tensor cannot do; "
                   "write `x = np.random.permutation(x)` instead")


def _default_rng(call):
    """A stateless key: [0, seed] in int64, or a random key when there is no seed."""
    fact = Fact(Kind.OTHER, value=_GENERATOR)
    if not _given(call, "seed"):
        return Lowered(_SEED_FROM_GLOBAL, fact, True)
    seed = call.fact("seed")
    if seed.kind is Kind.SCALAR and not seed.tensor and seed.known and isinstance(seed.value, int):
        return Lowered(f"tf.constant([0, {seed.value}], tf.int64)", fact, True)
    if _scalar_like(seed) and (seed.kind is Kind.SCALAR and seed.pytype is int or
                               seed.kind is Kind.ARRAY and seed.dtype is not None and seed.dtype.kind in "iu"):
        return Lowered(f"tf.stack([tf.constant(0, tf.int64), {call.cast('seed', _I64)}])", fact, True)
    call.refuse("only an integer seed (or none) is rewritten")


def _other(facts):
    return Fact(Kind.OTHER, value=_GENERATOR)


def _nothing(facts):
    return F.constant(None)


def _p(numpy, examples, lower, handles, result, arrays=(), domain=_PARAMS, note="", signature=None):
    return Pattern(numpy, examples=examples, lower=lower, handles=handles, result=result, arrays=arrays,
                   cast=Cast.NONE, batch=Batch.NONE, domain=domain, note=note, random=True,
                   signature=signature)


_G = "numpy.random.Generator."
_RNG = "np.random.default_rng()"

PATTERNS = (
    # The global generator.
    _p("numpy.random.rand", ("np.random.rand(1000)", "np.random.rand(40, 50)"), _rand, ("args",),
       _dims_result, note="float64 on [0, 1); a Python float for rand()"),
    _p("numpy.random.randn", ("np.random.randn(1000)", "np.random.randn(40, 50)"), _randn, ("args",),
       _dims_result, note="float64 standard normal"),
    _p("numpy.random.random", ("np.random.random(1000)", "np.random.random((40, 50))"), _uniform01,
       ("size",), _result(), note="float64 on [0, 1)"),
    _p("numpy.random.random_sample", ("np.random.random_sample((40, 50))",), _uniform01, ("size",), _result()),
    _p("numpy.random.ranf", ("np.random.ranf(1000)",), _uniform01, ("size",), _result(),
       signature="(size=None)"),
    _p("numpy.random.sample", ("np.random.sample(1000)",), _uniform01, ("size",), _result(),
       signature="(size=None)"),
    _p("numpy.random.uniform", ("np.random.uniform(-2.0, 3.0, size=1000)", "np.random.uniform(-a, a)",
                                "np.random.uniform(size=(40, 50))"),
       _uniform, ("low", "high", "size"), _result("low", "high"), arrays=("low", "high"),
       note="float64 on [low, high): high excluded, as NumPy"),
    _p("numpy.random.normal", ("np.random.normal(1.0, 3.0, size=1000)", "np.random.normal(a, 0.5)",
                               "np.random.normal(size=(40, 50))"),
       _normal, ("loc", "scale", "size"), _result("loc", "scale"), arrays=("loc", "scale"),
       note="`scale` is the standard deviation (TF's stddev); float64"),
    _p("numpy.random.standard_normal", ("np.random.standard_normal(1000)",), _standard_normal, ("size",),
       _result()),
    _p("numpy.random.randint", ("np.random.randint(0, 10, size=1000)", "np.random.randint(7, size=(40, 25))",
                                "np.random.randint(-3, 4, 1000, dtype=np.int32)"),
       _integers(3), ("low", "high", "size", "dtype"), _integer_result("dtype"), arrays=("low", "high"),
       domain=Domain(dtypes=INTS, ranks=(0,), grad=False, broadcast=False),
       note="high is exclusive and randint(n) is [0, n); int64 unless dtype= says otherwise"),
    _p("numpy.random.random_integers", ("np.random.random_integers(1, 6, size=1000)",
                                        "np.random.random_integers(5, size=1000)"),
       _integers(99, inclusive=True, one_based=True), ("low", "high", "size"), _integer_result(),
       arrays=("low", "high"), domain=Domain(dtypes=INTS, ranks=(0,), grad=False, broadcast=False),
       note="deprecated in NumPy: both bounds inclusive, random_integers(n) is [1, n]"),
    _p("numpy.random.choice", ("np.random.choice(5, size=1000)", "np.random.choice(a, size=1000)",
                               "np.random.choice(4, 1000, p=[0.1, 0.2, 0.3, 0.4])",
                               "np.random.choice(a, 3, replace=False)"),
       _choice, ("a", "size", "replace", "p"), _choice_result, arrays=("a", "p"), domain=_ANY,
       note="p= as categorical logits log(p); without replacement: a prefix of a random permutation"),
    _p("numpy.random.permutation", ("np.random.permutation(6)", "np.random.permutation(a)"),
       _permutation, ("x",), _permutation_result, arrays=("x",), domain=_ANY,
       note="shuffles along the first axis; an integer n permutes arange(n) in int64"),
    _p("numpy.random.shuffle", ("np.random.shuffle(a)",), _refuse(_SHUFFLE_REASON), ("x",), _nothing,
       arrays=("x",), domain=_ANY),
    _p("numpy.random.binomial", ("np.random.binomial(10, 0.3, size=1000)", "np.random.binomial(20, 0.9, 1000)"),
       _binomial, ("n", "p", "size"), _result("n", "p", dtype=_I64), arrays=("n", "p"),
       note="int64; TF's binomial is stateless only, so it gets a fresh random seed per run"),
    _p("numpy.random.poisson", ("np.random.poisson(3.5, size=1000)", "np.random.poisson(size=1000)",
                                "np.random.poisson(a)"),
       _poisson, ("lam", "size"), _result("lam", dtype=_I64), arrays=("lam",), note="int64"),
    _p("numpy.random.exponential", ("np.random.exponential(4.0, size=1000)", "np.random.exponential(size=1000)"),
       _exponential, ("scale", "size"), _result("scale"), arrays=("scale",),
       note="`scale` is 1/rate, the mean"),
    _p("numpy.random.standard_exponential", ("np.random.standard_exponential(1000)",), _standard_exponential,
       ("size",), _result()),
    _p("numpy.random.gamma", ("np.random.gamma(2.5, 2.0, size=1000)", "np.random.gamma(0.3, size=1000)"),
       _gamma, ("shape", "scale", "size"), _result("shape", "scale"), arrays=("shape", "scale"),
       note="`scale` is a scale (TF's gamma `beta` is a rate)"),
    _p("numpy.random.beta", ("np.random.beta(0.4, 0.4, size=1000)", "np.random.beta(2.0, 5.0, 1000)"),
       _beta, ("a", "b", "size"), _result("a", "b"), arrays=("a", "b"),
       note="from two gammas, in log space so that tiny a, b do not give NaN"),
    _p("numpy.random.laplace", ("np.random.laplace(1.0, 2.0, size=1000)",), _laplace,
       ("loc", "scale", "size"), _result("loc", "scale"), arrays=("loc", "scale"),
       note="difference of two exponentials"),
    _p("numpy.random.logistic", ("np.random.logistic(1.0, 2.0, size=1000)",), _logistic,
       ("loc", "scale", "size"), _result("loc", "scale"), arrays=("loc", "scale")),
    _p("numpy.random.lognormal", ("np.random.lognormal(0.5, 0.75, size=1000)",), _lognormal,
       ("mean", "sigma", "size"), _result("mean", "sigma"), arrays=("mean", "sigma"),
       note="`mean` and `sigma` are those of the underlying normal"),
    _p("numpy.random.seed", ("np.random.seed(0)",),
       _refuse("seeding NumPy's global generator has no TF equivalent (TF cannot reproduce NumPy's "
               "numbers, and tf.random.set_seed would change every other TF op's draws)"),
       ("seed",), _nothing),
    # The Generator API: default_rng gives a stateless key; its methods are stateless draws.
    _p("numpy.random.default_rng", ("np.random.default_rng(7).random(1000)", "np.random.default_rng().random(1000)"),
       _default_rng, ("seed",), _other, arrays=("seed",),
       note="a stateless key [0, seed]: tf.random.Generator cannot be created inside tf.function"),
    _p(_G + "random", (f"{_RNG}.random(1000)", f"{_RNG}.random((40, 50), dtype=np.float32)"), _uniform01,
       ("size", "dtype"), _result(dtype_param="dtype")),
    _p(_G + "standard_normal", (f"{_RNG}.standard_normal(1000)",), _standard_normal, ("size", "dtype"),
       _result(dtype_param="dtype")),
    _p(_G + "normal", (f"{_RNG}.normal(1.0, 3.0, size=1000)", f"{_RNG}.normal(a, 0.5)"), _normal,
       ("loc", "scale", "size"), _result("loc", "scale"), arrays=("loc", "scale")),
    _p(_G + "uniform", (f"{_RNG}.uniform(-2.0, 3.0, size=1000)", f"{_RNG}.uniform(-a, a)"), _uniform,
       ("low", "high", "size"), _result("low", "high"), arrays=("low", "high")),
    _p(_G + "integers", (f"{_RNG}.integers(0, 10, size=1000)", f"{_RNG}.integers(7, size=(40, 25))",
                         f"{_RNG}.integers(1, 6, 1000, endpoint=True)",
                         f"{_RNG}.integers(-3, 4, 1000, dtype=np.int32)"),
       _integers(3), ("low", "high", "size", "dtype", "endpoint"), _integer_result("dtype"),
       arrays=("low", "high"), domain=Domain(dtypes=INTS, ranks=(0,), grad=False, broadcast=False),
       note="high exclusive unless endpoint=True; int64 unless dtype= says otherwise"),
    _p(_G + "choice", (f"{_RNG}.choice(5, size=1000)", f"{_RNG}.choice(a, size=1000)",
                       f"{_RNG}.choice(4, 1000, p=[0.1, 0.2, 0.3, 0.4])", f"{_RNG}.choice(a, 3, replace=False)"),
       _choice, ("a", "size", "replace", "p", "axis", "shuffle"), _choice_result, arrays=("a", "p"),
       domain=_ANY),
    _p(_G + "permutation", (f"{_RNG}.permutation(6)", f"{_RNG}.permutation(a)"), _permutation, ("x", "axis"),
       _permutation_result, arrays=("x",), domain=_ANY),
    _p(_G + "shuffle", (f"{_RNG}.shuffle(a)",), _refuse(_SHUFFLE_REASON.replace("np.random", "rng")),
       ("x", "axis"), _nothing, arrays=("x",), domain=_ANY),
    _p(_G + "exponential", (f"{_RNG}.exponential(4.0, size=1000)",), _exponential, ("scale", "size"),
       _result("scale"), arrays=("scale",)),
    _p(_G + "poisson", (f"{_RNG}.poisson(3.5, size=1000)", f"{_RNG}.poisson(a)"), _poisson,
       ("lam", "size"), _result("lam", dtype=_I64), arrays=("lam",)),
    _p(_G + "binomial", (f"{_RNG}.binomial(10, 0.3, size=1000)",), _binomial, ("n", "p", "size"),
       _result("n", "p", dtype=_I64), arrays=("n", "p")),
    _p(_G + "gamma", (f"{_RNG}.gamma(2.5, 2.0, size=1000)", f"{_RNG}.gamma(0.3, size=1000)"), _gamma,
       ("shape", "scale", "size"), _result("shape", "scale"), arrays=("shape", "scale")),
    _p(_G + "beta", (f"{_RNG}.beta(0.4, 0.4, size=1000)", f"{_RNG}.beta(2.0, 5.0, 1000)"), _beta,
       ("a", "b", "size"), _result("a", "b"), arrays=("a", "b")),
    _p(_G + "lognormal", (f"{_RNG}.lognormal(0.5, 0.75, size=1000)",), _lognormal, ("mean", "sigma", "size"),
       _result("mean", "sigma"), arrays=("mean", "sigma")),
    _p(_G + "laplace", (f"{_RNG}.laplace(1.0, 2.0, size=1000)",), _laplace, ("loc", "scale", "size"),
       _result("loc", "scale"), arrays=("loc", "scale")),
    _p(_G + "logistic", (f"{_RNG}.logistic(1.0, 2.0, size=1000)",), _logistic, ("loc", "scale", "size"),
       _result("loc", "scale"), arrays=("loc", "scale")),
    _p(_G + "standard_exponential", (f"{_RNG}.standard_exponential(1000)",), _standard_exponential,
       ("size",), _result(dtype_param="dtype")),
)
