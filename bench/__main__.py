"""Run every benchmark and print a table: figure, target, measured (p50 and p99), pass/short.

python -m bench            # the full run (a few minutes)
python -m bench --quick    # fewer samples: proves the benchmarks work, judges nothing
python -m bench --only tui # one group: engine, guard, storage, tui, startup, understanding
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import engine, guard, startup, storage, tui, understanding
from bench.common import Result, percentile_text

GROUPS = {
    "engine": [engine.overhead, engine.ttft, engine.prompt_tokens, engine.offline_reply, engine.grading_requests],
    "guard": [guard.guard_time],
    "storage": [storage.storage],
    "tui": [tui.streaming, tui.startup_and_memory],
    "startup": [startup.startup],
    "understanding": [
        understanding.understanding,
        understanding.stages,
        understanding.grading_spread,
        understanding.latency,
    ],
}


def table(results: list[Result]) -> str:
    rows = [("figure", "target", "p50", "p99", "unit", "")]
    for r in results:
        rows.append((r.figure, r.target_text(), percentile_text(r.p50), percentile_text(r.p99), r.unit, r.status))
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    lines = []
    for index, row in enumerate(rows):
        lines.append(
            "  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row))
        )
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = [f"  * {r.figure}: {r.note}" for r in results if r.note]
    return "\n".join(lines + (["", *notes] if notes else []))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few samples; for CI, which never judges time")
    parser.add_argument("--only", choices=sorted(GROUPS), action="append", help="run only these groups")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    results: list[Result] = []
    for name in args.only or list(GROUPS):
        for bench in GROUPS[name]:
            started = time.perf_counter()
            results += bench(args.quick)
            print(f"[{name}] {bench.__name__} done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    print(table(results))
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                [
                    {
                        "figure": r.figure,
                        "unit": r.unit,
                        "p50": r.p50,
                        "p99": r.p99,
                        "target": r.target_text(),
                        "status": r.status,
                        "samples": len(r.samples),
                        "note": r.note,
                    }
                    for r in results
                ],
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
