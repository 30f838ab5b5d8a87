"""The ops a traced function runs, its library functions included: the loop and callback checks."""

LOOP_OPS = frozenset({"While", "StatelessWhile", "PyFunc", "PyFuncStateless", "EagerPyFunc"})


def graph_ops(concrete) -> set:
    graph_def = concrete.graph.as_graph_def()
    ops = {n.op for n in graph_def.node}
    for function in graph_def.library.function:
        ops |= {n.op for n in function.node_def}
    return ops


def loop_ops(tf, fn, *specs) -> set:
    """The While and callback ops of `fn` traced for `specs`."""
    return graph_ops(tf.function(fn).get_concrete_function(*specs)) & LOOP_OPS
