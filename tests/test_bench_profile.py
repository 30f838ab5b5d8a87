"""The op-level profile `rewriter bench` gives for a slow rewrite: measured, per op type."""
from rewriter.bench import Row
from rewriter.bench_profile import op_profile
from rewriter.bench_report import _notes


def test_a_loop_profile_counts_every_step_and_names_the_ops(tf):
    """A while loop of 100 steps runs its body's ops 100 times: the profile counts them, and
    the time of each op type is what the trace recorded (non-negative, summing below the call)."""
    @tf.function
    def running(x):
        total = tf.zeros([], x.dtype)
        for i in tf.range(tf.shape(x)[0]):
            total = total * 0.5 + x[i]
        return total

    x = tf.range(100, dtype=tf.float32)
    profile = op_profile(running, [x])
    runs = {op: count for op, _, count in profile.top}
    assert runs.get("Mul", 0) >= 100 and runs.get("AddV2", 0) >= 100
    assert profile.op_runs >= 400
    assert all(ms >= 0 for _, ms, _ in profile.top)
    assert profile.describe().startswith(f"{profile.op_runs:,} op runs in one call; most time in ")


def test_a_function_with_a_captured_tensor_is_profiled(tf):
    table = tf.constant([1.0, 2.0, 3.0])

    @tf.function
    def scaled(x):
        return x * table

    profile = op_profile(scaled, [tf.ones([3])])
    assert any(op == "Mul" and count == 1 for op, _, count in profile.top)


def test_slow_rows_get_a_note_with_their_profile():
    slower = Row("slow", "slow.py", "loop", "converted", status="converted", speedup=0.5, xla_speedup=3.0,
                 overhead=1.1, profile="rewritten: 5 op runs")
    heavy = Row("heavy", "heavy.py", "loss", "converted", status="converted", speedup=2.0, overhead=2.5,
                profile="rewritten: 9 op runs")
    notes = _notes([slower, heavy], [])
    assert "slow: slower than the original (0.50×; under XLA 3.00×): rewritten: 5 op runs" in notes
    assert "heavy: overhead 2.50× against the reference: rewritten: 9 op runs" in notes
