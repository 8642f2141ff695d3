"""``python -m wix_refunds``: the wix-refunds command."""

import sys

from .cli import main

sys.exit(main())
