"""``python -m spikeport.cli``."""

import sys

from spikeport.cli import main

sys.exit(main())
