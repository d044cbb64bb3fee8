"""`python -m ember train ...` runs the training command."""

import sys

from ember.cli import main

sys.exit(main())
