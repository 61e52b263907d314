"""make plan's plots, as inline SVG text (matplotlib, no files): users and
RPS over time, percentiles per endpoint over time, CPU and memory of Ops-Core
and Redis over time, and p95 against users with the knee and the breaking
point marked."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

from .analysis import ScenarioFindings  # noqa: E402

plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "axes.grid": True, "grid.alpha": 0.3,
                     "svg.hashsalt": "plan"})
WIDTH = 8.0


def svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def seconds(points, t0):
    return [p - t0 for p in points]


def users_and_rps(s: ScenarioFindings) -> str:
    fig, ax = plt.subplots(figsize=(WIDTH, 2.8))
    h = s.history
    t0 = h[0]["t"] if h else 0
    x = seconds([p["t"] for p in h], t0)
    lines = ax.plot(x, [p["users"] for p in h], color="tab:blue", label="users")
    ax.set_xlabel("seconds")
    ax.set_ylabel("users", color="tab:blue")
    ax2 = ax.twinx()
    lines += ax2.plot(x, [p["rps"] for p in h], color="tab:green", label="requests/s")
    lines += ax2.plot(x, [p["fps"] for p in h], color="tab:red", label="failures/s")
    ax2.set_ylabel("per second")
    ax2.legend(lines, [line.get_label() for line in lines], loc="upper left", fontsize=8)
    ax.set_title(f"Scenario {s.number}: users and RPS")
    return svg(fig)


def percentiles(s: ScenarioFindings) -> str:
    names = sorted(s.endpoint_history)
    fig, axes = plt.subplots(max(1, len(names)), 1, figsize=(WIDTH, 1.9 * max(1, len(names))), sharex=True,
                             squeeze=False)
    t0 = s.history[0]["t"] if s.history else 0
    for ax, name in zip(axes[:, 0], names):
        rows = s.endpoint_history[name]
        x = seconds([r[0] for r in rows], t0)
        for i, label in ((1, "p50"), (2, "p95"), (3, "p99")):
            ax.plot(x, [r[i] if r[i] is not None else float("nan") for r in rows], label=label)
        ax.set_title(name, fontsize=9)
        ax.set_ylabel("ms")
        ax.legend(loc="upper left", fontsize=7)
    axes[-1, 0].set_xlabel("seconds")
    return svg(fig)


def resources(s: ScenarioFindings) -> str:
    fig, (cpu, mem) = plt.subplots(2, 1, figsize=(WIDTH, 3.8), sharex=True)
    t0 = s.history[0]["t"] if s.history else 0
    for name, color in (("opscore", "tab:blue"), ("redis", "tab:orange")):
        rows = s.resource_series.get(name, [])
        x = seconds([r[0] for r in rows], t0)
        cpu.plot(x, [r[1] if r[1] is not None else float("nan") for r in rows], color=color, label=f"{name} CPU")
        if any(r[2] is not None for r in rows):
            cpu.plot(x, [r[2] if r[2] is not None else float("nan") for r in rows], color=color, linestyle="--",
                     linewidth=0.9, label=f"{name} CPU+wait")
        mem.plot(x, [r[3] for r in rows], color=color, label=name)
    cpu.set_ylabel("CPU % (100 = 1 core)")
    cpu.axhline(100, color="grey", linewidth=0.8, linestyle=":")
    cpu.legend(loc="upper left", fontsize=8)
    cpu.set_title(f"Scenario {s.number}: Ops-Core and Redis")
    mem.set_ylabel("memory MiB")
    mem.set_xlabel("seconds")
    return svg(fig)


def p95_against_users(s: ScenarioFindings) -> str:
    fig, ax = plt.subplots(figsize=(WIDTH, 2.8))
    points = s.knee.points if s.knee else []
    label = f"p95 of {s.knee.endpoint}" if s.knee else "p95"
    ax.plot([p[0] for p in points], [p[1] for p in points], marker=".", color="tab:purple", label=label)
    if s.knee and s.knee.users:
        ax.axvline(s.knee.users, color="tab:orange", linestyle="--", label=f"knee: {s.knee.users} users")
    if s.breaking and s.breaking.found:
        ax.axvline(s.breaking.level.users, color="tab:red", linestyle="-",
                   label=f"breaking point: {s.breaking.level.users} users")
    ax.set_xlabel("users")
    ax.set_ylabel("p95 ms")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(f"Scenario {s.number}: p95 against users")
    return svg(fig)


def scenario_plots(s: ScenarioFindings) -> list[tuple[str, str]]:
    """(title, svg) pairs for one scenario."""
    return [("Users and RPS over time", users_and_rps(s)),
            ("Percentiles per endpoint over time", percentiles(s)),
            ("CPU and memory of Ops-Core and Redis over time", resources(s)),
            ("p95 against users", p95_against_users(s))]
