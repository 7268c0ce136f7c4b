"""`python -m butler.daemon [ACTION]`: the same as `butler daemon [ACTION]` (what the service files run)."""

import sys

from butler import cli

# only the daemon's own commands: a feature that fails to import must not keep the daemon from starting
cli.COMMAND_MODULES[:] = ["butler.daemon.commands"]
raise SystemExit(cli.main(["daemon", *sys.argv[1:]]))
