"""Kept for `butler.config`, which still imports SourceMap from here: the scanner moved to `butler.sourcemap`,
below both config and policy. Remove this module once config imports `butler.sourcemap`."""

from butler.sourcemap import Position, SourceMap

__all__ = ["Position", "SourceMap"]
