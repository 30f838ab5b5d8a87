"""Sites as people write them: nothing declares the inputs (no input_signature, no
`# rewriter: args=`), and the program is fed uint8 images, int labels, int16 PCM, int boxes or
float64 features. For every input dtype and rank the original accepts, the rewritten program
must return what the original returns: eagerly, under `tf.function`, in `Dataset.map` and in a
Keras training step."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest

from program_runs import (load_module, load_numpy_function_programs, mismatch, numpy_function_program, outcome,
                          variants_of)
from rewriter.pipeline import rewrite_source

# name -> (the NumPy function, Tout, a sample input)
PROGRAMS = {
    "uint8_image_to_unit_range": ("""\
        def prepare(img):
            x = img / 255.0
            return x.astype(np.float32)
        """, "tf.float32", np.arange(24, dtype=np.uint8).reshape(2, 4, 3)),
    "frame_difference_as_int32": ("""\
        def motion(frames):
            return (frames[1:] - frames[:-1]).astype(np.int32)
        """, "tf.int32", np.arange(24, dtype=np.uint8).reshape(3, 8) % 7),
    "int_labels_one_hot": ("""\
        def one_hot(labels):
            return (labels[:, None] == np.arange(5)).astype(np.float32)
        """, "tf.float32", np.array([0, 3, 4, 1], np.int32)),
    "int16_pcm_to_float": ("""\
        def to_float(pcm):
            return (pcm / 32768.0).astype(np.float32)
        """, "tf.float32", np.array([0, 1000, -32768, 32767], np.int16)),
    "int_boxes_area_share": ("""\
        def area_share(boxes):
            area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
            return area / area.sum()
        """, "tf.float64", np.array([[0, 0, 4, 4], [1, 1, 3, 5]], np.int32)),
    "int_scores_stable_argsort": ("""\
        def ranks(scores):
            return np.argsort(scores, kind="stable")
        """, "tf.int64", np.array([3, 1, 3, 2, 1], np.int32)),
    "float64_scaled_with_numpy_scalars": ("""\
        def scale(x):
            return x * np.float64(1 / 255) + np.array(0.1)
        """, "tf.float64", np.array([[0.0, 127.5], [255.0, 3.0]])),
    "softmax_float32": ("""\
        def softmax(z):
            e = np.exp(z - z.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)
        """, "tf.float32", np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 0.0]], np.float32)),
}


def _rtol(value) -> float:
    """float16 arithmetic in a graph may round differently (TF turns `x / c` into `x * (1 / c)`)."""
    return 2e-3 if value.dtype == np.float16 else 1e-6


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    """name -> (original module, rewritten module, rewritten text)."""
    return load_numpy_function_programs(tmp_path_factory.mktemp("undeclared"), PROGRAMS)


@pytest.mark.parametrize("name", PROGRAMS)
def test_converts_without_declarations_and_never_raises_in_its_place(programs, name):
    _, _, result = programs[name]
    assert [c.status for c in result.conversions] == ["converted"], result.conversions[0].reason
    assert "raise" not in result.new
    assert "# rewriter: off" in result.new  # other dtypes run the original
    assert rewrite_source(result.new, f"{name}.py").new == result.new  # a second run changes nothing


@pytest.mark.parametrize("name", PROGRAMS)
def test_every_dtype_and_rank_the_original_accepts_gives_its_result_eagerly(programs, name):
    original, rewritten, _ = programs[name]
    problems = []
    for label, value in variants_of(PROGRAMS[name][2]):
        problem = mismatch(outcome(original.program, value), outcome(rewritten.program, value), _rtol(value))
        if problem:
            problems.append(f"{label}: {problem}")
    assert not problems, problems


@pytest.mark.parametrize("name", PROGRAMS)
def test_every_dtype_the_original_accepts_gives_its_result_under_tf_function(tf, programs, name):
    original, rewritten, _ = programs[name]
    traced_original, traced_rewritten = tf.function(original.program), tf.function(rewritten.program)
    problems = []
    for label, value in variants_of(PROGRAMS[name][2]):
        problem = mismatch(outcome(traced_original, value), outcome(traced_rewritten, value), _rtol(value))
        if problem:
            problems.append(f"{label}: {problem}")
    assert not problems, problems


def test_uint8_images_in_dataset_map(tf, programs):
    original, rewritten, _ = programs["uint8_image_to_unit_range"]
    images = np.random.default_rng(0).integers(0, 256, (6, 4, 4, 3)).astype(np.uint8)

    def mapped(program):
        return np.stack([x.numpy() for x in tf.data.Dataset.from_tensor_slices(images).map(program)])

    want, got = mapped(original.program), mapped(rewritten.program)
    assert got.dtype == want.dtype == np.float32 and np.array_equal(got, want)


def test_int_labels_in_a_keras_training_step(tf, programs):
    original, rewritten, _ = programs["int_labels_one_hot"]
    labels = np.array([0, 3, 4, 1], np.int64)
    features = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)

    def train_step(program):
        tf.keras.utils.set_random_seed(0)
        model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(5)])
        optimizer = tf.keras.optimizers.SGD(0.1)

        @tf.function
        def step(x, y):
            target = program(y)
            target.set_shape([None, 5])
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(model(x) - target))
            optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
            return loss

        return [float(step(features, labels)) for _ in range(3)]

    np.testing.assert_allclose(train_step(rewritten.program), train_step(original.program), rtol=1e-6)


def test_the_rewrite_is_native_for_the_common_dtypes(tf, programs):
    from rewriter.corpus import CALLBACK_OPS

    _, rewritten, _ = programs["uint8_image_to_unit_range"]
    for dtype in (tf.uint8, tf.float32, tf.float64, tf.int16):
        graph = tf.function(rewritten.program).get_concrete_function(tf.TensorSpec([None, 4, 3], dtype)).graph
        assert not {op.type for op in graph.get_operations()} & CALLBACK_OPS, dtype


# -- the two lowering bugs that undeclared dtypes brought out ---------------------------------

@pytest.mark.parametrize("expression, arrays", [
    ("np.where(labels < 0, 255, y)", {"labels": np.array([-1, 2, -3]), "y": np.array([7, 8, 9], np.int64)}),
    ("np.where(c, 0.0, x)", {"c": np.array([True, False]), "x": np.array([1.5, 2.5])}),
    ("np.maximum(1.0, x)", {"x": np.array([0.5, 2.5])}),
    ("np.minimum(3, y)", {"y": np.array([1, 7], np.int64)}),
])
def test_python_literals_first_in_a_tf_op_take_numpys_dtype_in_a_graph(tf, expression, arrays):
    from rewriter import facts as F
    from rewriter.function import convert_function

    names = list(arrays)
    source = f"import numpy as np\n\n\ndef f({', '.join(names)}):\n    return {expression}\n"
    converted = convert_function(source, "f", {n: F.array(v.dtype, v.ndim, fresh=False) for n, v in arrays.items()})
    namespace = {"tf": tf, "np": np}
    exec(converted.text, namespace)
    got = tf.function(namespace["f"])(*[tf.constant(v) for v in arrays.values()]).numpy()
    original = {"np": np}
    exec(source, original)
    want = original["f"](*arrays.values())
    assert got.dtype == want.dtype and np.array_equal(got, want), converted.text


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "int32", "int64"])
@pytest.mark.parametrize("expression", [
    "total // n", "total % n", "np.floor_divide(total, n)", "np.remainder(total, n)", "np.mod(total, n)",
    "np.fmod(total, n)", "np.divmod(total, n)",
])
def test_integer_division_by_zero_gives_numpys_zero(tf, expression, dtype):
    from rewrite_and_run import rewrite_and_run

    total = np.array([7, 9, 5, 0, 6], dtype)
    n = np.array([0, 2, 0, 0, 4], dtype)
    got, want, text = rewrite_and_run(tf, expression, total=total, n=n)
    got, want = (got, want) if isinstance(want, tuple) else ((got,), (want,))
    for one, other in zip(got, want):
        one = one.numpy()
        assert one.dtype == other.dtype and np.array_equal(one, other), text


def test_a_known_nonzero_divisor_keeps_the_plain_operator(tf):
    from rewriter import facts as F
    from rewriter.function import convert_function

    source = "import numpy as np\n\n\ndef f(total):\n    return total // 3, total % 4\n"
    text = convert_function(source, "f", {"total": F.array(np.dtype("int32"), 1, fresh=False)}).text
    assert "return total // 3, total % 4" in text


def test_verify_checks_every_body_of_a_dispatch(tf, tmp_path):
    from rewriter.verify_sites import make_verifier

    body, tout, _ = PROGRAMS["uint8_image_to_unit_range"]
    path = tmp_path / "prepare.py"
    text = numpy_function_program(body, tout)
    path.write_text(text)
    checked = []
    verifier = make_verifier(str(path))

    def recording(conversion, original_text, rewritten_text):
        check = verifier(conversion, original_text, rewritten_text)
        checked.append((len(conversion.variants), check))
        return check

    result = rewrite_source(text, str(path), verifier=recording)
    (conversion,) = result.conversions
    assert conversion.status == "converted", conversion.reason
    assert checked[0][0] == 2 and checked[0][1].ok  # the float body and the integer body
    assert conversion.verification["inputs"]


def test_verify_checks_a_numpy_function_wrapped_directly(tf, tmp_path):
    from rewriter.verify_sites import make_verifier

    text = ("import numpy as np\nimport tensorflow as tf\n\n\n"
            "def program(a, b):\n    return tf.numpy_function(np.kron, [a, b], tf.float32)\n")
    path = tmp_path / "kron.py"
    path.write_text(text)
    result = rewrite_source(text, str(path), verifier=make_verifier(str(path)))
    (conversion,) = result.conversions
    assert conversion.status == "converted", conversion.reason
    assert "def kron_tf(a, b):" in result.new and conversion.verification["inputs"]


BINARIZER = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    class Binarizer:
        def __init__(self, threshold=0.5):
            self.threshold = threshold

        def _np_step(self, prob_maps):
            mask = prob_maps > self.threshold
            return mask.astype(np.uint8), mask.sum(axis=(1, 2))

        def __call__(self, prob_maps):
            return tf.numpy_function(self._np_step, [prob_maps], [tf.uint8, tf.int64]){comment}


    def program(prob_maps):
        return Binarizer(0.25)(prob_maps)
    """)


def test_a_value_the_rewriter_cannot_see_is_named_with_the_declaration_that_settles_it():
    result = rewrite_source(BINARIZER.format(comment=""), "binarize.py")
    (conversion,) = result.conversions
    assert conversion.status == "left" and conversion.code == "RW200"
    assert "`self.threshold` is a value the rewriter cannot see" in conversion.reason
    assert "# rewriter: args=..., self.threshold:float32[]" in conversion.reason


def test_a_declared_attribute_lets_the_site_convert(tmp_path):
    text = BINARIZER.format(comment="  # rewriter: args=float32[None,4,4], self.threshold:float")
    result = rewrite_source(text, "binarize.py")
    assert [c.status for c in result.conversions] == ["converted"]
    original, rewritten = load_module(tmp_path, text), load_module(tmp_path, result.new)
    maps = np.random.default_rng(3).random((5, 4, 4)).astype(np.float32)
    assert not mismatch(outcome(original.program, maps), outcome(rewritten.program, maps))


def test_verify_leaves_out_a_body_it_cannot_check_and_keeps_the_others(tf, tmp_path):
    from rewriter.verify_sites import make_verifier

    text = textwrap.dedent("""\
        import numpy as np
        import tensorflow as tf

        TABLE = np.eye(50)


        def lookup(labels):
            return TABLE[labels].astype(np.float32)


        def program(labels):
            return tf.numpy_function(lookup, [labels], tf.float32)
        """)
    path = tmp_path / "lookup.py"
    path.write_text(text)
    plain = rewrite_source(text, str(path))
    assert "tf.bool" in plain.new  # a boolean mask of 50: no probe of 6, 4 or 3 fits
    result = rewrite_source(text, str(path), verifier=make_verifier(str(path)))
    (conversion,) = result.conversions
    assert conversion.status == "converted", conversion.reason
    assert "tf.bool" not in result.new and "more body left out" in " ".join(conversion.notes)
    module = load_module(tmp_path, result.new)
    for labels in (np.array([3, 0, 49]), np.array([3, 0, 49], np.int32), np.zeros(50, bool)):
        want = outcome(load_module(tmp_path, text).program, labels)
        assert not mismatch(want, outcome(module.program, labels))


def test_a_shared_statement_that_rebinds_the_tested_input_stays_inside_each_branch(tf, tmp_path):
    """The dispatch hoists the statements all bodies share above its `if` on the input's
    dtype, except one that assigns the input: the `if` would then test the new value."""
    text = textwrap.dedent("""\
        import numpy as np
        import tensorflow as tf


        def scale(img):
            img = img[::-1]
            x = img / 255.0
            return x.astype(np.float32)


        def program(img):
            return tf.numpy_function(scale, [img], tf.float32)
        """)
    new = rewrite_source(text, "scale.py").new
    body = new.split("def scale_tf(img):\n", 1)[1].split("\n\n\n", 1)[0]
    assert body.index("if img.dtype in") < body.index("img = tf.reverse(img, axis=[0])"), body
    module, original = load_module(tmp_path, new), load_module(tmp_path, text)
    for img in (np.arange(6, dtype=np.uint8), np.linspace(0, 1, 5, dtype=np.float32), np.arange(4, dtype=np.int16)):
        assert not mismatch(outcome(original.program, img), outcome(module.program, img))
        assert not mismatch(outcome(original.program, img), outcome(tf.function(module.program), img))


@pytest.mark.parametrize("tout, preamble", [
    ("OUT", "OUT = [tf.float32] * 2\n"),
    ("(tf.float32,) * N", "N = 2\n"),
    ("[tf.float32] + [tf.float32]", ""),
    ("2 * [tf.float32]", ""),
    ("OUT", "OUT = (tf.float32, tf.float32)\n"),
    ("[DTYPE] * 2", "DTYPE = tf.float32\n"),
])
def test_tout_written_as_an_expression_is_read(tf, tmp_path, tout, preamble):
    """`Tout` as people write it (a repeated list, a sum, a name bound to one) is read, and the
    rewrite gives the original's results, on every input dtype the original accepts."""
    text = textwrap.dedent("""\
        import numpy as np
        import tensorflow as tf

        {preamble}

        def stats(x):
            return np.mean(x, axis=-1).astype(np.float32), np.std(x, axis=-1).astype(np.float32)


        def program(x):
            mean, std = tf.numpy_function(stats, [x], {tout})
            return mean, std
        """).format(preamble=preamble, tout=tout)
    result = rewrite_source(text, "stats.py")
    (conversion,) = result.conversions
    assert conversion.status == "converted", conversion.reason
    module, original = load_module(tmp_path, result.new), load_module(tmp_path, text)
    for x in (np.arange(12, dtype=np.uint8).reshape(3, 4), np.linspace(0, 1, 8), np.arange(6, dtype=np.int16)):
        assert not mismatch(outcome(original.program, x), outcome(module.program, x))


@pytest.mark.parametrize("tout, preamble", [
    ("[dtype] * 2", "dtype = a.dtype"),
    ("[a.dtype, a.dtype]", "pass"),
    ("(a.dtype,) * 2", "pass"),
    ("OUT", "OUT = [a.dtype] * 2"),
])
def test_tout_taken_from_an_input_dtype_follows_each_input(tf, tmp_path, tout, preamble):
    """`Tout` read from an input (`dtype = a.dtype`, then `[dtype] * 2`) is that input's dtype
    for each dtype the program is called with: the rewrite gives the original's results where
    it ran, eagerly and traced, and the copy's fallback builds Tout from its own inputs."""
    text = textwrap.dedent("""\
        import numpy as np
        import tensorflow as tf


        def normalize_pair(a, b):
            scale = np.abs(a).max() + 1e-6
            return a / scale, b / scale


        def program(a, b):
            {preamble}
            x, y = tf.numpy_function(normalize_pair, [a, b], {tout})
            return x, y
        """).format(preamble=preamble, tout=tout)
    result = rewrite_source(text, "pair.py")
    (conversion,) = result.conversions
    assert conversion.status == "converted", conversion.reason
    assert "[a.dtype, a.dtype])" in result.new  # the fallback's Tout, from the copy's own input
    assert "dtype = a.dtype" not in result.new.split("def program", 1)[1]  # its one reader is gone
    module, original = load_module(tmp_path, result.new), load_module(tmp_path, text)
    cases = [(np.float32, np.float32), (np.float64, np.float64), (np.float32, np.uint8), (np.float64, np.int16),
             (np.float32, np.float64), (np.int32, np.int32)]
    for a_dtype, b_dtype in cases:
        a, b = (np.arange(6) - 2).astype(a_dtype), np.arange(6).astype(b_dtype)
        for run in (lambda f: f, tf.function):
            want = outcome(run(original.program), tf.constant(a), tf.constant(b))
            assert not mismatch(want, outcome(run(module.program), tf.constant(a), tf.constant(b))), (a_dtype, b_dtype)


def test_a_dtype_binding_read_after_the_site_stays(tmp_path):
    text = textwrap.dedent("""\
        import numpy as np
        import tensorflow as tf


        def program(a):
            dtype = a.dtype
            y = tf.numpy_function(np.sqrt, [a], dtype)
            return tf.cast(y, dtype)
        """)
    result = rewrite_source(text, "kept.py")
    assert result.conversions[0].status == "converted"
    assert "    dtype = a.dtype\n" in result.new


def test_tout_from_an_input_rebound_before_the_call_is_not_read(tmp_path):
    """`dtype = a.dtype` read before `a` is bound again is not the dtype of the `a` the site gets."""
    text = textwrap.dedent("""\
        import numpy as np
        import tensorflow as tf


        def program(a):
            dtype = a.dtype
            a = tf.cast(a, tf.float64)
            return tf.numpy_function(np.sqrt, [a], dtype)
        """)
    (conversion,) = rewrite_source(text, "rebound.py").conversions
    assert conversion.status == "left" and conversion.code == "RW103"


@pytest.mark.parametrize("wrapper", ["tf.numpy_function", "tf.py_function", "tf.compat.v1.py_func"])
def test_a_tout_list_of_one_dtype_returns_what_the_wrapper_returned(tf, tmp_path, wrapper):
    """numpy_function and py_func return the tensor eagerly and a list of one in a graph;
    py_function a list of one in both. The rewrite returns the same, eagerly and traced."""
    text = textwrap.dedent("""\
        import numpy as np
        import tensorflow as tf

        ONE = [tf.float64]


        def double(x):
            return x * 2.0


        def program(x):
            return WRAPPER(double, [x], ONE)
        """).replace("WRAPPER", wrapper)
    if wrapper == "tf.py_function":
        text = text.replace("return x * 2.0", "return x.numpy() * 2.0")
    result = rewrite_source(text, "double.py")
    if wrapper != "tf.py_function":  # .numpy() in a py_function body is not rewritten yet (issue 13)
        assert result.conversions[0].status == "converted", result.conversions[0].reason
    module, original = load_module(tmp_path, result.new), load_module(tmp_path, text)
    for x in (np.arange(3, dtype=np.int32), np.ones(2, np.float64), np.ones(2, np.float32)):
        for run in (lambda f: f, tf.function):
            want, got = outcome(run(original.program), x), outcome(run(module.program), x)
            assert not mismatch(want, got)
            assert type(want[1]) is type(got[1])


def test_two_float64_inputs_share_the_float32_body_under_one_check(tf, tmp_path):
    """Two undeclared inputs, both float64 (features NumPy made): the body lowered for both
    float32 is also right for both float64, but no one check of per-input dtypes says "both
    float32 or both float64". The body is written once under `(...) or (...)`, and float64
    inputs run it natively instead of the original."""
    from graph_ops import graph_ops

    text = textwrap.dedent("""\
        import numpy as np
        import tensorflow as tf


        def pair(a, b):
            s = np.abs(a).max() + 1e-6
            return (a / s).astype(np.float32), (b / s).astype(np.float32)


        def program(a, b):
            return tf.numpy_function(pair, [a, b], [tf.float32, tf.float32])
        """)
    result = rewrite_source(text, "pair.py")
    assert result.conversions[0].status == "converted"
    assert result.new.count("return tf.cast(a / s, tf.float32), tf.cast(b / s, tf.float32)") == 1
    module, original = load_module(tmp_path, result.new), load_module(tmp_path, text)
    float64 = tf.TensorSpec([None], tf.float64)
    assert not graph_ops(tf.function(module.program).get_concrete_function(float64, float64)) & {"PyFunc"}
    for a_dtype, b_dtype in [(np.float32, np.float32), (np.float64, np.float64), (np.float32, np.float64),
                             (np.float64, np.float32), (np.float64, np.int32), (np.uint8, np.uint8)]:
        a, b = (np.arange(5) - 1).astype(a_dtype), np.arange(5).astype(b_dtype)
        for run in (lambda f: f, tf.function):
            want = outcome(run(original.program), tf.constant(a), tf.constant(b))
            assert not mismatch(want, outcome(run(module.program), tf.constant(a), tf.constant(b))), (a_dtype, b_dtype)
