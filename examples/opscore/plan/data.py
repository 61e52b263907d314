"""Reading a make plan run folder: the Locust CSV files of each scenario,
resources.csv, run.json and the per-scenario log summaries. Only parsing
here; the analysis is in analysis.py."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional


def number(text) -> Optional[float]:
    """A CSV cell as a float; None for "", "N/A" and the like."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def read_csv(path: Path) -> list[dict]:
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    except OSError:
        return []


@dataclass
class ScenarioData:
    number: int
    run: dict  # runner.ScenarioRun as saved in run.json
    stats: list = field(default_factory=list)  # rows of <prefix>_stats.csv
    history: list = field(default_factory=list)  # rows of <prefix>_stats_history.csv
    failures: list = field(default_factory=list)  # rows of <prefix>_failures.csv
    resources: list = field(default_factory=list)  # rows of resources.csv for this scenario
    log: Optional[dict] = None  # logs.LogSummary as saved
    master_log: str = ""


@dataclass
class RunData:
    folder: Path
    info: dict
    scenarios: list  # ScenarioData, in run order
    resources: list  # every row of resources.csv


def load(folder: Path) -> RunData:
    folder = Path(folder)
    info = json.loads((folder / "run.json").read_text())
    resources = read_csv(folder / "resources.csv")
    scenarios = []
    for run in info.get("scenarios", []):
        n = run["number"]
        prefix = folder / run["prefix"]
        log_path = folder / f"scenario{n}-log.json"
        master_log = folder / run["master_log"]
        scenarios.append(ScenarioData(
            number=n, run=run,
            stats=read_csv(Path(f"{prefix}_stats.csv")),
            history=read_csv(Path(f"{prefix}_stats_history.csv")),
            failures=read_csv(Path(f"{prefix}_failures.csv")),
            resources=[r for r in resources if r["scenario"] == str(n)],
            log=json.loads(log_path.read_text()) if log_path.exists() else None,
            master_log=master_log.read_text(errors="replace") if master_log.exists() else "",
        ))
    return RunData(folder, info, scenarios, resources)
