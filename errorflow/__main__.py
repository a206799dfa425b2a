"""``python -m errorflow``: the same as the ``errorflow`` command."""

import sys

from errorflow.cli import main

sys.exit(main())
