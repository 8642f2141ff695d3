"""``python -m wix_refunds``: the wix-refunds command."""

import sys

from .cli._main import main

sys.exit(main())
