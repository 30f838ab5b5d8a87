"""Discounted returns with episode resets computed by a reversed Python loop over time inside tf.numpy_function (policy-gradient / A2C training code)."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "loop"

GAMMA = 0.99


def discounted_returns(rewards, dones):
    """rewards, dones: [time, n_envs] float32."""
    returns = np.zeros_like(rewards)
    running = np.zeros(rewards.shape[1], dtype=np.float32)
    for t in reversed(range(rewards.shape[0])):
        running = rewards[t] + GAMMA * running * (1.0 - dones[t])
        returns[t] = running
    return returns


@tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32),
                              tf.TensorSpec([None, None], tf.float32)])
def program(rewards, dones):
    """The original: TF code that leaves the graph."""
    ret = tf.numpy_function(discounted_returns, [rewards, dones], tf.float32)
    ret.set_shape(rewards.shape)
    return ret


def reference(rewards, dones):
    """Hand-written native TF: a reversed tf.scan over time (same recurrence, vectorised over envs)."""
    rewards = tf.convert_to_tensor(rewards)
    return tf.scan(lambda acc, rd: rd[0] + GAMMA * acc * (1.0 - rd[1]),
                   (rewards, tf.convert_to_tensor(dones)),
                   initializer=tf.zeros_like(rewards[0]), reverse=True)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 1024 steps x 256 envs."""
    rng = np.random.default_rng(61)
    rewards = rng.standard_normal((1024, 256)) * (rng.random((1024, 256)) < 0.2)
    dones = (rng.random((1024, 256)) < 0.01).astype(np.float32)
    return (rewards.astype(np.float32), dones)
