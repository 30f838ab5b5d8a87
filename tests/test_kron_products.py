"""A Kronecker product only multiplied by (issue 16): `w = tf.numpy_function(np.kron, [a, b], ...)`
whose one use is `tf.matmul(x, w)` / `x @ w` becomes `kron_matmul(x, a, b)`, which never builds w,
and gives what the original gives (values, gradients w.r.t. x, errors); any other use of w keeps
the materialised kron."""
import textwrap

import numpy as np
import pytest

from program_runs import load_rewritten, mismatch, outcome
from rewriter.pipeline import rewrite_source

HEAD = "import numpy as np\nimport tensorflow as tf\n\n\n"
ARGS = "# rewriter: args={d}[None,None], {d}[None,None]"


def program_text(body: str, dtype: str = "float32") -> str:
    """A module whose `program(x, a, b)` is `body`, with DTYPE and ARGS filled in."""
    body = textwrap.dedent(body).replace("ARGS", ARGS.format(d=dtype)).replace("DTYPE", f"tf.{dtype}")
    return HEAD + "def program(x, a, b):\n" + textwrap.indent(body, "    ")


def rewritten_program(text: str) -> str:
    """The rewritten text from `def program` on (the helper block stands before it)."""
    result = rewrite_source(text, "case.py")
    assert not result.error, result.error
    return result.new[result.new.index("def program"):]


SET_SHAPE_MATMUL = """\
    w = tf.numpy_function(np.kron, [a, b], DTYPE)  ARGS
    w.set_shape([A_ROWS * B_ROWS, A_COLS * B_COLS])
    pred = tf.matmul(x, w)
    return pred
"""
AT = """\
    w = tf.numpy_function(np.kron, [a, b], DTYPE)  ARGS
    return x @ w
"""
LINALG = """\
    w = tf.numpy_function(np.kron, [a, b], DTYPE)  ARGS
    w.set_shape([None, None])
    return tf.nn.relu(tf.linalg.matmul(x, w))
"""
FORMS = {"set_shape-matmul": SET_SHAPE_MATMUL, "at": AT, "linalg": LINALG}


# ---------------------------------------------------------------------------------------------
# emitted code


def test_the_product_replaces_the_kron_and_its_set_shape():
    text = program_text(SET_SHAPE_MATMUL).replace("A_ROWS * B_ROWS, A_COLS * B_COLS", "6, 20")
    assert rewritten_program(text) == textwrap.dedent("""\
        def program(x, a, b):
            pred = kron_matmul(x, a, b, w_shape=[6, 20])
            return pred
        """)
    assert "def kron_matmul(x, a, b, w_shape=None, x_to_w_dtype=False):" in rewrite_source(text, "case.py").new


def test_an_at_product_converts_x_as_the_operator_does():
    assert rewritten_program(program_text(AT)) == textwrap.dedent("""\
        def program(x, a, b):
            return kron_matmul(x, a, b, x_to_w_dtype=True)
        """)


def test_a_product_inside_an_expression():
    assert rewritten_program(program_text(LINALG)) == textwrap.dedent("""\
        def program(x, a, b):
            return tf.nn.relu(kron_matmul(x, a, b, w_shape=[None, None]))
        """)


MATERIALISED = {
    "w returned too": """\
        w = tf.numpy_function(np.kron, [a, b], DTYPE)  ARGS
        return tf.matmul(x, w), w
    """,
    "w used twice": """\
        w = tf.numpy_function(np.kron, [a, b], DTYPE)  ARGS
        return tf.matmul(x, w) + tf.matmul(x, w)
    """,
    "product in a loop": """\
        w = tf.numpy_function(np.kron, [a, b], DTYPE)  ARGS
        for _ in range(3):
            x = tf.matmul(x, w)
        return x
    """,
    "product in a comprehension": """\
        w = tf.numpy_function(np.kron, [a, b], DTYPE)  ARGS
        return [tf.matmul(r, w) for r in x]
    """,
    "w reassigned": """\
        w = tf.numpy_function(np.kron, [a, b], DTYPE)  ARGS
        pred = tf.matmul(x, w)
        w = pred
        return w
    """,
    "a statement between": """\
        w = tf.numpy_function(np.kron, [a, b], DTYPE)  ARGS
        a = a + 1.0
        return tf.matmul(x, w)
    """,
    "transposed": """\
        w = tf.numpy_function(np.kron, [a, b], DTYPE)  ARGS
        return tf.matmul(x, w, transpose_b=True)
    """,
    "w on the left": """\
        w = tf.numpy_function(np.kron, [a, b], DTYPE)  ARGS
        return tf.matmul(w, x)
    """,
    "set_shape after the product": """\
        w = tf.numpy_function(np.kron, [a, b], DTYPE)  ARGS
        pred = tf.matmul(x, w)
        w.set_shape([None, None])
        return pred
    """,
    "global w": """\
        global w
        w = tf.numpy_function(np.kron, [a, b], DTYPE)  ARGS
        return tf.matmul(x, w)
    """,
    "1-D factors": """\
        w = tf.numpy_function(np.kron, [a, b], DTYPE)  # rewriter: args=float32[None], float32[None,None]
        return tf.matmul(x, w)
    """,
    "a dtype matmul does not take": """\
        w = tf.numpy_function(np.kron, [a, b], tf.int16)  # rewriter: args=int16[None,None], int16[None,None]
        return tf.matmul(x, w)
    """,
}


@pytest.mark.parametrize("body", MATERIALISED.values(), ids=MATERIALISED)
def test_any_other_use_keeps_the_materialised_kron(body):
    text = program_text(body)
    result = rewrite_source(text, "case.py")
    assert [c.status for c in result.conversions] == ["converted"], [c.reason for c in result.conversions]
    new = result.new
    assert "kron_matmul" not in new and "tf.numpy_function" not in new
    assert "tf.newaxis" in new  # w built, as before
    original_lines = {line.strip() for line in text.splitlines() if "numpy_function" not in line}
    assert original_lines <= {line.strip() for line in new.splitlines()}, "the uses of w changed"


def test_the_corpus_program_no_longer_builds_the_kron():
    from rewriter.corpus import default_corpus

    text = (default_corpus() / "loss_kronecker_layer.py").read_text(encoding="utf-8")
    new = rewrite_source(text, "loss_kronecker_layer.py").new
    program = new[new.index("def program"):new.index("def reference")]
    assert "kron_matmul(x, a, b, w_shape=[" in program
    assert "set_shape" not in program and "tf.matmul" not in program and "tf.newaxis" not in program


# ---------------------------------------------------------------------------------------------
# running: values, gradients and errors against the original


SHAPES = {  # (a rows, a cols, b rows, b cols, rows of x)
    "non-square": (3, 4, 2, 5, 7),
    "no rows": (2, 3, 4, 1, 0),
    "square": (4, 4, 4, 4, 5),
    "one by one": (1, 1, 1, 1, 3),
    "tall a, wide b": (5, 1, 1, 6, 2),
}
DTYPES = ("float32", "float64", "float16", "int32", "int64")


def sized(body, shape) -> str:
    """The program body with the factors' sizes written into its set_shape."""
    a_rows, a_cols, b_rows, b_cols, _ = shape
    for name, value in (("A_ROWS", a_rows), ("A_COLS", a_cols), ("B_ROWS", b_rows), ("B_COLS", b_cols)):
        body = body.replace(name, str(value))
    return body


def inputs(shape, dtype, rng, inner=None):
    """(x, a, b) of these sizes; x's last axis `inner` long instead of a rows * b rows when given."""
    a_rows, a_cols, b_rows, b_cols, rows = shape

    def draw(*dims):
        values = rng.standard_normal(dims)
        return (np.round(values * 4) if np.dtype(dtype).kind == "i" else values).astype(dtype)
    return draw(rows, a_rows * b_rows if inner is None else inner), draw(a_rows, a_cols), draw(b_rows, b_cols)


@pytest.fixture(scope="module")
def programs(tf, tmp_path_factory):
    """(form, shape, dtype) -> (original module, rewritten module), every one rewritten to the product."""
    folder = tmp_path_factory.mktemp("kron_products")
    texts = {f"{form}|{shape}|{dtype}": program_text(sized(body, SHAPES[shape]), dtype)
             for form, body in FORMS.items() for shape in SHAPES for dtype in DTYPES}
    loaded = load_rewritten(folder, {f"p{k}": t for k, t in enumerate(texts.values())})
    out = {}
    for key, (original, rewritten, result) in zip(texts, loaded.values()):
        program = result.new[result.new.index("def program"):]
        assert "kron_matmul(" in program and "numpy_function" not in program, key
        out[tuple(key.split("|"))] = original.program, rewritten.program
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("form", FORMS)
def test_values_match_the_original(tf, programs, form, dtype):
    rng = np.random.default_rng(16)
    found = []
    for shape in SHAPES:
        original, rewritten = programs[(form, shape, dtype)]
        for wrap in ("eager", "tf.function"):
            wrapped = (lambda f: f) if wrap == "eager" else tf.function
            x, a, b = inputs(SHAPES[shape], dtype, rng)
            want, got = outcome(wrapped(original), x, a, b), outcome(wrapped(rewritten), x, a, b)
            assert want[0] == "ok", (shape, wrap, want)
            problem = mismatch(want, got, rtol=1e-5 if dtype != "float16" else 1e-2)
            if problem:
                found.append(f"{shape}, {wrap}: {problem}")
    assert not found, found


def test_a_batch_of_matrices_broadcasts_as_tf_matmul_does(tf, programs):
    rng = np.random.default_rng(3)
    original, rewritten = programs[("set_shape-matmul", "non-square", "float64")]
    x, a, b = inputs(SHAPES["non-square"], "float64", rng)
    batch = np.stack([x, 2 * x, -x])
    for wrap in ((lambda f: f), tf.function):
        assert not mismatch(outcome(wrap(original), batch, a, b), outcome(wrap(rewritten), batch, a, b))


def test_x_of_another_dtype_is_converted_as_the_at_operator_does(tf, programs):
    original, rewritten = programs[("at", "non-square", "float32")]
    x, a, b = inputs(SHAPES["non-square"], "float32", np.random.default_rng(5))
    for given in (x.astype(np.float64), np.round(x).astype(np.int64), x.tolist()):
        want = outcome(original, given, a, b)
        assert want[0] == "ok" and not mismatch(want, outcome(rewritten, given, a, b), rtol=1e-5)


@pytest.mark.parametrize("dtype", ("float32", "float64"))
def test_gradients_with_respect_to_x_match(tf, programs, dtype):
    rng = np.random.default_rng(7)
    for shape in SHAPES:
        original, rewritten = programs[("set_shape-matmul", shape, dtype)]
        x, a, b = inputs(SHAPES[shape], dtype, rng)
        upstream = tf.constant(rng.standard_normal((x.shape[0], SHAPES[shape][1] * SHAPES[shape][3])).astype(dtype))
        grads = []
        for program in (original, rewritten):
            x_tensor = tf.constant(x)
            with tf.GradientTape() as tape:
                tape.watch(x_tensor)
                out = program(x_tensor, a, b)
            grads.append(tape.gradient(out, x_tensor, output_gradients=upstream).numpy())
        np.testing.assert_allclose(grads[1], grads[0], rtol=1e-5, atol=1e-5, err_msg=shape)


@pytest.mark.parametrize("rows", (0, 3))
@pytest.mark.parametrize("form", FORMS)
def test_a_wrong_inner_length_still_raises(tf, programs, form, rows):
    original, rewritten = programs[(form, "non-square", "float32")]
    shape = SHAPES["non-square"][:4] + (rows,)
    x, a, b = inputs(shape, "float32", np.random.default_rng(9), inner=5)  # not 3 * 2
    signature = [tf.TensorSpec([None, None], tf.float32)] * 3
    for wrap in ((lambda f: f), lambda f: tf.function(f, input_signature=signature), tf.function):
        want, got = outcome(wrap(original), x, a, b), outcome(wrap(rewritten), x, a, b)
        assert want[0] == "raised" and got[0] == "raised", (want, got)


def test_a_declared_shape_w_does_not_have_still_raises_eagerly(tf, tmp_path):
    text = program_text(SET_SHAPE_MATMUL).replace("A_ROWS * B_ROWS, A_COLS * B_COLS", "6, 21")
    original, rewritten, result = load_rewritten(tmp_path, {"declared": text})["declared"]
    assert "kron_matmul(x, a, b, w_shape=[6, 21])" in result.new
    x, a, b = inputs(SHAPES["non-square"], "float32", np.random.default_rng(11))
    assert outcome(original.program, x, a, b) == outcome(rewritten.program, x, a, b) == ("raised", "ValueError")


def test_the_declared_shape_is_the_static_shape_in_a_graph(tf, programs):
    original, rewritten = programs[("set_shape-matmul", "non-square", "float32")]
    unknown = [tf.TensorSpec([None, None], tf.float32)] * 3
    shapes = [tf.function(p, input_signature=unknown).get_concrete_function().structured_outputs.shape.as_list()
              for p in (original, rewritten)]
    assert shapes[0] == shapes[1] == [None, 20]
    wrong_inner = [tf.TensorSpec([None, 7], tf.float32)] + unknown[1:]
    for program in (original, rewritten):  # tf.matmul's trace-time check against the declared 6
        with pytest.raises(ValueError):
            tf.function(program, input_signature=wrong_inner).get_concrete_function()



@pytest.mark.parametrize("form", FORMS)
def test_ragged_and_sparse_x_keep_their_own_matmul_rules(tf, programs, form):
    original, rewritten = programs[(form, "non-square", "float32")]
    x, a, b = inputs(SHAPES["non-square"], "float32", np.random.default_rng(13))
    for given in (tf.RaggedTensor.from_tensor(x), tf.ragged.constant([x[0], x[1]]), tf.sparse.from_dense(x)):
        want, got = outcome(original, given, a, b), outcome(rewritten, given, a, b)
        assert want[0] == got[0] and not mismatch(want, got, rtol=1e-5), (type(given).__name__, want, got)


def test_verify_checks_the_product_the_file_defines(tf):
    from rewriter.corpus import default_corpus
    from rewriter.verify_sites import make_verifier

    path = default_corpus() / "loss_kronecker_layer.py"
    text = path.read_text(encoding="utf-8")
    verified = rewrite_source(text, str(path), verifier=make_verifier(str(path))).conversions[0]
    assert verified.status == "converted", verified.reason
    assert verified.verification["method"] == "the product helper against x @ np.kron(a, b)"
    result = rewrite_source(text, str(path))
    check = make_verifier(str(path))
    wrong = result.new.replace('"...ik,ij,kl->...jl"', '"...ki,ij,kl->...jl"')  # a factor transposed
    assert wrong != result.new and not check(result.conversions[0], text, wrong).ok
