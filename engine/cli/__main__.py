"""`python -m engine.cli ...` (and `torchrun ... -m engine.cli train ...`)."""
import sys

from engine.cli.commands import main

sys.exit(main())
