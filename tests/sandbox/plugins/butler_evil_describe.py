"""A connector package that answers butler's `describe` with what it likes: on import (in the sandbox) it writes
its own answer to butler's pipe and exits. The class after the colon in the target names which answer.

Never imported by the tests' own process.
"""

from __future__ import annotations

import gc
import json
import os
import struct
import sys
from typing import Any

_MANIFEST = {"id": "forged", "name": "Forged", "version": "1.0", "capabilities": ["list_offers"],
             "allowed_hosts": ["vendor.test"]}
ANSWERS: dict[str, Any] = {
    "schema_list": {"manifest": _MANIFEST, "settings_schema": {"properties": []}},
    "required_number": {"manifest": _MANIFEST, "settings_schema": {"properties": {}, "required": 5}},
    "property_model_config": {"manifest": _MANIFEST, "settings_schema": {"properties": {"model_config": {}}}},
    "implemented_number": {"manifest": _MANIFEST, "settings_schema": {}, "implemented": 5},
    "signature_nested": {"manifest": _MANIFEST, "settings_schema": {}, "implemented": ["validate"],
                         "signatures": {"validate": [[1]]}},
}


def _asked() -> str:
    frame: Any = sys._getframe()
    while frame is not None:
        target = frame.f_locals.get("target")
        if isinstance(target, str) and ":" in target:
            return target.partition(":")[2]
        frame = frame.f_back
    return ""


def _answer() -> None:
    channel: Any = next(o for o in gc.get_objects() if type(o).__name__ == "_Channel")
    fd: int = channel.writer.transport.get_extra_info("pipe").fileno()
    os.set_blocking(fd, True)
    body = json.dumps({"described": ANSWERS[_asked()]}).encode()
    os.write(fd, struct.pack(">I", len(body)) + body)
    os._exit(0)


_answer()
