"""Stage 4, per site — which input dtypes and ranks a site's function may be called with, and
the TF body each of them needs.

Nothing declares the inputs of most real sites, and NumPy's semantics depend on both: `uint8 /
255.0` is float64 and `float32 / 255.0` float32; `np.argsort` of a 0-d array is `[0]`. So the
function is lowered under every candidate assignment (a dtype and a rank per undeclared input),
the assignments are grouped by the TF text they give, and the most common groups become the
variants emitted (see `dispatch.py`). Every other assignment runs the original.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from .facts import Fact, Kind
from .lower import Inconsistent, Refusal

CANDIDATES = tuple(np.dtype(d) for d in (
    "float32", "float64", "int32", "int64", "uint8", "bool", "float16", "int8", "int16",
    "complex64", "complex128"))
COMMON_CANDIDATES = tuple(np.dtype(d) for d in ("float32", "float64", "int32", "int64", "uint8", "bool"))
USUAL_DTYPES = tuple(np.dtype(d) for d in ("float32", "float64", "int64", "int32", "uint8", "int16", "bool"))
"""Dtypes worth a body of their own (others share one, or run the original)."""
RANKS = (1, 2, 3, 4, 0)
"""Ranks an undeclared input is lowered under. A body whose text is the same for all of them
does not depend on the rank, and is taken for any rank."""
MAX_ASSIGNMENTS = 1024
MAX_VARIANTS = {1: 4, 2: 3}
"""Native bodies a function of one, two (or more: one) undeclared inputs may get; assignments
beyond them run the original."""
PROBE_RANKS = (1, 2, 3, 4)
FEW_RANKS = (1, 2, 3)
"""Ranks tried when there are too many dtype combinations for all of RANKS."""
_TOUT_MISMATCH = "output dtype differs from Tout"
_RANKLESS_REFUSALS = {"RW201", "RW203", "RW205", "RW206"}
"""Refusals that hold at every rank: no lowering for a callable, not NumPy, an argument not
supported, a dtype outside the pattern's tests. Another rank may avoid any other."""
_PLAUSIBLE = [np.dtype(d) for d in (
    "float32", "float64", "int64", "int32", "uint8", "bool", "float16", "int16", "int8",
    "complex64", "complex128")]


class TooManyAssignments(ValueError):
    """Too many undeclared inputs to try every dtype and rank of each."""


@dataclass
class Variant:
    """One native body of a site's function and the inputs that take it."""

    checks: dict        # open input name -> (its dtypes, its ranks) taking this body; None: any
    edits: dict         # Span -> text on the file
    lowered: object     # the FunctionLowering result of a representative assignment
    probes: list        # input facts, one list per rank combination it takes, for --verify to probe

    @property
    def facts(self) -> list:
        return self.probes[0]


def lower_assignments(lower, declared, open_inputs):
    """(groups, refusals, inconsistencies) of lowering under every assignment of the open
    inputs; `lower(facts)` gives (lowered, edits). Groups map the edits to their
    [(assignment, lowered)]; an assignment is a (dtype, rank) per open input.

    Dtypes come first: a dtype combination under which NumPy cannot return `Tout` fails in the
    original whatever the ranks (result dtypes do not depend on them), and one a pattern refuses
    for its dtype is refused at every rank, so their ranks are not tried. It is probed with every input at one rank, PROBE_RANKS in turn, until a probe gets
    as far as the result."""
    dtype_choices = [CANDIDATES if declared[i] is None else (declared[i].dtype,) for i in open_inputs]
    if math.prod(map(len, dtype_choices)) > MAX_ASSIGNMENTS:
        dtype_choices = [COMMON_CANDIDATES if declared[i] is None else (declared[i].dtype,) for i in open_inputs]
    groups: dict = {}
    refusals, inconsistencies = [], []

    def attempt(combo):
        facts = list(declared)
        for index, (dtype, rank) in zip(open_inputs, combo):
            facts[index] = Fact(Kind.ARRAY, dtype=dtype, rank=rank, fresh=False)
        try:
            lowered, edits = lower(facts)
        except Inconsistent as exc:
            inconsistencies.append((combo, str(exc)))
            return str(exc)
        except Refusal as refusal:
            refusals.append((combo, refusal))
            return "refused whatever the rank" if refusal.code in _RANKLESS_REFUSALS else "refused"
        if lowered.refusals:
            refusals.append((combo, lowered.refusals[0]))
            return "refused whatever the rank" if lowered.refusals[0].code in _RANKLESS_REFUSALS else "refused"
        key = tuple(sorted(edits.items(), key=lambda e: e[0].start))
        groups.setdefault(key, []).append((combo, lowered))
        return "lowered"

    tried = set()

    def attempt_once(combo):
        tried.add(combo)
        return attempt(combo)

    possible = []
    for dtypes in itertools.product(*dtype_choices):
        for rank in PROBE_RANKS:
            outcome = attempt_once(tuple((dtype, rank) for dtype in dtypes))
            if outcome in ("lowered", _TOUT_MISMATCH, "refused whatever the rank"):
                break
        if outcome not in (_TOUT_MISMATCH, "refused whatever the rank"):
            possible.append(dtypes)
    ranks = _affordable_ranks(len(possible), len(open_inputs))
    if ranks is None:
        possible = [dtypes for dtypes in possible if set(dtypes) <= set(COMMON_CANDIDATES)]
        ranks = _affordable_ranks(len(possible), len(open_inputs))
    if ranks is None:
        raise TooManyAssignments(f"{len(open_inputs)} inputs of unknown dtype or rank")
    for dtypes in possible:
        for rank_combo in itertools.product(ranks, repeat=len(open_inputs)):
            combo = tuple(zip(dtypes, rank_combo))
            if combo not in tried:
                attempt_once(combo)
    return groups, refusals, inconsistencies


def _affordable_ranks(combinations: int, inputs: int):
    """RANKS, or FEW_RANKS, whichever keeps the assignments within MAX_ASSIGNMENTS (None if neither)."""
    return next((r for r in (RANKS, FEW_RANKS) if combinations * len(r) ** inputs <= MAX_ASSIGNMENTS), None)


def choose_variants(groups: dict, declared, open_inputs, input_names) -> list:
    """The bodies to emit, most common first: at most MAX_VARIANTS, those after the first only
    for usual dtypes."""
    ranked = sorted(groups.items(), key=lambda item: min(_preference(c) for c, _ in item[1]))
    ranked = ranked[:1] + [(key, members) for key, members in ranked[1:]
                           if any(all(d in USUAL_DTYPES for d, _ in combo) for combo, _ in members)]
    limit = MAX_VARIANTS.get(len(open_inputs), 1)
    chosen = []
    for key, members in ranked[:limit]:
        variant = _variant(dict(key), members, declared, open_inputs, input_names)
        chosen.append(variant)
        rest = [(combo, low) for combo, low in members if not _takes(variant, combo, open_inputs, input_names)]
        if rest and _one_float(min((combo for combo, _ in rest), key=plausibility)):
            # all float64 where the body's check names all float32: one check cannot say both,
            # so the same body gets a second check (dispatch joins them with `or`)
            chosen.append(_variant(dict(key), rest, declared, open_inputs, input_names))
    return chosen


def _takes(variant, combo, open_inputs, input_names) -> bool:
    """Whether inputs of `combo` (a dtype and rank per open input) pass the variant's checks."""
    for index, (dtype, rank) in zip(open_inputs, combo):
        dtypes, ranks = variant.checks[input_names[index]]
        if (dtypes is not None and dtype not in dtypes) or (ranks is not None and rank not in ranks):
            return False
    return True


def _one_float(combo) -> bool:
    """Every open input float32, or every one float64: the assignments pipelines feed most."""
    return len({dtype for dtype, _ in combo}) == 1 and combo[0][0] in (np.dtype("float32"), np.dtype("float64"))


def _variant(edits, members, declared, open_inputs, input_names) -> Variant:
    """The members' assignments as one check per input: from the most common assignment, the
    ranks and then the dtypes that can join it while every combination still takes this body.
    Checks that all members pass anyway (a declared dtype, every rank) are left out."""
    covered = {combo for combo, _ in members}
    best = min(covered, key=plausibility)
    dtypes = [[dtype] for dtype, _ in best]
    ranks = [[rank] for _, rank in best]

    def fits():
        per_input = [[(d, r) for d in ds for r in rs] for ds, rs in zip(dtypes, ranks)]
        return all(combo in covered for combo in itertools.product(*per_input))

    for sets, options in ((ranks, RANKS), (dtypes, _PLAUSIBLE)):
        for k in range(len(open_inputs)):
            for option in options:
                if option not in sets[k]:
                    sets[k].append(option)
                    if not fits():
                        sets[k].pop()
    lowered = next(low for combo, low in members if combo == best)
    probes = []  # input facts --verify may probe this body with, in order
    rank_options = [[None] if set(r) == set(RANKS) else sorted(r, key=RANKS.index) for r in ranks]
    for rank_combo in itertools.product(*rank_options):
        facts = list(declared)
        for index, (dtype, _), rank in zip(open_inputs, best, rank_combo):
            facts[index] = Fact(Kind.ARRAY, dtype=dtype, rank=rank)
        probes.append(facts)
    checks = {}
    for k, index in enumerate(open_inputs):
        checks[input_names[index]] = (
            tuple(dtypes[k]) if declared[index] is None else None,
            None if set(ranks[k]) == set(RANKS) else tuple(sorted(ranks[k])))
    return Variant(checks, edits, lowered, probes)


def plausibility(combo) -> tuple:
    """Order of preference among input assignments that give different rewrites: the dtypes
    TF pipelines usually carry first, then the ranks in the order of RANKS."""
    return tuple(_PLAUSIBLE.index(d) for d, _ in combo) + tuple(RANKS.index(r) for _, r in combo)


def _preference(combo) -> tuple:
    """Which bodies to emit first: 0-d inputs (scalars where arrays are usual) last, then the
    usual dtypes, then inputs of one rank before mixed ranks."""
    dtypes = tuple(_PLAUSIBLE.index(d) for d, _ in combo)
    return (any(rank == 0 for _, rank in combo), dtypes, len({rank for _, rank in combo}) > 1, plausibility(combo))


def describe_check(dtypes, ranks) -> str:
    """`float32/float64 of rank 1/2`, for reports."""
    text = "/".join(d.name for d in dtypes) if dtypes else "declared dtype"
    return text if ranks is None else f"{text} of rank {'/'.join(map(str, ranks))}"
