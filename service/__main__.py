"""``python -m service``: the ``policyqa`` command, for environments where its script is not on PATH."""

from service.cli import main

raise SystemExit(main())
