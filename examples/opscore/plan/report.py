"""make plan's report: findings.md (a terminal, GitHub) and findings.html
(one self-contained page with inline SVG plots), both rendered with Jinja2
from the analysis's findings."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import jinja2

from . import analysis, plots
from . import scenarios as profiles

TEMPLATES = Path(__file__).resolve().parent / "templates"


def opt(value, missing: str = "n/a") -> str:
    if value is None:
        return missing
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def fixed(digits: int):
    def fmt(value: Optional[float]) -> str:
        return "n/a" if value is None else f"{value:.{digits}f}"
    return fmt


def verdicts(criteria: list) -> str:
    if not criteria:
        return "none in the plan"
    return ", ".join("PASS" if c.passed else "FAIL" for c in criteria)


def cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=autoescape,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters.update(opt=opt, n0=fixed(0), n1=fixed(1), n2=fixed(2), g=lambda v: f"{v:g}",
                       verdicts=verdicts, cell=cell, breaking=analysis.breaking_sentence)
    return env


def rules() -> dict:
    p = profiles.profiles()
    return {"knee_factor": analysis.KNEE_FACTOR, "knee_floor": analysis.KNEE_FLOOR_MS,
            "max_avg": p["max_avg_response_ms"], "max_err": 100 * p["max_error_rate"],
            "min_requests": p["min_window_requests"], "samples": analysis.SATURATION_SAMPLES,
            "saturation": 100 * analysis.SATURATION}


def write(findings: analysis.Findings, out: Path) -> None:
    critical = [analysis.endpoint_key(m, n) for m, n in profiles.profiles()["critical_endpoints"]]
    context = {"f": findings, "info": findings.info, "rules": rules(), "critical": critical}
    md = environment(False).get_template("findings.md.j2").render(**context)
    (out / "findings.md").write_text(md)
    context["scenario_plots"] = [(s, plots.scenario_plots(s)) for s in findings.scenarios]
    html = environment(True).get_template("findings.html.j2").render(**context)
    (out / "findings.html").write_text(html)
