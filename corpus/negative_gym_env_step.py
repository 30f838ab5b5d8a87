"""Step a gym-style vectorised point-mass environment that keeps its state in Python attributes, via tf.numpy_function on a bound method: must be left alone."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "left"
SHAPE = "negative"
RUNNABLE = True          # stateful: program and reference each advance their own state per call

N_ENVS = 4096
DT = 0.05
MAX_STEPS = 50
GOAL_RADIUS = 0.05


class PointMassVecEnv:
    """N independent 2-D point masses pushed towards the origin; auto-resets finished envs."""

    def __init__(self, n_envs, seed=0):
        rng = np.random.default_rng(seed)
        self.start = rng.uniform(-1.0, 1.0, size=(n_envs, 2)).astype(np.float32)
        self.pos = self.start.copy()
        self.vel = np.zeros((n_envs, 2), dtype=np.float32)
        self.t = np.zeros(n_envs, dtype=np.int32)

    def step(self, action):
        action = np.clip(action, -1.0, 1.0)
        self.vel = 0.9 * self.vel + 0.1 * action
        self.pos = self.pos + DT * self.vel
        self.t += 1
        dist = np.linalg.norm(self.pos, axis=1)
        done = (dist < GOAL_RADIUS) | (self.t >= MAX_STEPS)
        obs = np.concatenate([self.pos, self.vel], axis=1)
        self.pos[done] = self.start[done]
        self.vel[done] = 0.0
        self.t[done] = 0
        return obs, -dist, done


ENV = PointMassVecEnv(N_ENVS)


@tf.function(input_signature=[tf.TensorSpec([N_ENVS, 2], tf.float32)])
def program(action):
    """The original: TF code that leaves the graph and mutates ENV."""
    obs, reward, done = tf.numpy_function(ENV.step, [action], [tf.float32, tf.float32, tf.bool])
    obs.set_shape([N_ENVS, 4])
    reward.set_shape([N_ENVS])
    done.set_shape([N_ENVS])
    return obs, reward, done


class TFPointMassVecEnv(tf.Module):
    """Hand-written native TF: the same environment with its state in tf.Variables."""

    def __init__(self, n_envs, seed=0):
        super().__init__()
        start = PointMassVecEnv(n_envs, seed).start
        self.start = tf.constant(start)
        self.pos = tf.Variable(start)
        self.vel = tf.Variable(tf.zeros([n_envs, 2]))
        self.t = tf.Variable(tf.zeros([n_envs], tf.int32))

    def step(self, action):
        action = tf.clip_by_value(action, -1.0, 1.0)
        vel = 0.9 * self.vel + 0.1 * action
        pos = self.pos + DT * vel
        t = self.t + 1
        dist = tf.norm(pos, axis=1)
        done = (dist < GOAL_RADIUS) | (t >= MAX_STEPS)
        obs = tf.concat([pos, vel], axis=1)
        self.pos.assign(tf.where(done[:, None], self.start, pos))
        self.vel.assign(tf.where(done[:, None], 0.0, vel))
        self.t.assign(tf.where(done, 0, t))
        return obs, -dist, done


_TF_ENV = None


def reference(action):
    """Hand-written native TF (state in tf.Variables, created on first use)."""
    global _TF_ENV
    if _TF_ENV is None:
        _TF_ENV = TFPointMassVecEnv(N_ENVS)
    return _TF_ENV.step(tf.convert_to_tensor(action))


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): one action per env."""
    rng = np.random.default_rng(83)
    return (rng.uniform(-1.5, 1.5, size=(N_ENVS, 2)).astype(np.float32),)
