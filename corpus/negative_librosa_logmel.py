"""Log-mel spectrogram with librosa.feature.melspectrogram and power_to_db inside tf.numpy_function: librosa calls the rewriter must leave alone (librosa is not installed here)."""
import librosa
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "left"
SHAPE = "negative"
RUNNABLE = False         # needs librosa

SR = 16000
N_FFT = 512
HOP = 160
N_MELS = 64


def log_mel(wav):
    mel = librosa.feature.melspectrogram(y=wav, sr=SR, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS)
    return librosa.power_to_db(mel, ref=np.max).astype(np.float32)


def program(wav):
    """The original: TF code that leaves the graph (a tf.data map function)."""
    spec = tf.numpy_function(log_mel, [wav], tf.float32)
    spec.set_shape([N_MELS, None])
    return spec


def make_dataset(wavs):
    return tf.data.Dataset.from_tensor_slices(wavs).map(program)


def reference(wav):
    """Hand-written native TF, approximately equal (not verified against librosa).

    Same framing (centre padding), periodic Hann, power spectrum, dB relative
    to the maximum with an 80 dB floor; but TF's mel matrix is the HTK
    formula without Slaney area normalisation, so values differ.
    """
    wav = tf.pad(wav, [[N_FFT // 2, N_FFT // 2]])
    stft = tf.signal.stft(wav, N_FFT, HOP, N_FFT, window_fn=tf.signal.hann_window)
    power = tf.square(tf.abs(stft))
    mel_matrix = tf.signal.linear_to_mel_weight_matrix(N_MELS, N_FFT // 2 + 1, SR, 0.0, SR / 2)
    mel = tf.matmul(power, mel_matrix)
    db = 10.0 * tf.math.log(tf.maximum(mel, 1e-10)) / tf.math.log(10.0)
    db = db - tf.reduce_max(db)
    db = tf.maximum(db, -80.0)
    return tf.transpose(db)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 5 s of a chirp plus noise."""
    rng = np.random.default_rng(82)
    t = np.arange(5 * SR) / SR
    wav = 0.3 * np.sin(2 * np.pi * (200 + 300 * t) * t) + 0.01 * rng.standard_normal(t.size)
    return (wav.astype(np.float32),)
