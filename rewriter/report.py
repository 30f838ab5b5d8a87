"""Stage 7 — report: one record per site and per file, rendered as text, JSON or Markdown.

Records are plain data (dicts of str/int/float) so they cross process boundaries and land in
JSON as they are. The JSON schema is documented in the README ("Reports").
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field

SCHEMA_VERSION = 1


@dataclass
class SiteRecord:
    line: int
    col: int
    kind: str            # numpy_function | py_function | py_func
    status: str          # converted | left | error
    code: str = ""       # rule code of the reason when not converted
    reason: str = ""
    patterns: list = field(default_factory=list)
    rules: list = field(default_factory=list)
    assumed: str = ""
    verification: dict | None = None
    cell: int | None = None  # notebooks: the 1-based cell the line is in
    notes: list = field(default_factory=list)  # converted sites: loops kept as loops, and why
    custom_gradient: dict | None = None  # the site is the forward of a @tf.custom_gradient function


@dataclass
class FileRecord:
    path: str
    status: str          # changed | unchanged | error
    error: str = ""
    sites: list = field(default_factory=list)


def site_records(result, registry) -> list:
    records = []
    for conversion in result.conversions:
        rules = [registry.get(p).code for p in conversion.patterns if registry.get(p) is not None]
        records.append(SiteRecord(conversion.line or conversion.site.line, conversion.col or conversion.site.col,
                                  conversion.site.kind, conversion.status, conversion.code, conversion.reason,
                                  list(conversion.patterns), rules, conversion.assumed,
                                  conversion.verification, getattr(conversion, "cell", None),
                                  list(conversion.notes), _custom_gradient(conversion)))
    return records


def _custom_gradient(conversion) -> dict | None:
    """The custom-gradient record of a site: what --verify found, or why nothing was checked."""
    found = conversion.site.custom_gradient
    if found is None:
        return None
    if conversion.status != "converted":  # even when --verify checked it before the site was left
        return dict(found.describe(), verdict="not checked", reason="the forward stays NumPy")
    checked = (conversion.verification or {}).get("custom_gradient")
    return checked or dict(found.describe(), verdict="not checked", reason="run `rewriter fix --verify`")


@dataclass
class Summary:
    files: int = 0
    changed: int = 0
    errors: int = 0
    sites: int = 0
    converted: int = 0
    left: int = 0
    reasons: Counter = field(default_factory=Counter)
    custom_gradients: Counter = field(default_factory=Counter)  # verdict -> hand-written gradients

    def add(self, record: FileRecord):
        self.files += 1
        self.changed += record.status == "changed"
        self.errors += record.status == "error"
        for site in record.sites:
            self.sites += 1
            if site.custom_gradient:
                self.custom_gradients[site.custom_gradient["verdict"]] += 1
            if site.status == "converted":
                self.converted += 1
            else:
                self.left += 1
                self.reasons[f"{site.code} {site.reason}"] += 1


def render_site(path: str, site: SiteRecord) -> str:
    if site.cell is not None:
        path = f"{path}:cell {site.cell}"
    if site.status == "converted":
        figures = ""
        if site.verification and "method" in site.verification:
            figures = f"; {site.verification['method']}"
        elif site.verification:
            v = site.verification
            device = str(v.get("device", "?")).rsplit("device:", 1)[-1]
            figures = (f"; verified on {device}: max rel err {_num(v.get('max_rel_err'))}, "
                       f"grad err {_num(v.get('grad_err'))}, {v.get('trials')} trials")
        notes = "".join(f"\n    {note}" for note in site.notes + custom_gradient_lines(site))
        return f"{path}:{site.line}:{site.col}: converted {site.kind} ({site.assumed}{figures}){notes}"
    return f"{path}:{site.line}:{site.col}: {site.code} left {site.kind}: {site.reason}"


def custom_gradient_lines(site: SiteRecord) -> list:
    """The site's custom-gradient finding, as printed under it."""
    if not site.custom_gradient:
        return []
    from .verify_result import describe_custom_gradient

    return [describe_custom_gradient(site.custom_gradient)]


def is_gradient_finding(site: SiteRecord) -> bool:
    """A hand-written gradient that disagrees with autodiff of the rewrite or fails to run:
    printed even without -v."""
    return bool(site.custom_gradient) and site.custom_gradient["verdict"] in ("disagree", "fails to run")


def _num(value) -> str:
    return "n/a" if value is None else f"{value:.2g}"


def render_summary(summary: Summary, top: int = 5, wrote: bool = True) -> list:
    """The closing lines of a run; `wrote=False` (--diff, --check) says what would change."""
    changed = f"{summary.changed} changed" if wrote else f"{summary.changed} would change"
    lines = [f"{summary.files} file{'s' * (summary.files != 1)} scanned, {changed}, "
             f"{summary.sites} site{'s' * (summary.sites != 1)} found: {summary.converted} converted, "
             f"{summary.left} left, {summary.errors} error{'s' * (summary.errors != 1)}"]
    if summary.reasons:
        shown = min(top, len(summary.reasons))
        lines.append("reasons sites were left:" if shown == len(summary.reasons)
                     else f"top {shown} of {len(summary.reasons)} reasons sites were left (--report lists all):")
        for reason, count in summary.reasons.most_common(top):
            lines.append(f"  {count:4d}  {reason}")
    if set(summary.custom_gradients) == {"not checked"}:  # without --verify: say what would check them
        count = summary.custom_gradients["not checked"]
        lines.append(f"{count} hand-written @tf.custom_gradient gradient{'s' * (count != 1)} not checked: "
                     "`rewriter fix --verify` compares them with autodiff of the rewrite")
    elif summary.custom_gradients:
        counts = ", ".join(f"{count} {verdict}" for verdict, count in sorted(summary.custom_gradients.items()))
        lines.append(f"hand-written @tf.custom_gradient gradients against autodiff of the rewrite: {counts}")
    return lines


def to_json(records: list, summary: Summary) -> str:
    return json.dumps({
        "schema": SCHEMA_VERSION,
        "summary": {k: v for k, v in asdict(summary).items() if k not in ("reasons", "custom_gradients")}
        | {"custom_gradients": dict(summary.custom_gradients)}
        | {"top_reasons": summary.reasons.most_common(10)},
        "files": [asdict(r) for r in records],
    }, indent=2)


def to_markdown(records: list, summary: Summary) -> str:
    lines = ["## rewriter report", "",
             f"**{summary.converted}** of **{summary.sites}** sites converted in **{summary.changed}** of "
             f"**{summary.files}** files; {summary.errors} file errors.", ""]
    converted = [(r.path, s) for r in records for s in r.sites if s.status == "converted"]
    left = [(r.path, s) for r in records for s in r.sites if s.status != "converted"]
    if converted:
        lines += ["### Converted", "", "| location | kind | patterns | inputs | loops kept |", "|---|---|---|---|---|"]
        lines += [f"| `{p}:{s.line}` | {s.kind} | {', '.join(s.patterns) or '—'} | {s.assumed} | "
                  f"{'<br>'.join(n.replace('|', '/') for n in s.notes) or '—'} |" for p, s in converted]
        lines.append("")
    if left:
        lines += ["### Left unchanged", "", "| location | kind | code | reason |", "|---|---|---|---|"]
        lines += [f"| `{p}:{s.line}` | {s.kind} | {s.code} | {s.reason.replace('|', '/')} |" for p, s in left]
        lines.append("")
    gradients = [(r.path, s) for r in records for s in r.sites if s.custom_gradient]
    if gradients:
        lines += ["### Hand-written gradients (@tf.custom_gradient)", "", "| location | verdict |", "|---|---|"]
        lines += [f"| `{p}:{s.line}` | {custom_gradient_lines(s)[0].replace('|', '/')} |" for p, s in gradients]
        lines.append("")
    errors = [r for r in records if r.status == "error"]
    if errors:
        lines += ["### Files with errors", ""] + [f"- `{r.path}`: {r.error}" for r in errors] + [""]
    return "\n".join(lines)
