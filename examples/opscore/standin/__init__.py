"""Stand-in Ops-Core service (FastAPI + Redis) for running and checking the
Ops-Core scenario pack without the real service. See opscore_standin.py."""
