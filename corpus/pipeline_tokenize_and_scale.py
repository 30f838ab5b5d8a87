"""Text + numeric feature pipeline with two sites: a py_function that decodes bytes and looks words up in a Python dict (stays), and a numpy_function log-scaling the features (converts)."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "partial"
SHAPE = "py_function"

WORDS = ("the a of to and in is it for on was with as at by this that from "
         "good bad great terrible movie film plot actor story boring fun").split()
VOCAB = {w: i + 2 for i, w in enumerate(WORDS)}      # 0 = padding, 1 = unknown
MAX_TOKENS = 32
N_FEATURES = 512
FEATURE_MEAN = np.linspace(0.5, 3.0, N_FEATURES, dtype=np.float32)
FEATURE_STD = np.linspace(0.8, 1.6, N_FEATURES, dtype=np.float32)


def encode_text(text):
    rows = []
    for s in text.numpy():
        words = s.decode("utf-8").lower().split()[:MAX_TOKENS]
        ids = [VOCAB.get(w, 1) for w in words]
        rows.append(ids + [0] * (MAX_TOKENS - len(ids)))
    return np.array(rows, dtype=np.int32).reshape(-1, MAX_TOKENS)


def scale_features(x):
    return (np.log1p(x) - FEATURE_MEAN) / FEATURE_STD


@tf.function(input_signature=[tf.TensorSpec([None], tf.string),
                              tf.TensorSpec([None, N_FEATURES], tf.float32)])
def program(text, features):
    """The original: TF code that leaves the graph (two sites)."""
    ids = tf.py_function(encode_text, [text], tf.int32)
    ids.set_shape([None, MAX_TOKENS])
    feats = tf.numpy_function(scale_features, [features], tf.float32)
    feats.set_shape([None, N_FEATURES])
    return ids, feats


_TABLE = None


def _vocab_table():
    global _TABLE
    if _TABLE is None:
        init = tf.lookup.KeyValueTensorInitializer(
            tf.constant(list(VOCAB.keys())), tf.constant(list(VOCAB.values()), tf.int32))
        _TABLE = tf.lookup.StaticHashTable(init, default_value=1)
    return _TABLE


def reference(text, features):
    """Hand-written native TF: the best a human would write (string ops + lookup table)."""
    tokens = tf.strings.split(tf.strings.lower(text))[:, :MAX_TOKENS]
    ids = tf.ragged.map_flat_values(_vocab_table().lookup, tokens)
    ids = ids.to_tensor(default_value=0, shape=[None, MAX_TOKENS])
    feats = (tf.math.log1p(features) - FEATURE_MEAN) / FEATURE_STD
    return ids, feats


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 512 ASCII reviews and count features."""
    rng = np.random.default_rng(15)
    pool = WORDS + ["Movie", "GREAT", "unseen", "words", "zzz", "Plot"]
    texts = []
    for _ in range(512):
        n = int(rng.integers(1, 45))
        words = [pool[k] for k in rng.integers(0, len(pool), size=n)]
        seps = [" ", "  ", "\t"]
        texts.append("".join(w + seps[int(rng.integers(0, 3))] for w in words).strip())
    text = np.array([t.encode("utf-8") for t in texts], dtype=object)
    features = rng.poisson(5.0, size=(512, N_FEATURES)).astype(np.float32)
    return (text, features)
