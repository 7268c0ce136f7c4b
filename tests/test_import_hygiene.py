"""What runs for a user must not need the test extras (pytest, hypothesis, pykeepass): the README's first
command installs butler without them."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.slow
def test_the_demo_runs_without_the_test_extras(tmp_path: object) -> None:
    code = (
        "import sys\n"
        "class NoTestTools:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('pytest', '_pytest', 'hypothesis', 'pykeepass'):\n"
        "            raise ImportError(name + ' is a test extra')\n"
        "sys.meta_path.insert(0, NoTestTools())\n"
        "import butler.cli, butler.demo.run, butler.loopback, butler.sdk, butler.registry\n"
        "import butler.negotiate.session, butler.daemon.jobs, butler.tui.app, butler.mail.unattended\n"
        "butler.cli.build_parser()\n"
        "sys.exit(butler.cli.main(['demo', '--no-tui']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "audit entries:" in proc.stdout
