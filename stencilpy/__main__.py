"""``python -m stencilpy`` is the ``stencilpy`` command."""

import sys

from stencilpy.cli import main

sys.exit(main())
