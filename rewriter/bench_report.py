"""What `rewriter bench` prints and writes: the table (rich on a terminal, plain text otherwise),
its notes and summary lines, the Markdown version, and the progress bar while it runs.
"""
from __future__ import annotations

import sys

DASH = "—"

HEADERS = ("program", "shape", "status", "first call ms",
           "orig ms", "rewr ms", "ref ms", "speedup", "overhead")
XLA_HEADERS = ("xla ms", "xla speedup")
"""Columns `rewriter bench --jit` adds: the rewrite under jit_compile=True, and orig / that."""


def _headers(rows) -> tuple:
    return HEADERS + (XLA_HEADERS if _timed_xla(rows) else ())


def _timed_xla(rows) -> bool:
    return any(r.xla_ms is not None or r.xla_error for r in rows)


def _ms(value) -> str:
    if value is None:
        return DASH
    return f"{value:.0f}" if value >= 100 else f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _ratio(value) -> str:
    return DASH if value is None else f"{value:.2f}×"


def _cells(row, xla: bool = False) -> list:
    status = "FAILED" if row.error else row.status + (" MISMATCH" if row.check.startswith("mismatch") else "")
    first = " / ".join(_ms(v) for v in (row.original_first_ms, row.rewritten_first_ms, row.reference_first_ms))
    cells = [row.name, row.shape, status, first, _ms(row.original_ms), _ms(row.rewritten_ms),
             _ms(row.reference_ms), _ratio(row.speedup), _ratio(row.overhead)]
    if xla:
        cells += ["no XLA" if row.xla_error else _ms(row.xla_ms), _ratio(row.xla_speedup)]
    return cells


def _notes(rows, skipped) -> list:
    notes = []
    for row in rows:
        if row.error:
            notes.append(f"{row.name}: failed: {row.error}")
        elif row.check.startswith("mismatch"):
            notes.append(f"{row.name}: rewritten output differs from the original: {row.check[10:]}")
        if row.xla_error:
            notes.append(f"{row.name}: under XLA: {_short(row.xla_error)}")
        if row.profile:
            notes.append(f"{row.name}: {_why_slow(row)}: {_short(row.profile, 400)}")
        if row.status != "converted" and row.reason:
            expected = "as expected" if row.status == row.expected else f"(expected {row.expected})"
            notes.append(f"{row.name}: {row.status} {expected}: {_short(row.reason)}")
    for item in skipped:
        notes.append(f"{item['name']}: skipped: {item['reason']}")
    return notes


def _why_slow(row) -> str:
    """`slower than the original on CPU (0.26×; under XLA 3.63×)` or `overhead 2.46×`."""
    if row.speedup is not None and row.speedup < 1.0:
        xla = f"; under XLA {_ratio(row.xla_speedup)}" if row.xla_speedup else ""
        return f"slower than the original ({_ratio(row.speedup)}{xla})"
    return f"overhead {_ratio(row.overhead)} against the reference"


def _short(text: str, limit: int = 200) -> str:
    """A reason cut for the table's notes (the JSON keeps it whole)."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _summary_lines(summary, machine) -> list:
    n = summary["geomean_over"]
    if summary["geomean_speedup"] is None:
        means = "no converted program to average"
    else:
        means = (f"geometric mean over {n} converted program{'s' * (n != 1)}: "
                 f"speedup {summary['geomean_speedup']:.2f}×, overhead {summary['geomean_overhead']:.2f}×")
    if summary.get("geomean_xla_speedup") is not None:
        means += (f"; under XLA speedup {summary['geomean_xla_speedup']:.2f}× "
                  f"({summary['xla_failed']} not compiled)")
    counts = (f"{summary['benchmarked']} benchmarked ({summary['converted']} converted, {summary['partial']} "
              f"partial, {summary['left']} left by the engine), {summary['skipped']} skipped, "
              f"{summary['seconds']:.0f} s")
    host = (f"machine: {machine['cpu']}, {machine['cores']} cores, TensorFlow {machine['tensorflow']}, "
            f"NumPy {machine['numpy']}, device {machine['device']}"
            + (f", load average {machine['load_average']:.1f} at start" if machine.get("load_average") else ""))
    return [means, counts, host]


def print_report(rows, skipped, summary, machine, out):
    legend = ("times in ms: first call (trace + run) of orig / rewr / ref, then medians of timed calls; "
              "speedup = orig / rewr, overhead = rewr / ref"
              + ("; xla = the rewrite under jit_compile=True, xla speedup = orig / xla" if _timed_xla(rows) else ""))
    headers, xla = _headers(rows), _timed_xla(rows)
    if _isatty(out):
        from rich import box
        from rich.console import Console
        from rich.table import Table

        body = [_cells(r, xla) for r in rows]
        widths = [max(len(str(c)) for c in column) for column in zip(headers, *body)]
        console = Console(file=out)
        needed = sum(widths) + 3 * len(widths) + 1
        if console.width < needed:   # never truncate numbers: let the terminal wrap instead
            console = Console(file=out, width=needed)
        table = Table(title="rewriter bench", caption=legend, box=box.SIMPLE_HEAD)
        for i, header in enumerate(headers):
            table.add_column(header, justify="left" if i < 3 else "right", no_wrap=True,
                             min_width=widths[i])
        for row, cells in zip(rows, body):
            style = "red" if row.error or row.check.startswith("mismatch") else (
                "dim" if row.status == "left" else None)
            table.add_row(*cells, style=style)
        console.print(table)
        for note in _notes(rows, skipped):
            console.print(note, style="dim", highlight=False, markup=False)
        for line in _summary_lines(summary, machine):
            console.print(line, highlight=False, markup=False)
        return
    lines = _plain_table(headers, [_cells(r, xla) for r in rows])
    print("\n".join(lines), file=out)
    print(legend, file=out)
    notes = _notes(rows, skipped)
    if notes:
        print("", file=out)
        print("\n".join(notes), file=out)
    print("", file=out)
    print("\n".join(_summary_lines(summary, machine)), file=out)


def _plain_table(headers, body) -> list:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *body)]

    def line(cells):
        return "  ".join(str(c).ljust(w) if i < 3 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return [line(headers), "  ".join("-" * w for w in widths)] + [line(cells) for cells in body]


def to_markdown(rows, skipped, summary, machine) -> str:
    headers, xla = _headers(rows), _timed_xla(rows)
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join("---" if i < 3 else "---:" for i in range(len(headers))) + "|"]
    for row in rows:
        cells = _cells(row, xla)
        lines.append("| " + " | ".join([f"`{cells[0]}`", *cells[1:]]) + " |")
    lines.append("")
    lines.append("Times in milliseconds: the first call traces and runs; the others are medians of "
                 "timed calls after a warm-up. speedup = original / rewritten, overhead = rewritten / "
                 "reference (hand-written TF).")
    notes = _notes(rows, skipped)
    if notes:
        lines.append("")
        lines.extend(f"* {_md_escape(note)}" for note in notes)
    lines.append("")
    lines.extend(f"{line}  " for line in _summary_lines(summary, machine))
    return "\n".join(lines).rstrip() + "\n"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Progress:
    """A rich progress bar on stderr while benchmarking (a no-op when not wanted or not a TTY).
    Used as a context manager yielding `advance(name)`: each call completes the previous step."""

    def __init__(self, enabled: bool, total: int):
        self.enabled = enabled and _isatty(sys.stderr) and total > 0
        self.total = total
        self.bar = self.task = None
        self.started = False

    def __enter__(self):
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                                MofNCompleteColumn(), TimeElapsedColumn(),
                                console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("bench", total=self.total)
        return self.advance

    def advance(self, name):
        if self.bar is None:
            return
        if self.started:
            self.bar.advance(self.task)
        self.started = True
        if name is not None:
            self.bar.update(self.task, description=name)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False
