"""Privacy tests use the gateway test kit (fake upstream, gateway on loopback) and ``casekit``."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent / "cases"
for p in (HERE, HERE.parent / "gateway"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))
