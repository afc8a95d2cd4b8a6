"""The FastAPI service. Installed as ``graphrec.api``."""
