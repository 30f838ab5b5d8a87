"""The checker of `rewriter check`: one pass over a parsed module, with what every rule asks of it.

`Checker` holds the module's facts (names resolved through imports and def-use chains, the
calls, the source lines for columns and messages) and runs the rules: RWC001-RWC004, about
calls (numpy_function / py_function sites, tf.map_fn, np.apply_along_axis, Dataset.map), and
RWC009, about a hand-written gradient around a site, are here; RWC005-RWC007, about functions
traced by tf.function, are in check_tf_function; what a function body computes (elementwise,
plain scalar arithmetic) is in check_function_bodies.
"""
from __future__ import annotations

import re

import gast
import numpy as np

from .check_diagnostic import Diagnostic
from .check_function_bodies import Elementwise, numpy_object, walk_skipping
from .check_tf_function import TracedFunctionRules
from .parse import ParsedModule
from .resolve import Resolver
from .sites import bind_arguments

MAP_FN = frozenset({"tensorflow.map_fn", "tensorflow.compat.v1.map_fn", "tensorflow.compat.v2.map_fn"})
_KINDS = {"numpy_function": "tf.numpy_function", "py_function": "tf.py_function", "py_func": "tf.compat.v1.py_func"}

NUMPY_ARRAY_CREATORS = frozenset(f"numpy.{n}" for n in (
    "array asarray asanyarray ascontiguousarray asfortranarray copy load loadtxt genfromtxt fromfile "
    "frombuffer fromfunction fromiter fromstring zeros ones empty full zeros_like ones_like empty_like "
    "full_like arange linspace logspace geomspace eye identity diag diagflat tri tril triu vander tile "
    "repeat stack concatenate vstack hstack dstack column_stack outer hanning hamming blackman bartlett kaiser"
).split())
_NUMPY_RANDOM_NOT_ARRAYS = frozenset({"seed", "default_rng", "get_state", "set_state", "RandomState",
                                      "Generator", "SeedSequence", "BitGenerator", "PCG64", "PCG64DXSM",
                                      "MT19937", "Philox", "SFC64"})
NUMPY_GENERATORS = frozenset({"numpy.random.default_rng", "numpy.random.RandomState", "numpy.random.Generator"})
_ARRAY_METHODS = frozenset({"astype", "reshape", "transpose", "copy", "ravel", "flatten", "squeeze", "clip",
                            "round", "swapaxes", "view", "repeat", "cumsum", "cumprod"})
_DATASET_FACTORIES_SUFFIX = "_dataset_from_directory"   # tf.keras.utils.image_dataset_from_directory etc.


class Checker:
    """One module's facts (resolved names, calls, source lines) and the rules run over them."""

    def __init__(self, module: ParsedModule, filename: str):
        self.module = module
        self.source = module.source
        self.filename = filename
        self.lines = _PHYSICAL_LINE.split(module.source.text)[::2]
        self.resolver = Resolver(module)
        self.out: list = []
        self.converted_targets: set = set()   # (lineno, col_offset) of converted sites' functions
        self.map_fn_conversions: dict = {}    # (lineno, col_offset) of a tf.map_fn call -> Conversion
        self.site_targets: set = set()        # function nodes wrapped by numpy_function / py_function
        self.calls = [n for n in gast.walk(module.tree) if isinstance(n, gast.Call)]
        self.tf_functions = TracedFunctionRules(self)

    # -- helpers ---------------------------------------------------------------------------------

    def column(self, lineno: int, byte_col: int) -> int:
        """0-based character column of the parser's UTF-8 byte column, on the line as Python
        splits lines (only at \n, \r\n and \r; str.splitlines also splits at \f, \x1c, \u2028...)."""
        line = self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else ""
        return len(line.encode("utf-8", "surrogatepass")[:byte_col].decode("utf-8", "replace"))

    def report(self, node, code, message, fixable=False):
        col = self.column(node.lineno, node.col_offset) + 1
        self.out.append(Diagnostic(self.filename, node.lineno, col, code, message, fixable))

    def qualname(self, node):
        return self.resolver.qualname(node)

    def spelled(self, node) -> str:
        """The source text of a (short) expression, for messages."""
        lines = self.lines[node.lineno - 1:node.end_lineno]
        if not lines:
            return "?"
        end = self.column(node.end_lineno, node.end_col_offset)
        lines[-1] = lines[-1][:end]
        lines[0] = lines[0][self.column(node.lineno, node.col_offset):]
        text = " ".join(" ".join(lines).split())
        return text if len(text) <= 60 else text[:57] + "..."

    def module_level(self, node) -> bool:
        return self.resolver.enclosing(node, (gast.FunctionDef, gast.Lambda, gast.ClassDef)) is None

    def assigned_value(self, target):
        """The value a Name target is bound to by a plain `name = value`, else None."""
        parent = self.resolver.parents.get(target)
        if isinstance(parent, gast.Assign) and parent.targets == [target]:
            return parent.value
        if isinstance(parent, gast.AnnAssign) and parent.target is target and parent.value is not None:
            return parent.value
        return None

    def binding_values(self, name: gast.Name):
        """The values a name may hold, when every definition reaching it is `name = value`."""
        defs = self.resolver.definitions(name)
        values = [self.assigned_value(d) if isinstance(d, gast.Name) else None for d in defs]
        return values if defs and None not in values else None

    # -- run --------------------------------------------------------------------------------------

    def run(self, text: str, options) -> list:
        self.rwc001_wrapped_sites(text, options)
        for call in self.calls:
            name = self.qualname(call.func)
            if name in MAP_FN:
                self.rwc002_map_fn(call)
            elif name is not None and name.startswith("numpy.") and numpy_object(name) is np.apply_along_axis:
                self.rwc003_apply_along_axis(call)
            elif isinstance(call.func, gast.Attribute) and call.func.attr == "map":
                self.rwc004_dataset_map(call)
        self.tf_functions.run()
        return self.out

    # -- RWC001 -----------------------------------------------------------------------------------

    def rwc001_wrapped_sites(self, text, options):
        from .pipeline import rewrite_source

        from .sites import find_sites
        sites = find_sites(self.module, self.resolver)
        self.site_targets = {s.target for s in sites if s.target is not None}
        if not sites:
            return   # nothing for the engine to convert
        try:
            result = rewrite_source(text, self.filename, options)
        except Exception as exc:  # an engine bug must not hide the other diagnostics
            self.out.append(Diagnostic(self.filename, 1, 1, "RWC901",
                                       f"internal error while converting sites ({type(exc).__name__}: {exc}); "
                                       "please report it"))
            return
        for conversion in result.conversions:
            site = conversion.site
            if conversion.code == "RW120":   # deselected with select/ignore: not wanted
                continue
            if site.kind == "map_fn":
                self.map_fn_conversions[(site.call.lineno, site.call.col_offset)] = conversion
                continue
            if site.kind == "range_loop":
                if conversion.status == "converted":  # a loop that stays is AutoGraph's, and fine
                    self.report(site.call, "RWC008", "`for` over `tf.range` runs one step at a time; it can be "
                                "written as whole-tensor ops: run `rewriter fix`", fixable=True)
                continue
            if site.kind not in _KINDS:
                continue
            what = f"`{self.spelled(site.call.func)}`"
            if site.func is not None:
                what += f" of `{self.spelled(site.func)}`"
            if site.custom_gradient is not None:
                self.rwc009_custom_gradient(site, conversion)
            if conversion.status == "converted":
                if site.target is not None:
                    self.converted_targets.add((site.target.lineno, site.target.col_offset))
                self.report(site.call, "RWC001", f"{what} can be rewritten to native TensorFlow: run `rewriter fix`",
                            fixable=True)
            else:
                where = ""
                if conversion.line and conversion.line != site.call.lineno:
                    where = f" (line {conversion.line})"
                self.report(site.call, "RWC001", f"{what} stays in Python (no rewrite): {conversion.reason}"
                            f"{where} [{conversion.code}]")

    # -- RWC009 -----------------------------------------------------------------------------------

    def rwc009_custom_gradient(self, site, conversion):
        function = site.custom_gradient.function
        gradient = f"`{site.custom_gradient.grad.name}`" if site.custom_gradient.grad else "its gradient"
        forward = f"`{self.spelled(site.call.func)}` on line {site.call.lineno}"
        if conversion.status == "converted":
            advice = (f"once `rewriter fix` converts the forward, autodiff gives its exact gradient: "
                      f"`rewriter fix --verify` checks {gradient} against it")
        else:
            advice = f"the forward stays NumPy ({conversion.code}), so {gradient} is its only gradient: test it"
        self.report(function, "RWC009", f"`{function.name}` hand-writes the gradient of a NumPy forward "
                                        f"({forward}); {advice}")

    # -- RWC002 -----------------------------------------------------------------------------------

    def rwc002_map_fn(self, call):
        args = bind_arguments(call, ("fn", "elems"))
        if args is None or "fn" not in args or "elems" not in args:
            return
        fn = self.resolver.function_def(args["fn"])
        what = f"`{self.spelled(args['fn'])}`" if fn is None or not isinstance(fn, gast.Lambda) else "a lambda"
        spelled = self.spelled(call.func)
        engine = self.map_fn_conversions.get((call.lineno, call.col_offset))
        if engine is not None and engine.status == "converted":
            how = f" ({engine.assumed})" if engine.assumed else ""
            self.report(call, "RWC002", f"`{spelled}` calls {what} once per element (a while-loop), but it "
                                        f"vectorizes: run `rewriter fix`{how}", fixable=True)
            return
        if fn is None or isinstance(args["elems"], (gast.Tuple, gast.List, gast.Dict)):
            return   # unknown function, or a nested structure (fn receives a tuple)
        verdict = Elementwise(self, fn).verdict()
        if verdict is None:
            return
        hint = "apply the body to the whole tensor"
        if verdict == "cond":
            hint = "apply the body to the whole tensor, with tf.where in place of tf.cond"
        self.report(call, "RWC002", f"`{spelled}` calls {what} once per element (a while-loop), "
                                    f"but it is elementwise: vectorize: {hint}")

    # -- RWC003 -----------------------------------------------------------------------------------

    def rwc003_apply_along_axis(self, call):
        fixable = self._inside_converted_target(call)
        hint = "run `rewriter fix` (the enclosing site converts)" if fixable else \
            "write the function with whole-array operations along `axis` instead"
        self.report(call, "RWC003", f"`{self.spelled(call.func)}` calls a Python function once per 1-D slice: "
                                    f"{hint}", fixable=fixable)

    def _inside_converted_target(self, node) -> bool:
        scope = self.resolver.enclosing(node, (gast.FunctionDef, gast.Lambda))
        while scope is not None:
            if (scope.lineno, scope.col_offset) in self.converted_targets:
                return True
            scope = self.resolver.enclosing(scope, (gast.FunctionDef, gast.Lambda))
        return False

    # -- RWC004 -----------------------------------------------------------------------------------

    def rwc004_dataset_map(self, call):
        if not self.is_dataset(call.func.value, set()):
            return
        args = bind_arguments(call, ("map_func",))
        if not args or "map_func" not in args:
            return
        fn = self.resolver.function_def(args["map_func"])
        if fn is None:
            return
        seen = set()
        body = [fn.body] if isinstance(fn, gast.Lambda) else fn.body
        # functions run by tf.numpy_function / tf.py_function inside it read the array at run time
        for node in walk_skipping(body, self.site_targets):
            if not (isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load)) or node.id in seen:
                continue
            defs = self.resolver.definitions(node)
            if not defs or not all(isinstance(d, gast.Name) and self.module_level(d) for d in defs):
                continue
            values = self.binding_values(node)
            if values and all(self.is_numpy_array(v, set()) for v in values):
                seen.add(node.id)
                self.report(node, "RWC004",
                            f"NumPy array `{node.id}` is captured by the function passed to `Dataset.map`: "
                            f"converted to a constant on every trace; convert once with "
                            f"tf.constant({node.id}) outside the function")

    def is_dataset(self, node, seen) -> bool:
        """Whether an expression is a tf.data Dataset: a tensorflow.data call, a method chain
        on one, or a name every definition of which binds one."""
        if id(node) in seen:
            return False
        seen.add(id(node))
        if isinstance(node, gast.Call):
            name = self.qualname(node.func)
            if name is not None:
                return name.startswith("tensorflow.data.") or (
                    name.startswith("tensorflow.keras.") and name.endswith(_DATASET_FACTORIES_SUFFIX))
            return isinstance(node.func, gast.Attribute) and self.is_dataset(node.func.value, seen)
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            values = self.binding_values(node)
            return bool(values) and all(self.is_dataset(v, seen) for v in values)
        return False

    def is_numpy_array(self, node, seen) -> bool:
        """Whether an expression builds a NumPy array (np.array, np.load, np.random draws, ...)."""
        if id(node) in seen:
            return False
        seen.add(id(node))
        if isinstance(node, gast.Call):
            name = self.qualname(node.func)
            if name is not None:
                if name in NUMPY_ARRAY_CREATORS:
                    return True
                head, _, last = name.rpartition(".")
                if head == "numpy.random":
                    return last not in _NUMPY_RANDOM_NOT_ARRAYS
                # NumPy math on an array: np.log(np.arange(1, 5)), np.linalg.inv(M)
                elementwise = isinstance(numpy_object(name), np.ufunc)
                return (elementwise or head in ("numpy.linalg", "numpy.fft")) and any(
                    self.is_numpy_array(a, seen) for a in node.args)
            if isinstance(node.func, gast.Attribute):
                receiver = node.func.value
                if node.func.attr in _ARRAY_METHODS and self.is_numpy_array(receiver, seen):
                    return True
                return self.is_numpy_generator(receiver) and not node.func.attr.startswith(("bit_", "spawn"))
            return False
        if isinstance(node, gast.Attribute):
            return node.attr == "T" and self.is_numpy_array(node.value, seen)
        if isinstance(node, gast.Subscript):
            return self.is_numpy_array(node.value, seen)
        if isinstance(node, gast.BinOp):
            return self.is_numpy_array(node.left, seen) or self.is_numpy_array(node.right, seen)
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            values = self.binding_values(node)
            return bool(values) and all(self.is_numpy_array(v, seen) for v in values)
        return False

    def is_numpy_generator(self, node) -> bool:
        """np.random.default_rng(...) / RandomState(...), or a name bound only to those."""
        if isinstance(node, gast.Call):
            return self.qualname(node.func) in NUMPY_GENERATORS
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            values = self.binding_values(node)
            return bool(values) and all(isinstance(v, gast.Call) and self.qualname(v.func) in NUMPY_GENERATORS
                                        for v in values)
        return False


_PHYSICAL_LINE = re.compile(r"(\r\n|\r|\n)")
