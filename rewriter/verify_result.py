"""What the verifier reports: the result record and the wording of its failures.

`verify` and `verify_distribution` both return a :class:`VerifyResult`; the
CLI, the decorator and the report read it.  :class:`FailureLog` merges the
same problem seen in several trials into one message, and the small
formatters here keep indices and exceptions short in those messages.  No
TensorFlow here.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np


@dataclasses.dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify` or :func:`verify_distribution`.

    ``kind`` is ``"values"`` for :func:`verify`.  For
    :func:`verify_distribution` it is ``"distribution"``: there
    ``values_ok`` means "same distribution" (not equal numbers),
    ``max_abs_err``/``max_rel_err`` are NaN, ``trials`` is the number of
    samples per side, and ``statistic``/``critical`` hold the test statistic
    and critical value of the worst output.
    """

    values_ok: bool
    grad_ok: bool | None
    max_abs_err: float
    max_rel_err: float
    grad_err: float | None
    device: str
    trials: int
    failures: tuple[str, ...] = ()
    grad_skipped: str | None = None
    notes: tuple[str, ...] = ()
    kind: str = "values"
    statistic: float | None = None
    critical: float | None = None
    custom_gradient: dict | None = None  # a @tf.custom_gradient rewrite: its gradient against autodiff

    @property
    def ok(self) -> bool:
        return bool(self.values_ok) and self.grad_ok is not False

    def to_dict(self) -> dict:
        def clean(x):
            if isinstance(x, float) and not math.isfinite(x):
                return None
            if isinstance(x, tuple):
                return [clean(y) for y in x]
            return x

        d = {f.name: clean(getattr(self, f.name)) for f in dataclasses.fields(self)}
        d["ok"] = self.ok
        return d

    def __str__(self) -> str:
        status = "OK" if self.ok else "FAILED"
        if self.kind == "distribution":
            verdict = "same distribution" if self.values_ok else "DIFFERENT distribution"
            head = (
                f"verify_distribution: {status} - {verdict} (statistical test on "
                f"{self.trials} samples per side; not a claim of numerical equality); "
                f"device {self.device}"
            )
            lines = [head]
            if self.statistic is not None:
                lines.append(
                    f"  worst statistic {self.statistic:.4g} vs critical value {self.critical:.4g}"
                )
        else:
            v = "ok" if self.values_ok else "FAIL"
            g = {True: "ok", False: "FAIL", None: "not checked"}[self.grad_ok]
            lines = [
                f"verify: {status} - values {v}, gradient {g}; device {self.device}; "
                f"{self.trials} trial(s)"
            ]
            errs = f"  max abs err {self.max_abs_err:.3g}, max rel err {self.max_rel_err:.3g}"
            if self.grad_err is not None:
                errs += f", gradient rel err {self.grad_err:.3g}"
            lines.append(errs)
        if self.grad_skipped and self.kind != "distribution":
            lines.append(f"  gradient skipped: {self.grad_skipped}")
        if self.custom_gradient:
            lines.append(f"  {describe_custom_gradient(self.custom_gradient)}")
        lines.extend(f"  FAIL: {f}" for f in self.failures)
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


def describe_custom_gradient(record: dict) -> str:
    """One line for a @tf.custom_gradient check (see `verify_custom_gradient`)."""
    what = (f"custom gradient `{record['gradient']}` of `{record['function']}`" if record.get("function")
            else "custom gradient")
    verdict = record.get("verdict", "not checked")
    if verdict == "agree":
        text = f"{what} agrees with autodiff of the rewrite (max rel err {record['max_rel_err']:.2g}): it is redundant"
        if record.get("dropped"):
            return text + "; removed (--drop-redundant-gradients)"
        if record.get("kept_because"):
            return text + f"; --drop-redundant-gradients keeps it: {record['kept_because']}"
        return text
    if verdict == "fails to run":
        return f"{what} fails to run: {record['message']}"
    if verdict != "disagree":
        return f"{what} {verdict}: {record.get('reason', 'run with --verify')}"
    if "max_rel_err" not in record:
        return f"{what} DISAGREES with autodiff of the rewrite: {record['reason']}"
    dy = f" with dy = {record['dy']:.4g}" if "dy" in record else ""
    text = (f"{what} DISAGREES with autodiff of the rewrite: max rel err {record['max_rel_err']:.2g} at "
            f"{record['where']} = {record['input_value']:.4g} ({record['input_shape']}){dy}: hand-written "
            f"{record['hand_written']:.4g}, autodiff {record['autodiff']:.4g}")
    fd = record.get("finite_differences")
    if fd and fd["autodiff_ok"] and not fd["hand_written_ok"]:
        text += f"; finite differences of the original side with autodiff (rel err {fd['autodiff_rel_err']:.1g})"
    return text


class FailureLog:
    """Collects failures, merging the same problem seen in several trials."""

    def __init__(self):
        self._order: list[tuple] = []
        self._msg: dict[tuple, str] = {}
        self._trials: dict[tuple, list[int]] = {}

    def add(self, key: tuple, trial: int | None, msg: str):
        if key not in self._msg:
            self._order.append(key)
            self._msg[key] = msg
            self._trials[key] = []
        if trial is not None and trial not in self._trials[key]:
            self._trials[key].append(trial)

    def __bool__(self):
        return bool(self._order)

    def messages(self) -> tuple[str, ...]:
        out = []
        for key in self._order:
            msg = self._msg[key]
            extra = self._trials[key][1:]
            if extra:
                msg += f" (also in trial{'s' if len(extra) > 1 else ''} {', '.join(map(str, extra))})"
            out.append(msg)
        return tuple(out)


def fmt_idx(idx) -> str:
    idx = tuple(int(i) for i in idx)
    return "()" if not idx else "(" + ", ".join(map(str, idx)) + ")"


def positions(mask: np.ndarray, limit: int = 3) -> list[tuple]:
    return [tuple(int(i) for i in ix) for ix in np.argwhere(mask)[:limit]]


def short_error(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()
    first = msg[0] if msg else ""
    if len(first) > 200:
        first = first[:200] + "..."
    return f"{type(exc).__name__}: {first}"

