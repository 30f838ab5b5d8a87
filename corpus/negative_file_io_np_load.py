"""Load per-utterance .npy features with np.load and a label text file with open() inside tf.compat.v1.py_func: file I/O the rewriter must leave alone."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "left"
SHAPE = "negative"
RUNNABLE = False         # reads files that sample_inputs only names

FEATURE_DIM = 80


def load_example(feature_path, label_path):
    feats = np.load(feature_path.decode("utf-8"))
    with open(label_path.decode("utf-8")) as f:
        label = int(f.read().strip())
    return feats.astype(np.float32), np.int64(label)


@tf.function(input_signature=[tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.string)])
def program(feature_path, label_path):
    """The original: TF code that leaves the graph (mapped over a tf.data pipeline)."""
    feats, label = tf.compat.v1.py_func(load_example, [feature_path, label_path],
                                        [tf.float32, tf.int64])
    feats.set_shape([None, FEATURE_DIM])
    label.set_shape([])
    return feats, label


def make_dataset(feature_paths, label_paths):
    ds = tf.data.Dataset.from_tensor_slices((feature_paths, label_paths))
    return ds.map(program, num_parallel_calls=tf.data.AUTOTUNE)


def reference(feature_path, label_path):
    """Hand-written native TF: read the bytes and parse a version-1 .npy of little-endian float32, C order."""
    raw = tf.io.read_file(feature_path)
    header_len = tf.cast(tf.io.decode_raw(tf.strings.substr(raw, 8, 2), tf.uint16)[0], tf.int32)
    offset = 10 + header_len
    body = tf.strings.substr(raw, offset, tf.strings.length(raw) - offset)
    feats = tf.reshape(tf.io.decode_raw(body, tf.float32), [-1, FEATURE_DIM])
    label = tf.strings.to_number(tf.strings.strip(tf.io.read_file(label_path)), tf.int64)
    return feats, label


def sample_inputs():
    """Inputs for program and reference (a tuple): paths of one utterance (the files are not shipped)."""
    return (np.array(b"data/feats/utt_000123.npy"), np.array(b"data/labels/utt_000123.txt"))
