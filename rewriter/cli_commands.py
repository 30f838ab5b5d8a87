"""The `rewriter` commands other than fix: check (diagnostics), bench (timings), show (the rewrite
of one function) and patterns (the pattern library, and its self-test).

Each imports what it needs when it runs: TensorFlow only for bench, show and patterns --test.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .cli_settings import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, known_codes, load_settings, selected_files
from .quiet import import_tensorflow_quietly


def run_check(args) -> int:
    from .check import render
    from .worker import check_file

    config = load_settings(args, ("select", "ignore"), known_codes)
    if config is None:
        return EXIT_ERROR
    files, problems = selected_files(args, config)
    diagnostics, errors = [], bool(problems)
    for path in files:
        found, error = check_file(path, config.select, config.ignore, config.rewrite_options())
        if error:
            print(f"{path}: error: {error}", file=sys.stderr)
            errors = True
        errors = errors or any(d.code in ("RWC900", "RWC901") for d in found)  # unreadable: an error
        diagnostics.extend(found)
    output = render(diagnostics, args.output_format)
    if output:
        print(output, end="" if output.endswith("\n") else "\n")
    if errors:
        return EXIT_ERROR
    return EXIT_CHANGES if diagnostics else EXIT_OK


def run_bench(args) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from .bench import run_bench
    from .corpus import read_corpus_file

    if len(args.paths) == 1 and os.path.isfile(args.paths[0]):
        try:
            read_corpus_file(args.paths[0])
        except ValueError as exc:
            if "not a corpus program" not in str(exc):
                print(f"error: {exc}", file=sys.stderr)
                return EXIT_ERROR
            from .bench_sites import bench_file  # a program of the user's: time its sites

            import_tensorflow_quietly()
            return bench_file(args.paths[0], repeats=args.repeats)

    return run_bench(args.paths or None, device=args.device, json_out=args.json, markdown_out=args.markdown,
                     repeats=args.repeats, progress=sys.stderr.isatty(), jit=args.jit)


def run_show(args) -> int:
    import importlib

    module_name, _, function_name = args.target.rpartition(":")
    if not module_name or not function_name:
        print(f"error: expected MODULE:FUNCTION or path/to/file.py:FUNCTION, got {args.target!r}", file=sys.stderr)
        return EXIT_ERROR
    import_tensorflow_quietly()  # before the user's module, which may import it too
    sys.path.insert(0, os.getcwd())
    try:
        if module_name.endswith(".py"):
            import importlib.util

            spec = importlib.util.spec_from_file_location(Path(module_name).stem, module_name)
            if spec is None or not os.path.isfile(module_name):
                raise ImportError(f"no file {module_name}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
        function = getattr(module, function_name)
    except (ImportError, AttributeError, SyntaxError) as exc:
        print(f"error: cannot load {args.target}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    from .decorator import NumpyFunction, fact_of, convert, ConversionError
    from .declarations import parse_args_spec

    original = function.original if isinstance(function, NumpyFunction) else function
    if args.args:
        try:
            facts = parse_args_spec(args.args)
        except ValueError as exc:
            print(f"error: --args: {exc}", file=sys.stderr)
            return EXIT_ERROR
    elif isinstance(function, NumpyFunction) and function._input_signature is not None:
        facts = [fact_of(spec) for spec in function._input_signature]
    else:
        print("error: give the input dtypes with --args (e.g. --args 'float32[None,8]')", file=sys.stderr)
        return EXIT_ERROR
    try:
        _, text, _, patterns, _ = convert(original, facts)
    except ConversionError as exc:
        print(f"{args.target}: not converted: {exc}")
        return EXIT_ERROR
    print(text, end="")
    print(f"# converted with: {', '.join(patterns) or 'no NumPy calls'}", file=sys.stderr)
    return EXIT_OK


def run_patterns(args) -> int:
    from .config import ConfigError, load_config

    try:
        registry = load_config(args.project).registry()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    patterns = list(registry)
    if args.test is not None:
        return _self_test([p for p in patterns if not args.test or p.numpy in args.test], registry)
    if args.json:
        print(json.dumps([{"numpy": p.numpy, "tf": p.summary(), "notes": p.note, "code": p.code,
                           "cast": p.cast.name.lower(), "batch": p.batch.name.lower(),
                           "dtypes": list(p.domain.dtypes)} for p in patterns], indent=2))
        return EXIT_OK
    width = max(len(p.numpy) for p in patterns)
    for p in patterns:
        line = f"{p.code:6} {p.numpy:{width}}  {p.summary()}"
        print(line + (f"  # {p.note}" if p.note else ""))
    print(f"{len(patterns)} patterns", file=sys.stderr)
    return EXIT_OK


def _self_test(patterns, registry) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    from .selftest import check_gradient, check_special_values, check_values

    tf.get_logger().setLevel("ERROR")  # each example is traced on purpose: no retracing warnings

    failed = 0
    for pattern in patterns:
        if pattern.random:
            print(f"skip  {pattern.numpy}  (random: tested statistically by its own tests)")
            continue
        failures = check_values(pattern, tf, registry) + check_special_values(pattern, tf, registry)
        if pattern.domain.grad and "float64" in pattern.domain.dtypes:
            failures += check_gradient(pattern, tf, registry=registry)
        failed += bool(failures)
        print(f"{'FAIL' if failures else 'ok  '}  {pattern.numpy}")
        for failure in failures[:3]:
            print("      " + failure.replace("\n", "\n      "))
    print(f"{len(patterns) - failed} passed, {failed} failed")
    return EXIT_CHANGES if failed else EXIT_OK
