"""Stage 2 — resolve: which names mean NumPy, TensorFlow, or a function defined in the file.

Names are resolved through def-use chains (beniget), never by spelling: `np` is NumPy only
when every definition reaching that use is an import of numpy. A local `np = 3` is not NumPy.
"""
from __future__ import annotations

import gast
import beniget

from .parse import ParsedModule


class _QuietChains(beniget.DefUseChains):
    """beniget prints warnings about unbound names; those are the user's business, not ours."""

    def warn(self, msg, node):  # noqa: D401 - beniget hook
        pass


def _import_qualnames(node) -> dict:
    """Map each `alias` node of an import statement to the dotted name it binds."""
    out = {}
    if isinstance(node, gast.Import):
        for alias in node.names:
            # `import numpy.fft` binds `numpy`; `import numpy.fft as nf` binds the submodule.
            out[alias] = alias.name if alias.asname else alias.name.split(".")[0]
    elif isinstance(node, gast.ImportFrom) and not node.level and node.module:
        for alias in node.names:
            if alias.name != "*":
                out[alias] = f"{node.module}.{alias.name}"
    return out


class Resolver:
    """Name facts for one module: qualified names of expressions and the defs names refer to."""

    def __init__(self, module: ParsedModule):
        self.module = module
        chains = _QuietChains(module.filename)
        chains.visit(module.tree)
        self._def_use = chains
        self._use_def = beniget.UseDefChains(chains)
        self._aliases: dict = {}
        self.parents: dict = {}
        for node in gast.walk(module.tree):
            for child in gast.iter_child_nodes(node):
                self.parents[child] = node
            if isinstance(node, (gast.Import, gast.ImportFrom)):
                self._aliases.update(_import_qualnames(node))

    def definitions(self, name: gast.Name) -> list:
        """The nodes that may define this use of a name (alias, Name target, def...)."""
        return [d.node for d in self._use_def.chains.get(name, ())]

    def qualname(self, node) -> str | None:
        """Dotted name of a module-level import an expression denotes (`np.fft.rfft` ->
        `numpy.fft.rfft`), or None when it is anything else."""
        if isinstance(node, gast.Attribute):
            base = self.qualname(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            defs = self.definitions(node)
            names = {self._aliases.get(d) for d in defs}
            if defs and len(names) == 1 and None not in names:
                return names.pop()
        return None

    def builtin(self, node):
        """The builtin object a name refers to (`len`, `int`), or None when it is shadowed."""
        if isinstance(node, gast.Name):
            defs = self.definitions(node)
            if len(defs) == 1 and not isinstance(defs[0], gast.AST):
                return defs[0]
        return None

    def function_def(self, node):
        """The def or lambda a name (or a lambda itself) refers to, when it is unique."""
        if isinstance(node, gast.Lambda):
            return node
        if not isinstance(node, gast.Name):
            return None
        defs = self.definitions(node)
        if len(defs) != 1:
            return None
        target = defs[0]
        if isinstance(target, gast.FunctionDef):
            return target
        parent = self.parents.get(target)
        if isinstance(parent, gast.Assign) and parent.targets == [target]:
            if isinstance(parent.value, gast.Lambda):
                return parent.value
        return None

    def enclosing(self, node, kinds):
        """Nearest ancestor of one of the given node types."""
        node = self.parents.get(node)
        while node is not None and not isinstance(node, kinds):
            node = self.parents.get(node)
        return node

    def uses(self, definition) -> int:
        """How many loads refer to a definition (a def node, or a Name bound by assignment)."""
        return len(self.users(definition))

    def users(self, definition) -> list:
        """The Name nodes that load a definition (a def node, or a Name bound by assignment)."""
        chain = self._def_use.chains.get(definition)
        return [user.node for user in chain.users()] if chain is not None else []
