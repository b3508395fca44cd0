"""``python -m simlab_cli ...`` is ``simlab ...``."""

import sys

from simlab_cli.main import main

sys.exit(main())
