"""The random family against NumPy: same distribution, dtype and shape (not the same numbers).

Every example of every `random=True` pattern is rewritten through the engine, run with TF and
compared with NumPy's own samples by `verify_distribution` (two-sample KS for continuous
values, support + chi-square for discrete ones). The pitfall tests then pin the semantics a
simpler mapping would get wrong, and show that the simpler mapping fails the same check.
"""
import itertools
import re

import numpy as np
import pytest

from rewriter import facts as F
from rewriter import registry
from rewriter.function import Refusal, convert_function
from rewriter.verification import verify_distribution

RANDOM = [p for p in registry.default() if p.random]
REFUSED = {"numpy.random.seed", "numpy.random.shuffle", "numpy.random.Generator.shuffle"}
# Examples whose pooled samples say nothing (a permutation holds every value once): checked below.
POSITIONAL = {"np.random.permutation(6)", "np.random.default_rng().permutation(6)",
              "np.random.permutation(a)", "np.random.default_rng().permutation(a)",
              "np.random.choice(a, 3, replace=False)", "np.random.default_rng().choice(a, 3, replace=False)"}
A = np.linspace(0.5, 3.0, 400)  # the array `a` of the examples: positive, so every example is valid


@pytest.fixture(autouse=True)
def _reproducible_default_rng(monkeypatch):
    """`np.random.default_rng()` without a seed draws from the OS, so the NumPy side of a
    distribution comparison differed on every run and a test at a fixed level failed now and
    then; unseeded calls take their seeds from a fixed stream instead (still one new stream
    per call, as NumPy's)."""
    real = np.random.default_rng
    seeds = itertools.count(1000)
    monkeypatch.setattr(np.random, "default_rng", lambda seed=None: real(next(seeds) if seed is None else seed))


def _source(body: str, names=()) -> str:
    return f"import numpy as np\n\n\ndef f({', '.join(names)}):\n    return {body}\n"


def _names(example):
    return ["a"] if "(a" in example or " a" in example or "-a" in example else []


def _pair(tf, example, names=(), facts=None):
    """(NumPy function, rewritten TF function, converted) for one expression."""
    source = _source(example, names)
    facts = facts or {n: F.array("float64", 1, fresh=False) for n in names}
    converted = convert_function(source, "f", facts)
    np_space, tf_space = {"np": np}, {"tf": tf, "np": np}
    exec(source, np_space)
    exec(converted.text, tf_space)
    return np_space["f"], tf_space["f"], converted


def _check_same_kind(tf, np_fn, tf_fn, args, text):
    want = np_fn(*args)
    got = tf_fn(*[tf.constant(a) for a in args])
    assert np.asarray(want).dtype == got.dtype.as_numpy_dtype, f"dtype {got.dtype} != {np.asarray(want).dtype}\n{text}"
    assert np.shape(want) == tuple(got.shape), f"shape {tuple(got.shape)} != {np.shape(want)}\n{text}"


def _assert_same_distribution(np_fn, tf_fn, *args, n=6000, text=""):
    result = verify_distribution(np_fn, tf_fn, *args, n=n, seed=1)
    assert result.ok, f"{result}\n{text}"


@pytest.mark.parametrize("pattern", RANDOM, ids=lambda p: p.numpy)
def test_random_pattern_matches_numpy_distribution(tf, pattern):
    for example in pattern.examples:
        names = _names(example)
        if pattern.numpy in REFUSED:
            with pytest.raises(Refusal):
                _pair(tf, example, names)
            continue
        np_fn, tf_fn, converted = _pair(tf, example, names)
        args = [A] if names else []
        _check_same_kind(tf, np_fn, tf_fn, args, converted.text)
        if example not in POSITIONAL:
            # A seeded Generator draws the same numbers on every call (on both sides): one call.
            seeded = re.search(r"default_rng\(\d", example) is not None
            _assert_same_distribution(np_fn, tf_fn, *args, n=1000 if seeded else 6000, text=converted.text)


# -- what pooled samples cannot show: permutations and sampling without replacement -----------

@pytest.mark.parametrize("rng", ["np.random", "np.random.default_rng()"])
def test_permutation_and_choice_without_replacement_are_uniform_orderings(tf, rng):
    """Ordered pairs (first, second) of a permutation of 5 and of choice(5, 3, replace=False)
    have NumPy's joint distribution, never a repeated value; choice with replacement (the naive
    mapping) repeats values and fails."""
    draws = 200

    def codes(fn, args, to_numpy):
        out = np.empty(draws, np.int64)
        for i in range(draws):
            x = to_numpy(fn(*args))
            assert len(set(x.tolist())) == len(x)  # no value twice
            out[i] = x[0] * 5 + x[1]
        return out

    for body in (f"{rng}.permutation(5)", f"{rng}.choice(5, 3, replace=False)",
                 f"{rng}.choice(a, 3, replace=False)", f"{rng}.permutation(a)"):
        names = ["a"] if "(a" in body else []
        args = [np.arange(5.0)] if names else []
        np_fn, tf_fn, converted = _pair(tf, body, names)
        want = codes(np_fn, args, np.asarray)
        got = codes(tf.function(tf_fn), [tf.constant(a) for a in args], lambda t: t.numpy())
        _assert_same_distribution(lambda: want, lambda: tf.constant(got), n=draws, text=converted.text)
    with_replacement = tf.random.uniform([draws, 2], 0, 5, tf.int64)
    naive = verify_distribution(lambda: want, lambda: with_replacement[:, 0] * 5 + with_replacement[:, 1], n=draws)
    assert not naive.ok


# -- pitfalls --------------------------------------------------------------------------------

def test_randint_high_is_exclusive(tf):
    np_fn, tf_fn, converted = _pair(tf, "np.random.randint(0, 10, size=2000)")
    _assert_same_distribution(np_fn, tf_fn, n=20000, text=converted.text)
    assert np.asarray(tf_fn()).max() == 9
    naive = verify_distribution(np_fn, lambda: tf.random.uniform([2000], 0, 11, dtype=tf.int64), n=20000)
    assert not naive.ok and any("support differs" in f for f in naive.failures)


def test_randint_with_one_bound_is_zero_to_n(tf):
    np_fn, tf_fn, converted = _pair(tf, "np.random.randint(7, size=2000)")
    _assert_same_distribution(np_fn, tf_fn, n=20000, text=converted.text)
    samples = np.asarray(tf_fn())
    assert samples.min() == 0 and samples.max() == 6
    # the naive readings: [1, n] (random_integers' rule), or n as the lower bound
    assert not verify_distribution(np_fn, lambda: tf.random.uniform([2000], 1, 8, dtype=tf.int64), n=20000).ok
    with pytest.raises(ValueError):
        tf.random.uniform([2000], minval=7, dtype=tf.int64)  # a template dropping `high`


def test_random_integers_and_endpoint_are_inclusive(tf):
    for body in ("np.random.random_integers(1, 6, size=2000)", "np.random.random_integers(6, size=2000)",
                 "np.random.default_rng().integers(1, 6, 2000, endpoint=True)"):
        np_fn, tf_fn, converted = _pair(tf, body)
        _assert_same_distribution(np_fn, tf_fn, n=20000, text=converted.text)
        assert np.asarray(tf_fn()).max() == 6
        naive = verify_distribution(np_fn, lambda: tf.random.uniform([2000], 1, 6, dtype=tf.int64), n=20000)
        assert not naive.ok


def test_randint_dtypes_and_scalars(tf):
    """dtype= is honoured (drawn in int64 and cast); a scalar draw is a Python int for the
    default dtype (weak in promotion) and a NumPy scalar for an explicit NumPy dtype."""
    for body, dtype in (("np.random.randint(0, 200, 3000, dtype=np.uint8)", np.uint8),
                        ("np.random.randint(-3, 4, 3000, dtype=np.int16)", np.int16),
                        ("np.random.randint(0, 2, 3000, dtype=bool)", np.bool_),
                        ("np.random.default_rng().integers(5, size=3000, dtype=np.int32)", np.int32)):
        np_fn, tf_fn, converted = _pair(tf, body)
        assert np_fn().dtype == dtype and tf_fn().dtype.as_numpy_dtype == dtype, converted.text
        _assert_same_distribution(np_fn, tf_fn, n=6000, text=converted.text)
    facts = {"a": F.array("int32", 1, fresh=False)}
    x = np.arange(4, dtype=np.int32)
    for body, dtype in (("np.random.randint(5) + a", np.int32), ("np.random.randint(5, dtype=np.int64) + a", np.int64),
                        ("np.random.default_rng().integers(5) + a", np.int64)):
        np_fn, tf_fn, converted = _pair(tf, body, ["a"], facts)
        assert np_fn(x).dtype == dtype and tf_fn(tf.constant(x)).dtype.as_numpy_dtype == dtype, converted.text
    assert convert_function(_source("np.random.randint(5)"), "f", {}).returns[0].kind is F.Kind.SCALAR


def test_randint_refuses_ranges_tf_draws_with_bias(tf):
    """TF reduces 64 random bits modulo the range: for a range near 2**62 some values are 25%
    more likely than others, which NumPy's exact sampler never does."""
    with pytest.raises(Refusal):
        convert_function(_source("np.random.randint(0, 2 ** 62, size=10)"), "f", {})
    with pytest.raises(Refusal):
        convert_function(_source("np.random.randint(4611686018427387904, size=10)"), "f", {})
    convert_function(_source("np.random.randint(2 ** 31, size=10)"), "f", {})  # a seed: fine


def test_uniform_high_is_exclusive_and_float64(tf):
    """At 1e6 float32 has steps of 1/16: drawing in TF's default float32 and casting hits
    `high` itself (and is visibly discrete); NumPy, and the rewrite, never do."""
    np_fn, tf_fn, converted = _pair(tf, "np.random.uniform(1e6, 1e6 + 1, size=5000)")
    _assert_same_distribution(np_fn, tf_fn, n=20000, text=converted.text)
    samples = np.concatenate([np.asarray(tf_fn()) for _ in range(4)])
    assert samples.dtype == np.float64 and samples.max() < 1e6 + 1 and samples.min() >= 1e6
    naive = lambda: tf.cast(tf.random.uniform([5000], 1e6, 1e6 + 1), tf.float64)  # noqa: E731
    assert (np.asarray(naive()) == 1e6 + 1).any()
    assert not verify_distribution(np_fn, naive, n=20000).ok


def test_normal_scale_is_the_standard_deviation(tf):
    np_fn, tf_fn, converted = _pair(tf, "np.random.normal(1.0, 3.0, size=2000)")
    _assert_same_distribution(np_fn, tf_fn, n=20000, text=converted.text)
    assert abs(np.std(np.asarray(tf_fn())) - 3.0) < 0.3
    naive = lambda: tf.random.normal([2000], 1.0, np.sqrt(3.0), dtype=tf.float64)  # noqa: E731 (scale as variance)
    assert not verify_distribution(np_fn, naive, n=20000).ok
    float32 = verify_distribution(np_fn, lambda: tf.random.normal([2000], 1.0, 3.0), n=4000)
    assert any("dtype mismatch" in f for f in float32.failures)  # TF's default dtype


def test_exponential_and_gamma_scale_is_not_a_rate(tf):
    for body, naive in (("np.random.exponential(4.0, size=2000)",
                         lambda: tf.random.gamma([2000], 1.0, beta=4.0, dtype=tf.float64)),
                        ("np.random.gamma(2.5, 2.0, size=2000)",
                         lambda: tf.random.gamma([2000], 2.5, beta=2.0, dtype=tf.float64)),
                        ("np.random.default_rng().exponential(4.0, size=2000)",
                         lambda: tf.random.gamma([2000], 1.0, beta=4.0, dtype=tf.float64))):
        np_fn, tf_fn, converted = _pair(tf, body)
        _assert_same_distribution(np_fn, tf_fn, n=20000, text=converted.text)
        assert not verify_distribution(np_fn, naive, n=20000).ok


def test_choice_with_p(tf):
    p = [0.1, 0.2, 0.0, 0.7]
    for body in (f"np.random.choice(4, 2000, p={p})", f"np.random.default_rng().choice(4, 2000, p={p})",
                 "np.random.choice(a, 2000, p=[0.1, 0.2, 0.0, 0.7])"):
        names = ["a"] if "(a" in body else []
        args = [np.array([10, 20, 30, 40])] if names else []
        facts = {"a": F.array("int64", 1, fresh=False)}
        np_fn, tf_fn, converted = _pair(tf, body, names, facts if names else None)
        _assert_same_distribution(np_fn, tf_fn, *args, n=20000, text=converted.text)
    np_fn, _, _ = _pair(tf, f"np.random.choice(4, 2000, p={p})")
    uniform = lambda: tf.random.uniform([2000], 0, 4, dtype=tf.int64)  # noqa: E731 (p ignored)
    as_logits = lambda: tf.random.categorical(tf.constant([p], tf.float64), 2000)[0]  # noqa: E731 (p not logged)
    assert not verify_distribution(np_fn, uniform, n=20000).ok
    assert not verify_distribution(np_fn, as_logits, n=20000).ok


def test_small_gamma_and_beta_shapes(tf):
    """Shapes down to 0.02 match NumPy (the beta rewrite works in log space); below, TF's own
    gamma sampler clamps at 2.2e-308 and TF flushes subnormals to zero: NumPy's Gamma(0.001)
    is exactly 0 about 47% of the time, TF's never, and X / (X + Y) from TF's gammas is 0.5 a
    quarter of the time. Those shapes are refused."""
    for body in ("np.random.default_rng().beta(0.02, 0.03, 4000)", "np.random.beta(0.05, 0.02, 4000)",
                 "np.random.gamma(0.02, size=4000)", "np.random.default_rng().gamma(0.05, 2.0, 4000)"):
        np_fn, tf_fn, converted = _pair(tf, body)
        assert not np.isnan(np.asarray(tf_fn())).any(), converted.text
        _assert_same_distribution(np_fn, tf_fn, n=8000, text=converted.text)
    for body in ("np.random.gamma(0.001, size=10)", "np.random.default_rng().beta(0.001, 0.5, 10)",
                 "np.random.beta(0.5, 0.01, 10)"):
        with pytest.raises(Refusal, match="2.2e-308"):
            convert_function(_source(body), "f", {})
    assert (np.random.default_rng(0).gamma(0.001, size=4000) == 0).mean() > 0.4
    assert (tf.random.gamma([4000], 0.001, dtype=tf.float64).numpy() == 0).mean() == 0
    x, y = (tf.random.gamma([4000], 0.001, dtype=tf.float64) for _ in range(2))
    assert (np.asarray(x / (x + y)) == 0.5).mean() > 0.1


def test_poisson_and_binomial_are_int64(tf):
    for body in ("np.random.poisson(3.5, size=2000)", "np.random.binomial(10, 0.3, size=2000)"):
        np_fn, tf_fn, converted = _pair(tf, body)
        assert tf_fn().dtype == tf.int64, converted.text
    np_fn, _, _ = _pair(tf, "np.random.poisson(3.5, size=2000)")
    naive = verify_distribution(np_fn, lambda: tf.random.poisson([2000], 3.5), n=4000)
    assert any("dtype mismatch" in f for f in naive.failures)


def test_scalar_draws_are_weak_python_numbers(tf):
    """size=None gives NumPy a Python float: `rand() * x32` stays float32 (a 0-d float64 array
    would make it float64)."""
    facts = {"a": F.array("float32", 1, fresh=False)}
    x = np.ones(3, np.float32)
    for body in ("np.random.rand() * a", "a + np.random.uniform(-0.2, 0.2)",
                 "np.random.default_rng(3).normal() + a", "a * np.random.random()"):
        np_fn, tf_fn, converted = _pair(tf, body, ["a"], facts)
        assert np_fn(x).dtype == np.float32 and tf_fn(tf.constant(x)).dtype == tf.float32, converted.text
    for body in ("np.random.rand()", "np.random.normal()", "np.random.default_rng().random()",
                 "np.random.default_rng().random(dtype=np.float32)", "np.random.choice(5)"):
        np_fn, tf_fn, converted = _pair(tf, body)
        got = tf_fn()
        assert got.shape == () and got.dtype.as_numpy_dtype == np.asarray(np_fn()).dtype, converted.text
        assert converted.returns[0].kind is F.Kind.SCALAR


def test_bernoulli_by_comparison(tf):
    np_fn, tf_fn, converted = _pair(tf, "np.random.rand(2000) < 0.3")
    _assert_same_distribution(np_fn, tf_fn, n=20000, text=converted.text)
    assert not verify_distribution(np_fn, lambda: tf.random.uniform([2000], dtype=tf.float64) < 0.4, n=20000).ok


def test_array_parameters_broadcast_like_numpy(tf):
    facts = {"a": F.array("float32", 2, fresh=False)}
    x = np.linspace(1.0, 2.0, 6, dtype=np.float32).reshape(2, 3)
    for body in ("np.random.normal(a, 0.1)", "np.random.normal(0.0, a, size=(4, 2, 3))",
                 "np.random.gamma(a)", "np.random.poisson(a, size=(5, 2, 3))",
                 "np.random.default_rng(1).uniform(a, 3.0)", "np.random.default_rng(1).gamma(a, 2.0)"):
        np_fn, tf_fn, converted = _pair(tf, body, ["a"], facts)
        _check_same_kind(tf, np_fn, tf_fn, [x], converted.text)


# -- the Generator: stateless and reproducible ------------------------------------------------

_PROGRAM = """import numpy as np


def f(x):
    rng = np.random.default_rng(SEED)
    noise = rng.normal(0.0, 1.0, size=x.shape)
    more = rng.normal(0.0, 1.0, size=x.shape)
    pick = rng.integers(0, 10, size=5)
    return x + noise, more, pick
"""


def _program(tf, seed):
    converted = convert_function(_PROGRAM.replace("SEED", seed), "f", {"x": F.array("float64", 1, fresh=False)})
    space = {"tf": tf, "np": np}
    exec(converted.text, space)
    return space["f"], converted.text


def test_default_rng_with_a_seed_is_reproducible_like_numpy(tf):
    """As in NumPy, every call of the function draws the same numbers for the same seed (in
    eager mode, under tf.function and in a tf.data map alike); two draws differ; another seed
    draws other numbers. The numbers are not NumPy's."""
    x = tf.zeros([1000], tf.float64)
    f, text = _program(tf, "42")
    first, second = f(x), f(x)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=text)
    assert not np.array_equal(first[0].numpy(), first[1].numpy())
    traced = tf.function(f)
    for _ in range(2):
        np.testing.assert_array_equal(traced(x)[0].numpy(), first[0].numpy())
    mapped = tf.data.Dataset.from_tensors(x).repeat(2).map(lambda v: f(v)[0])
    for value in mapped:
        np.testing.assert_array_equal(value.numpy(), first[0].numpy())
    other, _ = _program(tf, "7")
    assert not np.array_equal(other(x)[0].numpy(), first[0].numpy())
    # NumPy: the same seed gives the same numbers on every call too
    space = {"np": np}
    exec(_PROGRAM.replace("SEED", "42"), space)
    np.testing.assert_array_equal(space["f"](np.zeros(4))[0], space["f"](np.zeros(4))[0])
    # the two normal draws are independent N(0, 1) samples
    _assert_same_distribution(lambda: np.random.default_rng().normal(size=1000), lambda: first[1], n=1000)


def test_default_rng_without_a_seed_draws_anew_each_call(tf):
    x = tf.zeros([100], tf.float64)
    f, text = _program(tf, "")
    assert not np.array_equal(f(x)[0].numpy(), f(x)[0].numpy()), text
    traced = tf.function(f)
    assert not np.array_equal(traced(x)[0].numpy(), traced(x)[0].numpy())


def test_global_draws_differ_between_calls_under_tf_function(tf):
    _, tf_fn, converted = _pair(tf, "np.random.normal(0.0, 1.0, size=100)")
    traced = tf.function(tf_fn)
    assert not np.array_equal(traced().numpy(), traced().numpy()), converted.text


def test_refusals(tf):
    loop = """import numpy as np


def f(x):
    rng = np.random.default_rng(0)
    for i in range(3):
        x = x + rng.normal(size=x.shape)
    return x
"""
    refused = [
        (loop, "inside a loop"),
        (_source("np.random.seed(0)"), "global generator"),
        (_source("np.random.shuffle(a)", ["a"]), "in place"),
        (_source("np.random.choice(5, 3, replace=False, p=[0.1, 0.2, 0.3, 0.2, 0.2])"), "without replacement"),
        (_source("np.random.default_rng([1, 2]).random()"), "integer seed"),
        (_source("np.random.randint(a, 10)", ["a"]), "array"),
        (_source("np.random.multinomial(10, [0.5, 0.5])"), "no TensorFlow lowering"),
    ]
    for source, reason in refused:
        with pytest.raises(Refusal) as info:
            convert_function(source, "f", {"a": F.array("int64", 1, fresh=False), "x": F.array("float64", 1)})
        assert reason in info.value.reason, info.value.reason


def test_module_level_number_constants_are_parameters(tf):
    """`NOISE_STD = 0.1` at module level is a Python number (the engine does not track module
    constants); a module-level list is not (it would change the result's shape)."""
    source = """import numpy as np

NOISE_STD = 3.0
MAX_DELTA = 0.2
LEVELS = [1.0, 2.0]


def f():
    return np.random.normal(0.0, NOISE_STD, size=4000), np.random.uniform(-MAX_DELTA, MAX_DELTA)


def g():
    return np.random.normal(LEVELS)
"""
    converted = convert_function(source, "f", {})
    space = {"tf": tf, "np": np, "NOISE_STD": 3.0, "MAX_DELTA": 0.2}
    exec(converted.text, space)
    noise, delta = space["f"]()
    assert noise.dtype == tf.float64 and abs(np.std(noise.numpy()) - 3.0) < 0.3
    assert delta.shape == () and -0.2 <= float(delta) < 0.2
    assert converted.returns[0].items[1].kind is F.Kind.SCALAR
    with pytest.raises(Refusal):
        convert_function(source, "g", {})
