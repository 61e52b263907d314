"""make plan: the Ops-Core load-testing plan's scenarios, monitoring,
analysis and findings report (examples/opscore/run_plan.py runs it)."""
