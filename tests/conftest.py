"""Shared test set-up: one TensorFlow import for the whole run, quiet logs, CPU only."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import pytest


@pytest.fixture(scope="session")
def tf():
    import tensorflow

    return tensorflow
