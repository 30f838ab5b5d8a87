"""Recurrences `s = b + a * s` whose rows are the state: the `linear_recurrence` helper combines
the steps pairwise (log-depth doubling) where every factor is at most 1 in magnitude and the
rest finite, and runs them in order otherwise; either way NumPy's values, up to rounding."""
import textwrap

import numpy as np
import pytest

from rewriter.tf_helpers import linear_recurrence
from test_recurrence import DISCOUNTED as RETURNS_DISCOUNTED_BY_0_9
from test_recurrence import _both, _check

TOLERANCE = {"float32": 1e-5, "float64": 1e-12}


def _numpy_states(factors, addends, start, reverse):
    state, states = start, np.zeros(np.broadcast_shapes(factors.shape, addends.shape), addends.dtype)
    for t in (reversed(range(len(states))) if reverse else range(len(states))):
        state = factors[t] * state + addends[t]
        states[t] = state
    return states


def _sequential(tf, factors, addends, start, reverse):
    return lambda: tf.scan(lambda h, ab: ab[0] * h + ab[1], (factors, addends), initializer=start, reverse=reverse)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("steps", [0, 1, 2, 3, 32, 33, 100])  # blocks of 32 steps
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("state", [(), (3,), (2, 3)], ids=["0-d", "1-d", "2-d"])
def test_pairwise_states_equal_the_loop_up_to_rounding(tf, dtype, steps, reverse, state):
    rng = np.random.default_rng(steps)
    factors = rng.uniform(-1, 1, (steps, *state)).astype(dtype)
    addends, start = rng.standard_normal((steps, *state)).astype(dtype), rng.standard_normal(state).astype(dtype)
    taken = []

    def in_order():
        taken.append(True)
        return tf.zeros([steps, *state], dtype)

    have = tf.function(lambda: linear_recurrence(factors, addends, start, steps, in_order, reverse=reverse))()
    assert have.shape == (steps, *state) and have.dtype == dtype
    np.testing.assert_allclose(have.numpy(), _numpy_states(factors, addends, start, reverse), rtol=TOLERANCE[dtype],
                               atol=TOLERANCE[dtype])
    assert len(taken) == 1  # traced, and not taken: the zeros it gives would not match


@pytest.mark.parametrize("case", ["factor-above-one", "nan-factor", "inf-addend", "inf-start", "large-state"])
def test_unsafe_or_large_inputs_run_in_order(tf, case):
    rng = np.random.default_rng(0)
    width = 2049 if case == "large-state" else 3
    factors, addends = rng.uniform(-1, 1, (40, width)), rng.standard_normal((40, width))
    start = np.zeros(width)
    if case == "factor-above-one":
        factors[5, 1] = 1.5
    elif case == "nan-factor":
        factors[5, 1] = np.nan
    elif case == "inf-addend":
        addends[5, 1], factors[30, 1] = np.inf, 0.0  # inf times a product that underflows, or zero
    elif case == "inf-start":
        start[1] = -np.inf
    have = linear_recurrence(factors, addends, start, 40, _sequential(tf, factors, addends, start, False))
    with np.errstate(invalid="ignore", over="ignore"):
        want = _numpy_states(factors, addends, start, False)
    np.testing.assert_array_equal(have.numpy(), want)  # in order: the same arithmetic exactly


@pytest.mark.slow  # an XLA compile of several seconds; the tests before and after cover values and gradients
def test_pairwise_states_compile_under_xla_and_have_the_loops_gradient(tf):
    rng = np.random.default_rng(5)
    factors, addends, start = rng.uniform(-1, 1, (37, 2)), rng.standard_normal((37, 2)), rng.standard_normal(2)
    states = tf.function(lambda a, b, h: linear_recurrence(a, b, h, tf.shape(a)[0], lambda: tf.zeros_like(b)),
                         jit_compile=True)
    np.testing.assert_allclose(states(factors, addends, start).numpy(), _numpy_states(factors, addends, start, False),
                               rtol=1e-12, atol=1e-12)
    theoretical, numerical = tf.test.compute_gradient(
        lambda a, b, h: linear_recurrence(a, b, h, 37, _sequential(tf, a, b, h, False)),
        [tf.constant(factors * 0.9), tf.constant(addends), tf.constant(start)])
    for t, n in zip(theoretical, numerical):
        np.testing.assert_allclose(t, n, atol=1e-6)


DISCOUNTED = RETURNS_DISCOUNTED_BY_0_9.replace("0.9 *", "0.99 *")  # a horizon of 100 steps


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("steps", [0, 1, 300])
def test_discounted_returns_go_through_the_helper(tf, dtype, steps):
    rng = np.random.default_rng(steps)
    rewards = rng.standard_normal((steps, 4)).astype(dtype)
    dones = (rng.random((steps, 4)) < 0.05).astype(dtype)
    # pairwise sums round differently: near zero, relative to the largest return
    text = _check(tf, DISCOUNTED, {"rewards": rewards, "dones": dones}, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])
    assert "linear_recurrence(0.99 * (1.0 - " in text and "reverse=True" in text
    assert "for t in" not in text


def test_dones_outside_zero_and_one_still_give_numpys_values(tf):
    rng = np.random.default_rng(1)
    rewards, dones = rng.standard_normal((50, 4)), rng.uniform(-3, 3, (50, 4))  # factors up to 3.96
    fn, original, _ = _both(tf, DISCOUNTED, {"rewards": rewards, "dones": dones})
    np.testing.assert_array_equal(fn(tf.constant(rewards), tf.constant(dones)).numpy(), original(rewards, dones))


def test_discounted_returns_have_the_loops_gradient(tf):
    fn, _, _ = _both(tf, DISCOUNTED, {"rewards": np.zeros((1, 1)), "dones": np.zeros((1, 1))})
    rng = np.random.default_rng(3)
    rewards, dones = rng.standard_normal((9, 3)), (rng.random((9, 3)) < 0.3).astype(np.float64)
    theoretical, numerical = tf.test.compute_gradient(lambda r: fn(r, tf.constant(dones)), [tf.constant(rewards)])
    np.testing.assert_allclose(theoretical[0], numerical[0], atol=1e-6)


@pytest.mark.parametrize("update, dtypes", [
    ("running = rewards[t] + running * weights[t]", ("float32", "uint8")),  # uint8 products would wrap
    ("running = rewards[t] + running * weights[t]", ("int64", "int64")),  # integers: in order, exactly
    ("running = rewards[t] + running * running", ("float64", "float64")),  # not linear
    ("running = rewards[t] - weights[t] * running", ("float64", "float64")),
], ids=["uint8-factor", "integers", "square", "minus"])
def test_other_recurrences_keep_the_plain_scan(tf, update, dtypes):
    source = textwrap.dedent(f"""\
        import numpy as np


        def f(rewards, weights):
            returns = np.zeros_like(rewards)
            running = np.zeros(rewards.shape[1], dtype=rewards.dtype)
            for t in range(rewards.shape[0]):
                {update}
                returns[t] = running
            return returns
        """)
    rng = np.random.default_rng(2)
    inputs = {"rewards": rng.integers(0, 3, (6, 2)).astype(dtypes[0]),
              "weights": rng.integers(0, 3, (6, 2)).astype(dtypes[1])}
    text = _check(tf, source, inputs)
    assert "linear_recurrence" not in text and "tf.scan(" in text
