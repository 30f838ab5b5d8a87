"""Op-level profile of one call of a traced function: where a slow rewrite spends its time.

`rewriter bench` says why a rewrite is slower than its original with a measurement, not a
guess: it runs the function's graph once more in a TF1 Session with a full trace, which records
every op run (loops unrolled into their steps, so a While loop shows as thousands of small op
runs) and its time, and sums them by op type.
"""
from __future__ import annotations

import collections
from dataclasses import dataclass


@dataclass
class OpProfile:
    op_runs: int            # op executions in one call
    top: list               # [(op type, milliseconds, runs)], most time first

    def describe(self, count: int = 3) -> str:
        """`42,025 op runs in one call; most time in Sub (2,048 runs, 4.3 ms), ...`"""
        parts = [f"{op} ({runs:,} run{'s' if runs != 1 else ''}, {ms:.2g} ms)" for op, ms, runs in self.top[:count]]
        return f"{self.op_runs:,} op runs in one call; most time in " + ", ".join(parts)


def op_profile(function, inputs) -> OpProfile:
    """The profile of `function` (a tf.function) on `inputs` (tensors); raises when its graph
    cannot run on its own (a captured variable, say), which the caller reports."""
    import tensorflow as tf

    graph = function.get_concrete_function(*inputs).graph
    feed = {placeholder.name: value.numpy() for placeholder, value in zip(graph.inputs, inputs)}
    feed.update({internal.name: external.numpy() for external, internal in graph.captures
                 if internal.name not in feed})
    fetches = [output.name for output in graph.outputs]
    metadata = tf.compat.v1.RunMetadata()
    options = tf.compat.v1.RunOptions(trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
    with tf.compat.v1.Session(graph=graph) as session:
        session.run(fetches, feed_dict=feed)  # warm: the traced run should not pay for set-up
        session.run(fetches, feed_dict=feed, options=options, run_metadata=metadata)
    micros, runs = collections.Counter(), collections.Counter()
    for device in metadata.step_stats.dev_stats:
        for node in device.node_stats:
            op = node.timeline_label.split(" = ", 1)[-1].split("(", 1)[0] if node.timeline_label else node.node_name
            micros[op] += node.op_end_rel_micros - node.op_start_rel_micros
            runs[op] += 1
    top = [(op, us / 1e3, runs[op]) for op, us in micros.most_common()]
    return OpProfile(sum(runs.values()), top)
