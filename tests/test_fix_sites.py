"""Before/after source tests for each shape of rewrite site, and the sites left alone.

Each case is the whole file before and after `rewrite_source`: untouched lines must stay
byte-identical, so the expected text is compared exactly."""
import textwrap

import pytest

from rewriter import helper_source
from rewriter.pipeline import rewrite_source


def fix(source: str) -> str:
    return rewrite_source(textwrap.dedent(source), "case.py").new


def conversions(source: str):
    return rewrite_source(textwrap.dedent(source), "case.py").conversions


FIXES = {
    "def-in-place-declared": (
        """\
        import numpy as np
        import tensorflow as tf


        def scale(x):
            # keep this comment
            return np.sqrt(x) * 2.0


        def pipeline(x):
            return tf.numpy_function(scale, [x], tf.float32)  # rewriter: args=float32[None]
        """,
        """\
        import numpy as np
        import tensorflow as tf


        def scale(x):
            # keep this comment
            return tf.sqrt(x) * 2.0


        def pipeline(x):
            return scale(tf.convert_to_tensor(x))  # rewriter: args=float32[None]
        """,
    ),
    "def-used-elsewhere-is-copied": (
        """\
        import numpy as np
        import tensorflow as tf


        def scale(x):
            return np.exp(x)


        def pipeline(x):
            return tf.numpy_function(scale, [x], tf.float64)  # rewriter: args=float64[None]


        baseline = scale(np.ones(3))
        """,
        """\
        import numpy as np
        import tensorflow as tf


        def scale(x):
            return np.exp(x)


        def scale_tf(x):
            return tf.exp(x)


        def pipeline(x):
            return scale_tf(tf.convert_to_tensor(x))  # rewriter: args=float64[None]


        baseline = scale(np.ones(3))
        """,
    ),
    "lambda-is-inlined": (
        """\
        import numpy as np
        import tensorflow as tf

        def pipeline(t):
            return tf.numpy_function(lambda x: np.tanh(x), [t], tf.float32)  # rewriter: args=float32[None]
        """,
        """\
        import numpy as np
        import tensorflow as tf

        def pipeline(t):
            return tf.tanh(tf.convert_to_tensor(t))  # rewriter: args=float32[None]
        """,
    ),
    "import-added-once": (
        """\
        \"\"\"Module docstring.\"\"\"
        import numpy as np
        from tensorflow import numpy_function


        def f(x):
            return np.abs(x)


        def g(x):
            return np.negative(x)


        def pipeline(x):
            return numpy_function(f, [x], 'float32'), numpy_function(g, [x], 'float32')  # rewriter: args=float32[]
        """,
        """\
        \"\"\"Module docstring.\"\"\"
        import numpy as np
        from tensorflow import numpy_function
        import tensorflow as tf


        def f(x):
            return tf.abs(x)


        def g(x):
            return tf.negative(x)


        def pipeline(x):
            return f(tf.convert_to_tensor(x)), g(tf.convert_to_tensor(x))  # rewriter: args=float32[]
        """,
    ),
    "alias-respected": (
        """\
        import numpy
        import tensorflow as tensorflow_lib


        def f(x):
            return numpy.square(x)


        out = tensorflow_lib.numpy_function(f, [tensorflow_lib.ones(3)], tensorflow_lib.float32)  # rewriter: args=float32[None]
        """,
        """\
        import numpy
        import tensorflow as tensorflow_lib


        def f(x):
            return tensorflow_lib.square(x)


        out = f(tensorflow_lib.ones(3))  # rewriter: args=float32[None]
        """,
    ),
    "py-function-numpy-calls-vanish": (
        """\
        import numpy as np
        import tensorflow as tf


        def clip_log(x):
            x = x.numpy()
            return np.log1p(np.clip(x, 0.0, None))


        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def pipeline(x):
            return tf.py_function(clip_log, [x], tf.float32)
        """,
        """\
        import numpy as np
        import tensorflow as tf


        def clip_log(x):
            return tf.math.log1p(tf.maximum(x, 0.0))


        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def pipeline(x):
            return clip_log(x)
        """,
    ),
    "two-outputs": (
        """\
        import numpy as np
        import tensorflow as tf


        def threshold(x):
            mask = x > 0.5
            return mask.astype(np.float32), mask.sum(axis=-1)


        @tf.function(input_signature=[tf.TensorSpec([None, 8], tf.float32)])
        def pipeline(x):
            a, b = tf.numpy_function(threshold, [x], [tf.float32, tf.int64], name="thr")
            return a, b
        """,
        """\
        import numpy as np
        import tensorflow as tf


        def threshold(x):
            mask = x > 0.5
            return tf.cast(mask, tf.float32), tf.reduce_sum(tf.cast(mask, tf.int64), axis=-1)


        @tf.function(input_signature=[tf.TensorSpec([None, 8], tf.float32)])
        def pipeline(x):
            a, b = threshold(x)
            return a, b
        """,
    ),
    "partial-of-a-def": (
        """\
        import functools
        import numpy as np
        import tensorflow as tf


        def scale(factor, x):
            return x * factor


        @tf.function(input_signature=[tf.TensorSpec([None], tf.float64)])
        def pipeline(x):
            return tf.numpy_function(functools.partial(scale, 3.0), [x], tf.float64)
        """,
        """\
        import functools
        import numpy as np
        import tensorflow as tf


        def scale(factor, x):
            return x * factor


        @tf.function(input_signature=[tf.TensorSpec([None], tf.float64)])
        def pipeline(x):
            return scale(3.0, x)
        """,
    ),
    "method-of-the-class": (
        """\
        import numpy as np
        import tensorflow as tf


        class Layer:
            def _np_step(self, x):
                return np.maximum(x, 0.0)

            @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
            def __call__(self, x):
                return tf.numpy_function(self._np_step, [x], tf.float32)
        """,
        """\
        import numpy as np
        import tensorflow as tf


        class Layer:
            def _np_step(self, x):
                return tf.maximum(x, 0.0)

            @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
            def __call__(self, x):
                return self._np_step(x)
        """,
    ),
    "single-output-in-a-list": (
        """\
        import numpy as np
        import tensorflow as tf


        def f(x):
            return np.cos(x)


        @tf.function(input_signature=[tf.TensorSpec([None], tf.float64)])
        def pipeline(x):
            (y,) = tf.numpy_function(f, [x], [tf.float64])
            return y
        """,
        """\
        import numpy as np
        import tensorflow as tf


        def f(x):
            return tf.cos(x)


        @tf.function(input_signature=[tf.TensorSpec([None], tf.float64)])
        def pipeline(x):
            (y,) = [f(x)]
            return y
        """,
    ),
    "update-of-the-functions-own-input": (
        """\
        import numpy as np
        import tensorflow as tf


        def clip(x):
            x[x < 0] = 0
            return x


        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
        def pipeline(x):
            return tf.numpy_function(clip, [x], tf.float32)
        """,
        """\
        import numpy as np
        import tensorflow as tf


        def clip(x):
            x = tf.where(x < 0, tf.constant(0, tf.float32), x)
            return x


        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
        def pipeline(x):
            return clip(x)
        """,
    ),
    "loop-counting-at-data-positions-is-one-scatter": (
        """\
        import numpy as np
        import tensorflow as tf


        def class_counts(labels):
            counts = np.zeros(10, np.int64)
            for label in labels:
                counts[label] += 1
            return counts


        @tf.function(input_signature=[tf.TensorSpec([None], tf.int32)])
        def pipeline(labels):
            return tf.numpy_function(class_counts, [labels], tf.int64)
        """,
        """\
        import numpy as np
        import tensorflow as tf


        def class_counts(labels):
            counts = tf.zeros([10], dtype=tf.int64)
            counts_at = tf.expand_dims(tf.cast(labels, tf.int64), 1)
            counts_at = tf.where(
                counts_at < 0, counts_at + tf.shape(counts, tf.int64)[:1], counts_at
            )
            counts = tf.tensor_scatter_nd_add(
                counts,
                counts_at,
                tf.broadcast_to(tf.constant(1, tf.int64), [tf.shape(labels)[0]]),
            )
            return counts


        @tf.function(input_signature=[tf.TensorSpec([None], tf.int32)])
        def pipeline(labels):
            return class_counts(labels)
        """,
    ),
    "tf-body-in-numpy-function": (
        """\
        import numpy as np
        import tensorflow as tf


        def tversky(y_true, y_pred):
            tp = tf.reduce_sum(y_true * y_pred)
            fn = tf.reduce_sum(y_true * (1 - y_pred))
            fp = tf.reduce_sum((1 - y_true) * y_pred)
            return np.float32(1 - (tp + 1.0) / (tp + 0.7 * fn + 0.3 * fp + 1.0))


        def loss(y_true, y_pred):
            # rewriter: args=float32[None, None], float32[None, None]
            return tf.numpy_function(tversky, [y_true, y_pred], tf.float32)
        """,
        """\
        import numpy as np
        import tensorflow as tf


        def tversky(y_true, y_pred):
            tp = tf.reduce_sum(y_true * y_pred)
            fn = tf.reduce_sum(y_true * (1 - y_pred))
            fp = tf.reduce_sum((1 - y_true) * y_pred)
            return tf.cast(1 - (tp + 1.0) / (tp + 0.7 * fn + 0.3 * fp + 1.0), tf.float32)


        def loss(y_true, y_pred):
            # rewriter: args=float32[None, None], float32[None, None]
            return tversky(tf.convert_to_tensor(y_true), tf.convert_to_tensor(y_pred))
        """,
    ),
    "tf-result-made-an-array": (
        """\
        import numpy as np
        import tensorflow as tf


        def f(x):
            t = tf.reduce_sum(x, axis=0)
            a = np.array(t)
            b = np.asarray(t, dtype=np.float64)
            c = np.asarray(tf.shape(x))
            return a * 2.0, b, c


        def program(x):
            # rewriter: args=float32[None, None]
            return tf.numpy_function(f, [x], [tf.float32, tf.float64, tf.int32])
        """,
        """\
        import numpy as np
        import tensorflow as tf


        def f(x):
            t = tf.reduce_sum(x, axis=0)
            a = t
            b = tf.cast(t, tf.float64)
            c = tf.shape(x)
            return a * 2.0, b, c


        def program(x):
            # rewriter: args=float32[None, None]
            return f(tf.convert_to_tensor(x))
        """,
    ),
    "tf-result-taken-out-with-numpy": (
        """\
        import numpy as np
        import tensorflow as tf


        def log_spec(x):
            s = tf.signal.stft(x, 256, 128).numpy()
            return np.log(np.abs(s) + 1e-6).astype(np.float32)


        def features(x):
            return tf.py_function(log_spec, [x], tf.float32)  # rewriter: args=float32[None]
        """,
        """\
        import numpy as np
        import tensorflow as tf


        def log_spec(x):
            s = tf.signal.stft(x, 256, 128)
            return tf.cast(tf.math.log(tf.abs(s) + 1e-6), tf.float32)


        def features(x):
            return log_spec(tf.convert_to_tensor(x))  # rewriter: args=float32[None]
        """,
    ),
}


FIXES["nested-def-passed-to-apply-along-axis-is-lifted-and-goes"] = (
    """\
    import numpy as np
    import tensorflow as tf


    def frame_energy(frames):
        def energy(row):
            return np.sum(row ** 2)

        return np.apply_along_axis(energy, 1, frames)


    def pipeline(frames):
        return tf.numpy_function(frame_energy, [frames], tf.float32)  # rewriter: args=float32[None,None]
    """,
    """\
    import numpy as np
    import tensorflow as tf


    def frame_energy(frames):
        return tf.reduce_sum(tf.square(frames), axis=[-1])


    def pipeline(frames):
        return frame_energy(tf.convert_to_tensor(frames))  # rewriter: args=float32[None,None]
    """,
)

FIXES["nested-def-of-two-statements-passed-to-apply-along-axis-is-called-on-the-rows"] = (
    """\
    import numpy as np
    import tensorflow as tf


    def frame_variance(frames):
        def variance(row):
            centered = row - row.mean()
            return np.mean(centered ** 2)

        return np.apply_along_axis(variance, 1, frames)


    def pipeline(frames):
        return tf.numpy_function(frame_variance, [frames], tf.float32)  # rewriter: args=float32[None,None]
    """,
    """\
    import numpy as np
    import tensorflow as tf


    def frame_variance(frames):
        def variance(row):
            centered = row - tf.expand_dims(tf.reduce_mean(row, axis=[-1]), -1)
            return tf.reduce_mean(tf.square(centered), axis=[-1])

        return variance(frames)


    def pipeline(frames):
        return frame_variance(tf.convert_to_tensor(frames))  # rewriter: args=float32[None,None]
    """,
)

FIXES["nested-def-called-directly-stays-a-def-reading-its-closure"] = (
    """\
    import numpy as np
    import tensorflow as tf


    def soft_clip(x):
        limit = 3.0 * x.std()

        def clip(v):
            # keep this comment
            scaled = v / limit
            return np.tanh(scaled) * limit

        return clip(x - x.mean())


    def pipeline(x):
        return tf.numpy_function(soft_clip, [x], tf.float32)  # rewriter: args=float32[None]
    """,
    """\
    import numpy as np
    import tensorflow as tf


    def soft_clip(x):
        limit = 3.0 * tf.sqrt(tf.math.reduce_variance(x))

        def clip(v):
            # keep this comment
            scaled = v / limit
            return tf.tanh(scaled) * limit

        return clip(x - tf.reduce_mean(x))


    def pipeline(x):
        return soft_clip(tf.convert_to_tensor(x))  # rewriter: args=float32[None]
    """,
)

FIXES["nested-def-first-in-an-undeclared-body-comes-after-the-check-and-a-blank-line"] = (
    """\
    import numpy as np
    import tensorflow as tf


    def standardize(x):
        def center(v):
            return v - v.mean()

        return center(x / 255.0).astype(np.float32)


    def pipeline(x):
        return tf.numpy_function(standardize, [x], tf.float32)
    """,
    """\
    import numpy as np
    import tensorflow as tf


    def standardize(x):
        def center(v):
            return v - v.mean()

        return center(x / 255.0).astype(np.float32)


    def standardize_tf(x):
        if x.dtype not in (
            tf.float32,
            tf.float64,
            tf.int64,
            tf.int32,
            tf.uint8,
            tf.int16,
            tf.int8,
        ):
            # rewriter: off: other inputs run the original
            return tf.numpy_function(standardize, [x], tf.float32)

        def center(v):
            return v - tf.reduce_mean(v)

        if x.dtype in (tf.float32, tf.float64):
            return tf.cast(center(x / 255.0), tf.float32)
        else:
            return tf.cast(center(tf.cast(x, tf.float64) / 255.0), tf.float32)


    def pipeline(x):
        return standardize_tf(tf.convert_to_tensor(x))
    """,
)

FIXES["helper-called-by-keyword-from-a-lambda-gets-its-copy"] = (
    """\
    import numpy as np
    import tensorflow as tf


    def scaled_exp(x, scale=1.0):
        return np.exp(x * scale)


    def pipeline(x):
        return tf.numpy_function(lambda v: scaled_exp(v, scale=0.5), [x], tf.float32)  # rewriter: args=float32[None]
    """,
    """\
    import numpy as np
    import tensorflow as tf


    def scaled_exp(x, scale=1.0):
        return np.exp(x * scale)


    def scaled_exp_tf(x, scale=1.0):
        return tf.exp(x * scale)


    def pipeline(x):
        return scaled_exp_tf(tf.convert_to_tensor(x), scale=0.5)  # rewriter: args=float32[None]
    """,
)


@pytest.mark.parametrize("before, after", FIXES.values(), ids=FIXES.keys())
def test_fix(before, after):
    assert fix(before) == textwrap.dedent(after)


@pytest.mark.parametrize("before, after", FIXES.values(), ids=FIXES.keys())
def test_second_fix_changes_nothing(before, after):
    once = fix(before)
    assert fix(once) == once


FIXES["helper-of-the-file-gets-a-copy"] = (
    """\
    import numpy as np
    import tensorflow as tf


    def _norm(v, eps=1e-6):
        return np.sqrt(np.sum(v * v, axis=-1, keepdims=True) + eps)


    def unit(x):
        return x / _norm(x)


    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def pipeline(x):
        return tf.numpy_function(unit, [x], tf.float32)
    """,
    """\
    import numpy as np
    import tensorflow as tf


    def _norm(v, eps=1e-6):
        return np.sqrt(np.sum(v * v, axis=-1, keepdims=True) + eps)


    def _norm_tf(v, eps=1e-6):
        return tf.sqrt(tf.reduce_sum(v * v, axis=-1, keepdims=True) + eps)


    def unit(x):
        return x / _norm_tf(x)


    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def pipeline(x):
        return unit(x)
    """,
)


FIXES["builtins-on-a-shape-and-a-numpy-scalar"] = (
    """\
    import numpy as np
    import tensorflow as tf


    def scale(x):
        longest = max(x.shape)
        peak = round(x.mean(), 2)
        return (x / longest - peak).astype(np.float32)


    def pipeline(x):
        return tf.numpy_function(scale, [x], tf.float32)  # rewriter: args=float32[None,None]
    """,
    """\
    import numpy as np
    import tensorflow as tf


    def scale(x):
        longest = tf.reduce_max(tf.shape(x))
        peak = tf.math.rint(tf.reduce_mean(x) * 100.0) / 100.0
        return tf.cast(x / tf.cast(longest, tf.float32) - peak, tf.float32)


    def pipeline(x):
        return scale(tf.convert_to_tensor(x))  # rewriter: args=float32[None,None]
    """,
)


FIXES["builtin-max-min-of-rows-use-pythons-rule"] = (
    """\
    import numpy as np
    import tensorflow as tf


    def spread(v):
        return max(v) - min(v)


    def pipeline(v):
        return tf.numpy_function(spread, [v], tf.float32)  # rewriter: args=float32[None]
    """,
    textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    {helpers}

    def spread(v):
        return py_max(v) - py_min(v)


    def pipeline(v):
        return spread(tf.convert_to_tensor(v))  # rewriter: args=float32[None]
    """).format(helpers=helper_source.file_block(
        [helper_source.source(name) for name in ("py_max", "python_extreme", "py_min")])),
)


FIXES["type-check-keeps-the-branch-py-function-takes"] = (
    """\
    import numpy as np
    import tensorflow as tf


    def total(x):
        if hasattr(x, "numpy"):
            # py_function hands over a tensor
            x = x.numpy()
            x = np.abs(x)
        return np.sum(x * 2.0)


    def pipeline(x):
        return tf.py_function(total, [x], tf.float32)  # rewriter: args=float32[None]
    """,
    """\
    import numpy as np
    import tensorflow as tf


    def total(x):
        x = tf.abs(x)
        return tf.reduce_sum(x * 2.0)


    def pipeline(x):
        return total(tf.convert_to_tensor(x))  # rewriter: args=float32[None]
    """,
)


LEFT = {
    "scipy-call": (
        """\
        import numpy as np
        import scipy.signal
        import tensorflow as tf


        def smooth(x):
            return scipy.signal.medfilt(np.abs(x), 3)


        def pipeline(x):
            return tf.numpy_function(smooth, [x], tf.float64)
        """,
        "RW203", "scipy.signal.medfilt",
    ),
    "file-io": (
        """\
        import numpy as np
        import tensorflow as tf


        def load(path):
            return np.load(path.decode())


        def pipeline(path):
            return tf.numpy_function(load, [path], tf.float32)
        """,
        "RW", "",
    ),
    "target-imported-from-elsewhere": (
        """\
        import tensorflow as tf
        from helpers import preprocess


        def pipeline(x):
            return tf.numpy_function(preprocess, [x], tf.float32)
        """,
        "RW105", "preprocess",
    ),
    "np-is-a-local-variable": (
        """\
        import tensorflow as tf


        def f(x, np):
            return np.exp(x)


        def pipeline(x):
            return tf.numpy_function(lambda v: f(v, object()), [x], tf.float32)
        """,
        "RW", "",
    ),
    "inp-not-a-list": (
        """\
        import numpy as np
        import tensorflow as tf


        def f(x):
            return np.exp(x)


        def pipeline(args):
            return tf.numpy_function(f, args, tf.float32)
        """,
        "RW102", "inp",
    ),
    "round-of-a-python-float-to-digits": (
        """\
        import numpy as np
        import tensorflow as tf


        def peak(x):
            return np.float32(round(float(x.mean()), 2))


        def pipeline(x):
            return tf.numpy_function(peak, [x], tf.float32)
        """,
        "RW204", "exact decimal value",
    ),
    "tf-call-without-result-table": (
        """\
        import numpy as np
        import tensorflow as tf


        def shrink(img):
            small = tf.image.resize(img, (32, 32))
            return np.clip(small, 0, 1)


        def pipeline(img):
            return tf.numpy_function(shrink, [img], tf.float32)  # rewriter: args=float32[None, None, 3]
        """,
        "RW200", "the dtype of a TensorFlow result here is unknown",
    ),
    "item-assignment-into-a-tf-result": (
        """\
        import numpy as np
        import tensorflow as tf


        def first_to_one(x):
            y = tf.identity(x)
            y[0] = 1.0
            return y


        def pipeline(x):
            return tf.numpy_function(first_to_one, [x], tf.float32)  # rewriter: args=float32[None]
        """,
        "RW200", "TF tensors have no item assignment",
    ),
    "tf-result-of-a-float64-array-in-rfft": (
        """\
        import numpy as np
        import tensorflow as tf


        def magnitude(x):
            return np.abs(tf.signal.rfft(x).numpy())


        def pipeline(x):
            return tf.numpy_function(magnitude, [x], tf.float32)  # rewriter: args=float64[None]
        """,
        "RW200", "converts a NumPy array to float32 first",
    ),
}


@pytest.mark.parametrize("source, code, mention", LEFT.values(), ids=LEFT.keys())
def test_left_unchanged_with_reason(source, code, mention):
    result = rewrite_source(textwrap.dedent(source), "case.py")
    assert result.new == textwrap.dedent(source)
    assert result.conversions and all(c.status == "left" for c in result.conversions)
    assert result.conversions[0].code.startswith(code)
    assert mention in result.conversions[0].reason


def test_file_without_sites_is_byte_identical():
    source = "import numpy as np\n\nSHAPE = np.zeros((3, 4)).shape  # static shapes stay NumPy\r\n"
    assert rewrite_source(source, "x.py").new == source


def test_undeclared_input_gets_a_body_per_dtype_group_and_the_original_for_the_rest():
    source = textwrap.dedent("""\
        import numpy as np
        import tensorflow as tf


        def scale(img):
            x = img / 255.0
            return x.astype(np.float32)


        def pipeline(x):
            return tf.numpy_function(scale, [x], tf.float32)
        """)
    (conversion,) = conversions(source)
    assert conversion.status == "converted"
    assert "img: float32/float64/float16 | int64/int32/uint8/int16/int8 (chosen when traced" in conversion.assumed
    new = rewrite_source(source, "x.py").new
    assert "def scale(img):\n    x = img / 255.0\n" in new  # the original stays for other dtypes
    assert textwrap.dedent("""\
        def scale_tf(img):
            if img.dtype not in (
                tf.float32,
                tf.float64,
                tf.float16,
                tf.int64,
                tf.int32,
                tf.uint8,
                tf.int16,
                tf.int8,
            ):
                # rewriter: off: other inputs run the original
                return tf.numpy_function(scale, [img], tf.float32)
            if img.dtype in (tf.float32, tf.float64, tf.float16):
                x = img / 255.0
            else:
                x = tf.cast(img, tf.float64) / 255.0
            return tf.cast(x, tf.float32)
        """) in new
    assert "raise" not in new
    assert rewrite_source(new, "x.py").new == new  # the call to the original is no site


def test_one_dtype_group_keeps_its_body_after_an_early_return_of_the_original():
    source = textwrap.dedent("""\
        import numpy as np
        import tensorflow as tf


        def softmax(z):
            \"\"\"Softmax over the last axis.\"\"\"
            e = np.exp(z - z.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)


        def pipeline(x):
            return tf.numpy_function(softmax, [x], tf.float32)  # rewriter: args=float32[None, 8]
        """).replace("  # rewriter: args=float32[None, 8]", "")
    new = rewrite_source(source, "x.py").new
    assert textwrap.dedent("""\
        def softmax_tf(z):
            \"\"\"Softmax over the last axis.\"\"\"
            if z.dtype not in (tf.float32, tf.int16) or z.shape.rank not in (1, 2, 3, 4):
                # rewriter: off: other inputs run the original
                return tf.numpy_function(softmax, [z], tf.float32)
            if z.dtype == tf.float32:
        """) in new


def test_two_sites_needing_different_copies_of_one_function_are_both_left():
    source = textwrap.dedent("""\
        import numpy as np
        import tensorflow as tf


        def grow(x):
            return np.exp(x)


        def pipeline(a, b):
            return (tf.numpy_function(grow, [a], tf.float32),  # rewriter: args=float32[None]
                    tf.numpy_function(grow, [b], tf.float64))  # rewriter: args=int64[None]
        """)
    result = rewrite_source(source, "x.py")
    assert [c.code for c in result.conversions] == ["RW121", "RW121"]
    assert result.new == source  # and so a second run has nothing to do either


@pytest.mark.parametrize("signature", [
    "[tf.TensorSpec([None, 3], tf.float64)] * 2",
    "2 * (tf.TensorSpec([None, 3], tf.float64),)",
    "[tf.TensorSpec([None, 3], tf.float64)] + [tf.TensorSpec([None, 3], tf.float64)]",
])
def test_input_signatures_built_by_repetition_or_concatenation_declare_the_inputs(signature):
    source = textwrap.dedent(f"""\
        import numpy as np
        import tensorflow as tf


        def total(a, b):
            return a.sum(axis=1) + b.sum(axis=1)


        @tf.function(input_signature={signature})
        def program(a, b):
            return tf.numpy_function(total, [a, b], tf.float64)
        """)
    (conversion,) = rewrite_source(source, "m.py").conversions
    assert conversion.status == "converted"
    assert conversion.assumed == "a: float64 (declared), b: float64 (declared)"
