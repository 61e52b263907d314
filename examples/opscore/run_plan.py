#!/usr/bin/env python3
"""Run the Ops-Core load-testing plan end to end (make plan).

    .venv/bin/python examples/opscore/run_plan.py --scenarios 0,3 --time-scale 0.05

Runs the chosen scenarios (default 0-4) against the stand-in, which it starts
with Redis, or against OPSCORE_URL; monitors Ops-Core, Redis, the service's
log and the load generators; analyses the results and writes a run folder
with each scenario's Locust CSV files and HTML report, resources.csv,
findings.md and findings.html. The last line printed names the folder.
--help lists the options; the code is in plan/ (options, runner, monitor and
its sources, logs, analysis, report).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from plan.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
