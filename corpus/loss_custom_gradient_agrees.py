"""A periodic angle penalty sin(theta)^2 computed in NumPy under @tf.custom_gradient with a correct hand-written gradient (2 sin cos): once the forward is native, autodiff makes the gradient redundant."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "loss"


def periodic_penalty_np(theta):
    # zero at every multiple of pi: joint angles may wrap around freely
    return np.sin(theta) ** 2


@tf.custom_gradient
def periodic_penalty(theta):
    penalty = tf.numpy_function(periodic_penalty_np, [theta], tf.float32)

    def grad(dy):
        return dy * 2.0 * tf.sin(theta) * tf.cos(theta)

    return penalty, grad


@tf.function
def program(joint_angles):
    """The original: the penalty's forward leaves the graph; its gradient is hand-written."""
    return tf.reduce_mean(tf.reduce_sum(periodic_penalty(joint_angles), axis=-1))


def reference(joint_angles):
    """Hand-written native TF: autodiff gives the gradient."""
    return tf.reduce_mean(tf.reduce_sum(tf.square(tf.sin(joint_angles)), axis=-1))


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple)."""
    rng = np.random.default_rng(51)
    return (rng.uniform(-np.pi, np.pi, (128, 7)).astype(np.float32),)
