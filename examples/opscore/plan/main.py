"""make plan's entry point: parse the options, run (or reuse) a run folder,
analyse it and write the findings; the last line printed names the folder."""

from __future__ import annotations

import time
from pathlib import Path

from . import analysis, options, report
from .runner import ROOT, Plan, log


def main(argv: list[str]) -> int:
    opts = options.parse(argv)
    if opts.report_only:
        out = Path(opts.report_only)
        if not (out / "run.json").exists():
            log(f"{out} is not a run folder (no run.json)")
            return 2
    else:
        out = Path(opts.out) if opts.out else ROOT / "results" / f"plan-{time.strftime('%Y%m%d-%H%M%S')}"
        out.mkdir(parents=True, exist_ok=True)
        plan = Plan(opts, out)
        try:
            plan.run()
        except KeyboardInterrupt:
            log("interrupted; reporting what was measured")
    findings = analysis.analyse(out)
    report.write(findings, out)
    for line in findings.headlines():
        log(line)
    log(f"results in {out}")
    return 0
