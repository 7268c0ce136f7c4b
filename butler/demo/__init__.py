"""`butler demo`: the whole butler on an embedded default, in a throwaway home that is removed afterwards."""

from butler.demo.run import run_demo

__all__ = ["run_demo"]
