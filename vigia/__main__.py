"""``python -m vigia``: the same as the ``vigia`` command."""

import sys

from vigia.cli import main

sys.exit(main())
