"""CLI commands, one module per command group; each exposes `add_parser(subparsers)`."""
