"""Run an expression both ways: NumPy's original and rewriter's TF rewrite (pitfall tests)."""
import warnings

import numpy as np

from rewriter import facts as F
from rewriter.function import convert_function


def rewrite_and_run(tf, expression, **arrays):
    """Rewrite `def f(<arrays>): return <expression>` for the arrays' dtypes and ranks, and run
    both versions on them: (TF's result, NumPy's result, the rewritten source)."""
    names = list(arrays)
    source = f"import numpy as np\n\n\ndef f({', '.join(names)}):\n    return {expression}\n"
    facts = {n: F.array(v.dtype, v.ndim, fresh=False) for n, v in arrays.items()}
    converted = convert_function(source, "f", facts)
    namespace = {"tf": tf, "np": np}
    exec(converted.text, namespace)
    got = namespace["f"](*[tf.constant(v) for v in arrays.values()])
    original = {"np": np}
    exec(source, original)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        want = original["f"](*arrays.values())
    return got, want, converted.text
