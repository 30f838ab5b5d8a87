"""`rewriter check`: diagnostics for NumPy-in-TensorFlow code, without changing any file.

    RWC001  tf.numpy_function / tf.py_function / tf.compat.v1.py_func site (fixable when
            `rewriter fix` converts it; otherwise the reason it can't)
    RWC002  tf.map_fn over a function that vectorizes: elementwise (apply it to the whole
            tensor), or one `rewriter fix` vectorizes (fixable)
    RWC003  np.apply_along_axis: a Python call per slice
    RWC004  NumPy array from module level captured by a Dataset.map function
    RWC005  np.random inside a tf.function: drawn once, at trace time
    RWC006  tf.function around plain Python scalar arithmetic
    RWC007  tf.function called with varying Python numbers: a new trace per value
    RWC008  `for` over tf.range that `rewriter fix` writes as whole-tensor ops (fixable)
    RWC900  syntax error (the file is not analysed further)
    RWC901  internal error while analysing (please report it)

Every name is resolved through imports and def-use chains (`Resolver`), never by spelling:
`tf.map_fn` counts only when `tf` is TensorFlow. `# noqa` / `# noqa: RWC002` at the end of
the reported line silences a diagnostic, as in flake8 and ruff.
"""
from __future__ import annotations

import io
import json
import re
import tokenize
from dataclasses import asdict, dataclass

import gast
import numpy as np

from .parse import ParseError, ParsedModule, parse
from .resolve import Resolver
from .sites import bind_arguments

RULES = {
    "RWC001": "tf.numpy_function / tf.py_function site that `rewriter fix` can (or can't) convert",
    "RWC002": "tf.map_fn over a function that vectorizes (elementwise, or `rewriter fix` converts it)",
    "RWC003": "np.apply_along_axis (a Python call per slice)",
    "RWC004": "NumPy array captured by a Dataset.map function",
    "RWC005": "np.random inside a tf.function (evaluated once, at trace time)",
    "RWC006": "tf.function around plain Python scalar arithmetic",
    "RWC007": "tf.function called with varying Python numbers (retraces per value)",
    "RWC008": "`for` over tf.range that `rewriter fix` writes as whole-tensor ops",
    "RWC900": "syntax error",
    "RWC901": "internal error while analysing",
}
FORMATS = ("text", "json", "github")
_ALWAYS = frozenset({"RWC900", "RWC901"})   # never filtered out by select/ignore


@dataclass(frozen=True)
class Diagnostic:
    path: str
    line: int          # 1-based (within the cell for notebooks)
    col: int           # 1-based, in characters
    code: str
    message: str
    fixable: bool = False
    cell: int | None = None   # notebooks: 1-based index of the cell among all cells

    def sort_key(self):
        return (self.path, self.cell or 0, self.line, self.col, self.code, self.message)


# -- entry points ------------------------------------------------------------------------------

def check_source(text: str, filename: str = "<string>", options=None, select=(), ignore=()) -> list:
    """Diagnostics for one Python source, sorted by position.

    `options` (a pipeline.RewriteOptions, optional) is what RWC001 asks `rewrite_source` with,
    so a project's pattern modules and select/ignore decide what counts as fixable.
    `select`/`ignore` are rule-code prefixes; only prefixes that can name a check rule (e.g.
    "RWC", "RWC00", "RWC004", "RW", "R") take part, so a fix-rule selection like "RW001" or "NP2"
    doesn't hide the checks. RWC900/RWC901 are always reported."""
    try:
        module = parse(text, filename)
    except ParseError as exc:
        return [Diagnostic(filename, max(exc.line, 1), max(exc.col, 1), "RWC900", f"syntax error: {exc.message}")]
    if "numpy" not in text and "tensorflow" not in text:
        return []   # every rule needs a name imported from one of them
    try:
        diagnostics = _Checker(module, filename).run(text, options)
    except RecursionError:
        return [Diagnostic(filename, 1, 1, "RWC901", "too deeply nested to analyse")]
    diagnostics = _suppressed_by_noqa(text, diagnostics)
    return sorted(set(filtered(diagnostics, select, ignore)), key=Diagnostic.sort_key)


def filtered(diagnostics, select=(), ignore=()) -> list:
    """Keep the diagnostics that `select` selects (no check-rule prefix in it: all) and
    `ignore` doesn't ignore; see `check_source`."""
    select = [p.upper() for p in select if _names_check_rules(p)]
    ignore = [p.upper() for p in ignore if _names_check_rules(p)]
    out = []
    for d in diagnostics:
        if d.code in _ALWAYS:
            out.append(d)
        elif any(d.code.startswith(p) for p in ignore):
            continue
        elif not select or any(d.code.startswith(p) for p in select):
            out.append(d)
    return out


def _names_check_rules(prefix: str) -> bool:
    prefix = prefix.upper()
    return any(code.startswith(prefix) for code in RULES)


def render(diagnostics, fmt: str = "text") -> str:
    """Diagnostics as text (`path:line:col: CODE message`, one per line, as ruff prints them;
    `path:cell N:line:col:` in notebooks), a JSON list of objects, or GitHub Actions workflow
    commands (`::warning file=...,line=...,col=...,title=CODE::message`; syntax errors are
    `::error`). Every format ends with a newline except empty text/github output, which is ""."""
    diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
    if fmt == "json":
        return json.dumps([asdict(d) for d in diagnostics], indent=2, ensure_ascii=False) + "\n"
    if fmt == "text":
        lines = []
        for d in diagnostics:
            where = f"{d.path}:cell {d.cell}:" if d.cell is not None else f"{d.path}:"
            lines.append(f"{where}{d.line}:{d.col}: {d.code} {d.message}")
        return "".join(line + "\n" for line in lines)
    if fmt == "github":
        lines = []
        for d in diagnostics:
            level = "error" if d.code in _ALWAYS else "warning"
            title = d.code if d.cell is None else f"{d.code} (cell {d.cell})"
            props = f"file={_gh_property(d.path)},line={d.line},col={d.col},title={_gh_property(title)}"
            lines.append(f"::{level} {props}::{_gh_data(d.message)}")
        return "".join(line + "\n" for line in lines)
    raise ValueError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*))?", re.IGNORECASE)


def _suppressed_by_noqa(text: str, diagnostics: list) -> list:
    if "noqa" not in text.lower():
        return diagnostics
    rules: dict = {}   # line -> None (all codes) or set of codes
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                match = _NOQA.search(token.string)
                if match:
                    codes = match.group("codes")
                    rules[token.start[0]] = None if codes is None else {c.strip().upper() for c in codes.split(",")}
    except (tokenize.TokenError, SyntaxError):
        return diagnostics
    out = []
    for d in diagnostics:
        if d.line in rules and d.code not in _ALWAYS:
            codes = rules[d.line]
            if codes is None or d.code in codes:
                continue
        out.append(d)
    return out


# -- the rules -------------------------------------------------------------------------------------

TF_FUNCTION = frozenset({"tensorflow.function", "tensorflow.compat.v1.function", "tensorflow.compat.v2.function"})
MAP_FN = frozenset({"tensorflow.map_fn", "tensorflow.compat.v1.map_fn", "tensorflow.compat.v2.map_fn"})
_KINDS = {"numpy_function": "tf.numpy_function", "py_function": "tf.py_function", "py_func": "tf.compat.v1.py_func"}

# TensorFlow ops that act element by element (with broadcasting): each is reachable as
# tensorflow.math.<op> and most as tensorflow.<op>.
_TF_ELEMENTWISE_MATH = (
    "abs acos acosh angle asin asinh atan atan2 atanh ceil conj cos cosh digamma divide divide_no_nan "
    "equal erf erfc erfinv exp expm1 floor floordiv floormod greater greater_equal imag is_finite is_inf "
    "is_nan lgamma less less_equal log log1p log_sigmoid logical_and logical_not logical_or logical_xor "
    "maximum minimum mod multiply multiply_no_nan ndtri negative not_equal pow real reciprocal "
    "reciprocal_no_nan rint round rsqrt sigmoid sign sin sinh softplus softsign sqrt square "
    "squared_difference subtract tan tanh truediv xdivy xlog1py xlogy add realdiv"
).split()
_TF_ELEMENTWISE_NN = "relu relu6 elu selu gelu leaky_relu sigmoid tanh softplus softsign silu swish".split()
TF_ELEMENTWISE = frozenset(
    [f"tensorflow.math.{op}" for op in _TF_ELEMENTWISE_MATH]
    + [f"tensorflow.{op}" for op in _TF_ELEMENTWISE_MATH]
    + [f"tensorflow.nn.{op}" for op in _TF_ELEMENTWISE_NN]
    + ["tensorflow.cast", "tensorflow.dtypes.cast", "tensorflow.saturate_cast", "tensorflow.dtypes.saturate_cast",
       "tensorflow.clip_by_value", "tensorflow.identity", "tensorflow.where", "tensorflow.math.divide"]
)
_THREE_ARGUMENT_ONLY = frozenset({"tensorflow.where", "numpy.where"})   # one argument: indices
TF_COND = frozenset({"tensorflow.cond", "tensorflow.compat.v1.cond", "tensorflow.compat.v2.cond"})

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

_SCALAR_BUILTINS = frozenset({"abs", "min", "max", "round", "int", "float", "pow", "complex", "bool", "divmod"})


@dataclass
class _Traced:
    """A function traced by tf.function: decorated, or wrapped as `g = tf.function(f)`."""

    fn: gast.FunctionDef
    marker: object              # the decorator, or the tf.function(...) call
    options: dict               # keyword -> value node of the tf.function(...) call
    sole_decorator: bool        # nothing else wraps it (call sites bind its own parameters)
    binding: object             # the node whose uses are the function's uses (def, or Name target)


class _Checker:
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
        self.traced = self._traced_functions()

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
            elif name is not None and name.startswith("numpy.") and _numpy_object(name) is np.apply_along_axis:
                self.rwc003_apply_along_axis(call)
            elif isinstance(call.func, gast.Attribute) and call.func.attr == "map":
                self.rwc004_dataset_map(call)
        for traced in self.traced:
            self.rwc005_random_in_tf_function(traced)
            self.rwc006_trivial_tf_function(traced)
        self.rwc007_retracing_calls()
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
        verdict = _Elementwise(self, fn).verdict()
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
        for node in _walk_skipping(body, self.site_targets):
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
                elementwise = isinstance(_numpy_object(name), np.ufunc)
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

    # -- tf.function --------------------------------------------------------------------------------

    def _traced_functions(self) -> list:
        traced = []
        for node in gast.walk(self.module.tree):
            if isinstance(node, gast.FunctionDef):
                for decorator in node.decorator_list:
                    options = self._tf_function_options(decorator)
                    if options is not None:
                        traced.append(_Traced(node, decorator, options, len(node.decorator_list) == 1, node))
                        break
        for call in self.calls:
            # g = tf.function(f, ...): f is traced through the name g
            if self.qualname(call.func) not in TF_FUNCTION or not call.args:
                continue
            fn = self.resolver.function_def(call.args[0])
            parent = self.resolver.parents.get(call)
            if not isinstance(fn, gast.FunctionDef) or any(t.fn is fn for t in traced):
                continue
            binding = None
            if isinstance(parent, gast.Assign) and parent.value is call and len(parent.targets) == 1 \
                    and isinstance(parent.targets[0], gast.Name):
                binding = parent.targets[0]
            options = {k.arg: k.value for k in call.keywords if k.arg}
            traced.append(_Traced(fn, call, options, binding is not None and not fn.decorator_list, binding))
        return traced

    def _tf_function_options(self, decorator):
        """The keywords of a tf.function decorator ({} when bare), or None for another decorator."""
        if self.qualname(decorator) in TF_FUNCTION:
            return {}
        if isinstance(decorator, gast.Call) and self.qualname(decorator.func) in TF_FUNCTION:
            return {k.arg: k.value for k in decorator.keywords if k.arg}
        return None

    def _has_signature(self, traced) -> bool:
        value = traced.options.get("input_signature")
        return value is not None and not (isinstance(value, gast.Constant) and value.value is None)

    # -- RWC005 -----------------------------------------------------------------------------------

    def rwc005_random_in_tf_function(self, traced):
        for node in _walk_skipping(traced.fn.body, self.site_targets):
            if not isinstance(node, gast.Call):
                continue
            name = self.qualname(node.func)
            if name is not None and name.startswith("numpy.random."):
                spelled = self.spelled(node.func)
            elif isinstance(node.func, gast.Attribute) and self._outer_generator(node.func.value, traced.fn):
                spelled = self.spelled(node.func)
            else:
                continue
            self.report(node, "RWC005",
                        f"`{spelled}` inside tf.function `{traced.fn.name}` runs once, when the function is "
                        "traced: every call reuses the same 'random' values; use tf.random (e.g. "
                        "tf.random.uniform) or a tf.random.Generator")

    def _outer_generator(self, node, fn) -> bool:
        """A NumPy Generator/RandomState bound outside `fn` (its draws inside `fn` are traced once)."""
        if not isinstance(node, gast.Name) or not self.is_numpy_generator(node):
            return False
        return all(self.resolver.enclosing(d, (gast.FunctionDef,)) is not fn for d in self.resolver.definitions(node))

    # -- RWC006 -----------------------------------------------------------------------------------

    def rwc006_trivial_tf_function(self, traced):
        fn = traced.fn
        if not traced.sole_decorator or self._has_signature(traced):
            return
        args = fn.args
        if args.vararg or args.kwarg or args.kwonlyargs or getattr(args, "posonlyargs", None):
            return
        params = {id(a) for a in args.args}
        if not _Scalar(self, fn, params).body_is_scalar():
            return
        if args.args:
            # parameters could be tensors: only when every use of the function is a call in this
            # file passing Python numbers are they known to be numbers
            calls = [c for c in self.calls if self._callee(c) is traced]
            if not calls or len(calls) != self.resolver.uses(traced.binding):
                return
            for call in calls:
                values = list(call.args) + [k.value for k in call.keywords]
                if any(isinstance(v, gast.Starred) for v in values) or any(k.arg is None for k in call.keywords):
                    return
                if not all(_number_literal(v) is not None for v in values):
                    return
        self.report(traced.marker, "RWC006",
                    f"tf.function `{fn.name}` only does Python scalar arithmetic (no TensorFlow ops, no "
                    "tensors): tracing costs more than it saves; drop tf.function and call it as plain Python")

    # -- RWC007 -----------------------------------------------------------------------------------

    def _callee(self, call):
        """The traced function a call invokes by name (`f(...)` for a decorated f, or `g(...)`
        for `g = tf.function(f)`), or None."""
        if not isinstance(call.func, gast.Name):
            return None
        defs = self.resolver.definitions(call.func)
        if len(defs) != 1:
            return None
        for traced in self.traced:
            if traced.binding is defs[0] and traced.sole_decorator:
                return traced
        return None

    def rwc007_retracing_calls(self):
        passed: dict = {}   # (traced id, parameter) -> [(node, value or LOOP)]
        for call in self.calls:
            traced = self._callee(call)
            if traced is None or self._has_signature(traced):
                continue
            if any(isinstance(a, gast.Starred) for a in call.args):
                continue
            params = [a.id for a in traced.fn.args.args]
            pairs = list(zip(params, call.args)) + [(k.arg, k.value) for k in call.keywords if k.arg]
            for param, node in pairs:
                value = _number_literal(node)
                if value is None and self._range_loop_variable(node):
                    value = _LOOP
                if value is not None:
                    passed.setdefault((id(traced), param), (traced, []))[1].append((node, value))
        for (_, param), (traced, uses) in passed.items():
            values = {v for _, v in uses if v is not _LOOP}
            if len(values) < 2 and all(v is not _LOOP for _, v in uses):
                continue   # one value: one trace
            shown = ", ".join(repr(v) for v in sorted(values, key=repr)[:4]) + (", ..." if len(values) > 4 else "")
            for node, value in uses:
                if value is _LOOP:
                    what = f"the loop variable `{node.id}` (a new Python int on every iteration)"
                    example = node.id
                else:
                    what = f"the Python number {self.spelled(node)}"
                    example = self.spelled(node)
                    what += f" (values in this file: {shown})"
                self.report(node, "RWC007",
                            f"tf.function `{traced.fn.name}` is called with {what} for `{param}`: each new Python "
                            f"value traces a new graph; pass tf.constant({example}) or declare an "
                            "input_signature (reduce_retracing does not generalize Python numbers)")

    def _range_loop_variable(self, node) -> bool:
        if not isinstance(node, gast.Name) or not isinstance(node.ctx, gast.Load):
            return False
        defs = self.resolver.definitions(node)
        if not defs:
            return False
        for d in defs:
            loop = self.resolver.parents.get(d)
            if not (isinstance(loop, gast.For) and loop.target is d and isinstance(loop.iter, gast.Call)
                    and self.resolver.builtin(loop.iter.func) is range):
                return False
        return True


_LOOP = object()
_PHYSICAL_LINE = re.compile(r"(\r\n|\r|\n)")


# -- elementwise functions (RWC002) ------------------------------------------------------------------

class _Elementwise:
    """Whether a one-parameter def/lambda only does elementwise math on its parameter, so that
    applying it to the whole tensor equals mapping it over the elements."""

    def __init__(self, checker: _Checker, fn):
        self.c, self.fn = checker, fn
        self.uses_cond = False

    def verdict(self):
        """None (not elementwise), "plain" or "cond" (elementwise once tf.cond becomes tf.where)."""
        fn, args = self.fn, self.fn.args
        if args.vararg or args.kwarg or args.kwonlyargs or len(args.args) != 1 or args.defaults:
            return None
        if getattr(args, "posonlyargs", None):
            return None
        self.param = args.args[0]
        self.dependent = {id(self.param)}   # nodes (param, assigned Name targets) derived from it
        self.locals = set()
        if isinstance(fn, gast.Lambda):
            ok = self.expr(fn.body) and self.depends(fn.body)
        else:
            ok = self.body(fn.body)
        if not ok:
            return None
        return "cond" if self.uses_cond else "plain"

    def body(self, statements) -> bool:
        statements = list(statements)
        if statements and _is_docstring(statements[0]):
            statements = statements[1:]
        if not statements or not isinstance(statements[-1], gast.Return) or statements[-1].value is None:
            return False
        for statement in statements[:-1]:
            if not (isinstance(statement, gast.Assign) and len(statement.targets) == 1
                    and isinstance(statement.targets[0], gast.Name) and self.expr(statement.value)):
                return False
            target = statement.targets[0]
            self.locals.add(id(target))
            if self.depends(statement.value):
                self.dependent.add(id(target))
        result = statements[-1].value
        return self.expr(result) and self.depends(result)

    def depends(self, node) -> bool:
        for sub in gast.walk(node):
            if isinstance(sub, gast.Name) and isinstance(sub.ctx, gast.Load):
                if any(id(d) in self.dependent for d in self.c.resolver.definitions(sub)):
                    return True
        return False

    def expr(self, node) -> bool:
        if isinstance(node, gast.Constant):
            return isinstance(node.value, (int, float, complex)) or node.value is None
        if isinstance(node, gast.Name):
            return self.name(node)
        if isinstance(node, gast.BinOp):
            return not isinstance(node.op, gast.MatMult) and self.expr(node.left) and self.expr(node.right)
        if isinstance(node, gast.UnaryOp):
            return isinstance(node.op, (gast.USub, gast.UAdd, gast.Invert)) and self.expr(node.operand)
        if isinstance(node, gast.Compare):
            return len(node.ops) == 1 and isinstance(node.ops[0], (gast.Lt, gast.LtE, gast.Gt, gast.GtE)) \
                and self.expr(node.left) and self.expr(node.comparators[0])
        if isinstance(node, gast.Call):
            return self.call(node)
        return False

    def name(self, node) -> bool:
        if not isinstance(node.ctx, gast.Load):
            return False
        defs = self.c.resolver.definitions(node)
        if not defs:
            return False
        if all(d is self.param or id(d) in self.locals for d in defs):
            return True
        # a module-level Python number (ALPHA = 1.7) broadcasts like a literal
        values = self.c.binding_values(node)
        return bool(values) and all(self.c.module_level(d) for d in defs) and all(
            _number_literal(v) is not None for v in values)

    def static(self, node) -> bool:
        """An argument that is no value at all: a dtype, a name string, a constant."""
        if isinstance(node, gast.Constant):
            return True
        name = self.c.qualname(node)
        return name is not None and (name.startswith("tensorflow.") or name.startswith("numpy."))

    def call(self, node) -> bool:
        name = self.c.qualname(node.func)
        if name is None:
            return False
        values = list(node.args) + [k.value for k in node.keywords]
        if any(isinstance(v, gast.Starred) for v in node.args) or any(k.arg is None for k in node.keywords):
            return False
        if name in TF_COND:
            return self.cond(node)
        if name in _THREE_ARGUMENT_ONLY and len(values) != 3:
            return False
        if name in TF_ELEMENTWISE or name in ("numpy.where", "numpy.clip") or _is_elementwise_ufunc(name):
            return all(self.expr(v) or self.static(v) for v in values)
        return False

    def cond(self, node) -> bool:
        """tf.cond(pred, lambda: a, lambda: b) with elementwise parts: tf.where over the tensor."""
        args = bind_arguments(node, ("pred", "true_fn", "false_fn"))
        if args is None or not {"pred", "true_fn", "false_fn"} <= args.keys():
            return False
        if set(args) - {"pred", "true_fn", "false_fn", "name"}:
            return False
        branches = (args["true_fn"], args["false_fn"])
        if not all(isinstance(b, gast.Lambda) and not b.args.args and not b.args.vararg and not b.args.kwarg
                   for b in branches):
            return False
        if not (self.expr(args["pred"]) and all(self.expr(b.body) for b in branches)):
            return False
        self.uses_cond = True
        return True


def _is_elementwise_ufunc(name: str) -> bool:
    obj = _numpy_object(name)
    return isinstance(obj, np.ufunc) and obj.signature is None


def _numpy_object(qualname: str):
    """The NumPy object a dotted `numpy.` name denotes, or None (TensorFlow is never imported)."""
    if not qualname.startswith("numpy."):
        return None
    obj = np
    for part in qualname.split(".")[1:]:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


# -- Python scalar arithmetic (RWC006) --------------------------------------------------------------

class _Scalar:
    """Whether a function body is plain Python number arithmetic: literals, parameters, locals,
    module-level numbers, operators, `math` and a few builtins."""

    def __init__(self, checker: _Checker, fn, params: set):
        self.c, self.fn, self.params = checker, fn, params

    def body_is_scalar(self) -> bool:
        statements = list(self.fn.body)
        if statements and _is_docstring(statements[0]):
            statements = statements[1:]
        if not statements or not any(isinstance(n, gast.Return) and n.value is not None
                                     for s in statements for n in gast.walk(s)):
            return False
        return all(self.statement(s) for s in statements)

    def statement(self, node) -> bool:
        if isinstance(node, gast.Assign):
            return all(self.target(t) for t in node.targets) and self.expr(node.value)
        if isinstance(node, gast.AugAssign):
            return self.target(node.target) and self.expr(node.value)
        if isinstance(node, gast.Return):
            return node.value is not None and self.expr(node.value)
        if isinstance(node, gast.If):
            return self.expr(node.test) and all(self.statement(s) for s in node.body + node.orelse)
        return isinstance(node, gast.Pass)

    def target(self, node) -> bool:
        if isinstance(node, gast.Name):
            return True
        return isinstance(node, gast.Tuple) and all(isinstance(e, gast.Name) for e in node.elts)

    def expr(self, node) -> bool:
        if isinstance(node, gast.Constant):
            return isinstance(node.value, (bool, int, float, complex))
        if isinstance(node, gast.Name):
            return self.name(node)
        if isinstance(node, gast.BinOp):
            return not isinstance(node.op, gast.MatMult) and self.expr(node.left) and self.expr(node.right)
        if isinstance(node, gast.UnaryOp):
            return self.expr(node.operand)
        if isinstance(node, gast.BoolOp):
            return all(self.expr(v) for v in node.values)
        if isinstance(node, gast.Compare):
            return self.expr(node.left) and all(self.expr(v) for v in node.comparators)
        if isinstance(node, gast.IfExp):
            return self.expr(node.test) and self.expr(node.body) and self.expr(node.orelse)
        if isinstance(node, gast.Tuple):
            return all(self.expr(e) for e in node.elts)
        if isinstance(node, gast.Attribute):
            name = self.c.qualname(node)
            return name is not None and name.startswith("math.")
        if isinstance(node, gast.Call):
            if node.keywords or any(isinstance(a, gast.Starred) for a in node.args):
                return False
            builtin = self.c.resolver.builtin(node.func)
            name = self.c.qualname(node.func)
            ok = (builtin is not None and getattr(builtin, "__name__", None) in _SCALAR_BUILTINS) or \
                (name is not None and name.startswith("math."))
            return ok and all(self.expr(a) for a in node.args)
        return False

    def name(self, node) -> bool:
        if not isinstance(node.ctx, gast.Load):
            return False
        defs = self.c.resolver.definitions(node)
        if not defs:
            return False
        local = [d for d in defs if self.c.resolver.enclosing(d, (gast.FunctionDef,)) is self.fn]
        if len(local) == len(defs):
            return True   # parameters and locals: the statements assigning them are checked too
        if local:
            return False
        values = self.c.binding_values(node)
        return bool(values) and all(self.c.module_level(d) for d in defs) and all(
            _number_literal(v) is not None for v in values)


# -- shared helpers ----------------------------------------------------------------------------------

def _number_literal(node):
    """The value of a Python int/float/complex literal (`3`, `-0.5`), else None (bools excluded)."""
    sign = 1
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        sign = -1 if isinstance(node.op, gast.USub) else 1
        node = node.operand
    if isinstance(node, gast.Constant) and isinstance(node.value, (int, float, complex)) \
            and not isinstance(node.value, bool):
        return sign * node.value
    return None


def _is_docstring(statement) -> bool:
    return isinstance(statement, gast.Expr) and isinstance(statement.value, gast.Constant) \
        and isinstance(statement.value.value, str)


def _walk_skipping(statements, skipped):
    """Every node under `statements`, not descending into the function nodes in `skipped`."""
    stack = list(reversed(statements))
    while stack:
        node = stack.pop()
        if node in skipped:
            continue
        yield node
        stack.extend(reversed(list(gast.iter_child_nodes(node))))


__all__ = ["Diagnostic", "FORMATS", "RULES", "check_source", "filtered", "render"]
