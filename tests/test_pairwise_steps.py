"""Loops over row indices whose steps sum reductions of a whole array against one row become one
[steps, n] computation (pairwise_steps.py): values as NumPy's loop gives them over dtypes, sizes,
ties and NaN; boolean selections summed as `tf.where(mask, value, 0)`; gradients equal to the
hand-written pair matrix's and to finite differences; loops whose steps are not independent, or
whose selection is not ended by an exact sum, stay loops."""
import textwrap
import warnings

import numpy as np
import pytest

from graph_ops import loop_ops
from rewriter import autograph_numpy
from rewriter import facts as F
from rewriter.function import Refusal, convert_function

HINGE = """
import numpy as np


def f(scores, relevance):
    total, pairs = 0.0, 0
    for i in range(len(scores)):
        better = relevance > relevance[i]
        diffs = scores[better] - scores[i]
        total += float(np.maximum(0.0, 1.0 - diffs).sum())
        pairs += int(better.sum())
    return np.float32(total / max(pairs, 1))
"""

# NumPy scalars accumulated as they are, a selection of the ints themselves, a selection
# summed with np.sum after abs/scale/minimum, and `-=`.
GAINS = """
import numpy as np


def f(scores, relevance):
    gain, spread, below = 0, 0.0, 0
    for i in range(len(relevance)):
        better = relevance > relevance[i]
        gain += relevance[better].sum()
        spread += np.sum(np.minimum(np.abs(scores[better] - scores[i]) * 0.5, 3.0))
        below -= int((scores < scores[i]).sum())
    return gain, spread, below
"""

# A selection kept through two temporaries, scaled and divided by constants, over `range(n)`.
CHAINED = """
import numpy as np


def f(scores, relevance):
    n = len(scores)
    total = 0.0
    for i in range(n):
        worse = relevance < relevance[i]
        gap = -(scores[worse] - scores[i]) * 2.0
        hinge = np.maximum(gap / 4.0 + 0.5, 0.0)
        total += float(hinge.sum())
    return total
"""

# Maxima and minima of a selection, with `initial=` (without it an empty selection raises).
EXTREMA = """
import numpy as np


def f(scores, relevance):
    top, low = 0.0, 0
    for i in range(len(scores)):
        better = relevance > relevance[i]
        top += float(np.max(scores[better] - scores[i], initial=-1.0))
        low += int(relevance[better].min(initial=100))
    return top, low
"""

SCORES, RELEVANCE = ("float32", "float64"), ("int32", "int64", "uint8", "bool")


def _run_both(tf, source, scores, relevance):
    if relevance.dtype == bool:  # NumPy's `>` on bools has no lowering (the site would stay NumPy)
        source = source.replace("relevance > relevance[i]", "relevance != relevance[i]")
    facts = {"scores": F.array(scores.dtype, 1, fresh=False), "relevance": F.array(relevance.dtype, 1, fresh=False)}
    converted = convert_function(source, "f", facts)
    namespace = {"tf": tf, "np": np}
    exec(converted.text, namespace)
    got = namespace["f"](tf.constant(scores), tf.constant(relevance))
    original = {}
    exec(source, original)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        want = original["f"](scores, relevance)
    return got, want, converted.text


def _inputs(n, scores_dtype, relevance_dtype, seed=0):
    rng = np.random.default_rng(seed)
    relevance = rng.integers(0, 2 if relevance_dtype == "bool" else 3, size=n)  # small range: many ties
    scores = 0.5 * relevance + rng.standard_normal(n)
    return scores.astype(scores_dtype), relevance.astype(relevance_dtype)


def _close(got, want, dtype):
    rtol = 1e-5 if np.dtype(dtype) == np.float32 else 1e-12
    for g, w in zip(np.atleast_1d(np.asarray(got, dtype=object)), np.atleast_1d(np.asarray(want, dtype=object))):
        np.testing.assert_allclose(np.asarray(g, dtype=np.float64), np.asarray(w, dtype=np.float64),
                                   rtol=rtol, atol=1e-6 if rtol == 1e-5 else 1e-12, equal_nan=True)


@pytest.mark.parametrize("relevance_dtype", RELEVANCE)
@pytest.mark.parametrize("scores_dtype", SCORES)
def test_hinge_values_over_dtypes_and_sizes(tf, scores_dtype, relevance_dtype):
    for n in (0, 1, 2, 9):
        scores, relevance = _inputs(n, scores_dtype, relevance_dtype, seed=n)
        got, want, text = _run_both(tf, HINGE, scores, relevance)
        assert got.dtype == tf.float32
        _close(got.numpy(), want, scores_dtype)
    assert "for " not in text and "boolean_mask" not in text


@pytest.mark.parametrize("relevance_dtype", RELEVANCE)
def test_selected_ints_and_numpy_scalars_keep_numpy_dtypes(tf, relevance_dtype):
    for n in (0, 1, 6):
        scores, relevance = _inputs(n, "float32", relevance_dtype, seed=10 + n)
        got, want, text = _run_both(tf, GAINS, scores, relevance)
        assert "for " not in text
        for g, w in zip(got, want):
            if n:  # with no step the accumulators stay Python numbers in NumPy
                assert g.dtype == tf.as_dtype(np.asarray(w).dtype), (g.dtype, type(w))
            np.testing.assert_allclose(g.numpy(), w, rtol=1e-5)


@pytest.mark.parametrize("scores_dtype", SCORES)
def test_selection_through_several_temporaries(tf, scores_dtype):
    for n in (0, 1, 8):
        scores, relevance = _inputs(n, scores_dtype, "int64", seed=20 + n)
        got, want, text = _run_both(tf, CHAINED, scores, relevance)
        assert "for " not in text and "tf.where(tf.reshape(worse, [n, tf.shape(scores)[0]]), hinge" in text
        assert got.dtype == tf.float64
        _close(got.numpy(), want, scores_dtype)


@pytest.mark.parametrize("relevance_dtype", RELEVANCE[:3])
@pytest.mark.parametrize("scores_dtype", SCORES)
def test_max_and_min_of_a_selection_with_initial(tf, scores_dtype, relevance_dtype):
    for n in (0, 1, 7):
        scores, relevance = _inputs(n, scores_dtype, relevance_dtype, seed=30 + n)
        if n == 7:
            scores[3] = np.nan
        got, want, text = _run_both(tf, EXTREMA, scores, relevance)
        assert "for " not in text and "float('-inf')" in text
        for g, w in zip(got, want):
            _close(g.numpy(), w, scores_dtype)


def test_nan_and_inf_scores(tf):
    scores = np.array([0.5, np.nan, -1.0, 2.0], np.float32)
    got, want, _ = _run_both(tf, HINGE, scores, np.array([0, 1, 2, 1], np.int32))
    assert np.isnan(want) and np.isnan(got.numpy())
    # all tied: no pair selects the NaN or the infinity, so the loss is 0, not NaN
    for bad in (np.nan, np.inf, -np.inf):
        scores = np.array([0.5, bad, -1.0], np.float64)
        got, want, _ = _run_both(tf, HINGE, scores, np.zeros(3, np.int64))
        assert want == 0.0 and got.numpy() == 0.0


def test_mask_and_array_lengths_checked_only_where_there_are_steps(tf):
    """NumPy's `scores[better]` raises when the lengths differ, at the first step; with no step
    it never runs."""
    got, want, _ = _run_both(tf, HINGE, np.zeros(0, np.float32), np.arange(4, dtype=np.int32))
    assert got.numpy() == want == 0.0
    for scores in (np.ones(1, np.float32), np.ones(2, np.float32)):
        with pytest.raises(IndexError):
            original = {}
            exec(HINGE, original)
            original["f"](scores, np.arange(3, dtype=np.int32))
        with pytest.raises(tf.errors.InvalidArgumentError):
            _run_both(tf, HINGE, scores, np.arange(3, dtype=np.int32))


def test_emitted_source(tf):
    scores, relevance = _inputs(3, "float32", "int32")
    _, _, text = _run_both(tf, HINGE, scores, relevance)
    assert text == textwrap.dedent('''\
        def f(scores, relevance):
            total, pairs = 0.0, 0
            better = relevance > tf.expand_dims(tf.slice(relevance, [0], [tf.shape(scores)[0]]), -1)
            diffs = scores - tf.expand_dims(scores, -1)
            total = total + tf.reduce_sum(tf.cast(tf.reduce_sum(tf.where(tf.reshape(better, [tf.shape(scores)[0], tf.shape(scores)[0]]), tf.maximum(0.0, 1.0 - diffs), tf.zeros([], tf.float32)), axis=[-1]), tf.float64), axis=0)
            pairs = pairs + tf.reduce_sum(tf.reduce_sum(tf.cast(better, tf.int64), axis=[-1]), axis=0)
            return tf.cast(total / tf.cast(tf.maximum(pairs, 1), tf.float64), tf.float32)
        ''')


def _hand_written(tf, scores, relevance):
    """The pair matrix built once (the corpus program's reference)."""
    better = relevance[None, :] > relevance[:, None]
    hinge = tf.where(better, tf.nn.relu(1.0 - (scores[None, :] - scores[:, None])), tf.zeros([], scores.dtype))
    pairs = tf.reduce_sum(tf.cast(better, scores.dtype))
    return tf.reduce_sum(hinge) / tf.maximum(pairs, 1.0)


def test_gradient_matches_the_pair_matrix_and_finite_differences(tf):
    scores, relevance = _inputs(12, "float64", "int64", seed=5)
    facts = {"scores": F.array("float64", 1, fresh=False), "relevance": F.array("int64", 1, fresh=False)}
    namespace = {"tf": tf, "np": np}
    exec(convert_function(HINGE, "f", facts).text, namespace)
    x = tf.constant(scores)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        loss = namespace["f"](x, tf.constant(relevance))
        reference = _hand_written(tf, x, tf.constant(relevance))
    grad = tape.gradient(loss, x).numpy()
    np.testing.assert_allclose(grad, tape.gradient(reference, x).numpy(), rtol=1e-6, atol=1e-7)
    original = {}
    exec(HINGE.replace("np.float32(total / max(pairs, 1))", "total / max(pairs, 1)"), original)
    step = 1e-6
    numeric = [(original["f"](scores + step * e, relevance) - original["f"](scores - step * e, relevance)) / (2 * step)
               for e in np.eye(len(scores))]
    np.testing.assert_allclose(grad, numeric, rtol=1e-3, atol=1e-5)  # float32 result: loose


def test_gradient_through_left_out_infinity_stays_finite(tf):
    facts = {"scores": F.array("float64", 1, fresh=False), "relevance": F.array("int64", 1, fresh=False)}
    namespace = {"tf": tf, "np": np}
    exec(convert_function(HINGE, "f", facts).text, namespace)
    # the most relevant score is infinite: its own step selects nothing, so the other steps'
    # infinite hinges against it are left out (its pairs with them clamp to 0)
    scores, relevance = np.array([0.5, np.inf, -1.0, 0.25]), np.array([1, 2, 1, 0])
    x = tf.constant(scores)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = namespace["f"](x, tf.constant(relevance))
    grad = tape.gradient(loss, x).numpy()
    original = {}
    exec(HINGE, original)
    assert loss.numpy() == original["f"](scores, relevance)
    assert np.all(np.isfinite(grad)), grad


KEPT = {
    "recurrence": """
        for i in range(len(scores)):
            total += float((scores - total).sum())""",
    "mean-of-selection": """
        for i in range(len(scores)):
            total += float(scores[relevance > relevance[i]].mean())""",
    "min-of-selection": """
        for i in range(len(scores)):
            total += float(np.min(scores[relevance > relevance[i]]))""",
    "max-of-selection": """
        for i in range(len(scores)):
            total += float(scores[relevance > relevance[i]].max())""",
    "selection-against-an-array": """
        for i in range(len(scores)):
            total += float((scores[relevance > relevance[i]] - scores).sum())""",
    "selection-times-a-step-value": """
        for i in range(len(scores)):
            total += float((scores[relevance > relevance[i]] * scores[i]).sum())""",
    "selection-divided-by-zero": """
        for i in range(len(scores)):
            total += float((scores[relevance > relevance[i]] / 0.0).sum())""",
    "two-masks": """
        for i in range(len(scores)):
            total += float((scores[relevance > relevance[i]] - scores[relevance < relevance[i]]).sum())""",
    "selection-compared": """
        for i in range(len(scores)):
            total += int((scores[relevance > relevance[i]] > scores[i]).sum())""",
    "selection-kept-then-multiplied": """
        for i in range(len(scores)):
            d = scores[relevance > relevance[i]]
            total += float((d * scores[i]).sum())""",
    "selection-length": """
        for i in range(len(scores)):
            total += len(scores[relevance > relevance[i]])""",
    "temporary-read-after": """
        for i in range(len(scores)):
            d = scores - scores[i]
            total += float(d.sum())
        total += float(d.sum())""",
}


@pytest.mark.parametrize("name", KEPT)
def test_loops_whose_steps_are_not_exact_masked_sums_stay_loops(name):
    source = f"import numpy as np\n\n\ndef f(scores, relevance):\n    total = 0.0\n" \
             f"{textwrap.indent(textwrap.dedent(KEPT[name]).strip(), '    ')}\n    return total\n"
    facts = {"scores": F.array("float32", 1, fresh=False), "relevance": F.array("int32", 1, fresh=False)}
    try:
        text = convert_function(source, "f", facts).text
    except Exception:  # refused as a whole: the site stays NumPy
        return
    body = text[text.index("def f("):]  # after any helper the rewrite defines
    assert "for i in range" in body and "tf.where(" not in body


def test_an_input_array_accumulated_in_place_stays_a_loop():
    source = ("import numpy as np\n\n\ndef f(scores, acc):\n    for i in range(len(scores)):\n"
              "        acc += (scores - scores[i]).sum()\n    return acc\n")
    facts = {"scores": F.array("float32", 1, fresh=False), "acc": F.array("float32", 0, fresh=False)}
    with pytest.raises(Refusal, match="in-place update"):  # the walker's refusal: the site stays NumPy
        convert_function(source, "f", facts)


MARGIN = 1.0


@autograph_numpy
def decorated_hinge(scores, relevance):
    total, pairs = 0.0, 0
    for i in range(len(scores)):
        better = relevance > relevance[i]
        diffs = scores[better] - scores[i]
        total += float(np.maximum(0.0, MARGIN - diffs).sum())
        pairs += int(better.sum())
    return np.float32(total / max(pairs, 1))


def test_decorator_lowers_the_loop_to_the_pair_matrix(tf):
    scores, relevance = _inputs(20, "float32", "int32", seed=7)
    got = decorated_hinge(scores, relevance)
    assert decorated_hinge.report[-1]["status"] == "converted", decorated_hinge.report
    original = {}
    exec(HINGE, original)
    np.testing.assert_allclose(got.numpy(), original["f"](scores, relevance), rtol=1e-5)
    assert not loop_ops(tf, decorated_hinge, tf.TensorSpec([None], tf.float32), tf.TensorSpec([None], tf.int32))
