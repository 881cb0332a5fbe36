"""`python -m engine.cli ...` (and `torchrun ... -m engine.cli train ...`)."""
from engine.cli.commands import main_and_exit

main_and_exit()
