"""How tests run the ``policyqa`` command: through this interpreter, whether or not a venv is on PATH."""

import sys

POLICYQA = (sys.executable, "-m", "service")
