"""The Chromium the browser tests drive: where it is, and how `make browser` gets one.

`python -m tests.browser` (run by `make test` and `.ci/run`) makes sure one is there, saying what it
does: the distribution's `chromium` if present, else Playwright's own if already downloaded, else
`apt-get install chromium` when running as root with apt-get, else Playwright's download. When none
can be had it prints a warning and exits 0, and the browser tests are then skipped with the reason;
with REQUIRE_BROWSER=1 (CI) it exits 1 and those tests fail instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from playwright.sync_api import Browser, Error, Playwright, sync_playwright

ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-proxy-server",  # loopback only
]
MAKE_BROWSER = "`make browser` gets one (apt-get as root, else Playwright's download)"


def required() -> bool:
    """CI sets REQUIRE_BROWSER=1: there, no browser is a failure, not a skip."""
    return os.environ.get("REQUIRE_BROWSER", "") not in ("", "0")


class NoBrowser(Exception):
    """No usable Chromium; the message says why."""


def find(playwright: Playwright) -> str | None:
    """The distribution's chromium on PATH first, else Playwright's own if it was downloaded."""
    system = shutil.which("chromium")
    if system:
        return system
    bundled = playwright.chromium.executable_path
    return bundled if os.path.isfile(bundled) else None


def start(playwright: Playwright) -> Browser:
    executable = find(playwright)
    if executable is None:
        raise NoBrowser("no Chromium: neither `chromium` on PATH nor Playwright's own browser")
    try:
        return playwright.chromium.launch(executable_path=executable, headless=True, args=ARGS)
    except Error as error:
        raise NoBrowser(f"Chromium at {executable} does not start: {str(error).splitlines()[0]}") from error


def check() -> str:
    """What is wrong, or "" when a Chromium is there and starts (then says which)."""
    with sync_playwright() as playwright:
        try:
            start(playwright).close()
        except NoBrowser as error:
            return str(error)
        print(f"Browser tests: Chromium at {find(playwright)}")
    return ""


def run(command: list[str], *, quiet: bool = False) -> bool:
    """Run a command; a quiet one shows its output only if it fails."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(command, env=env, capture_output=quiet, text=True, check=False)
    if quiet and done.returncode:
        print(done.stdout + done.stderr, file=sys.stderr)
    return done.returncode == 0


def apt_get_chromium() -> bool:
    print("Installing Chromium for the browser tests with apt-get (once, about a minute)...", flush=True)
    return run(["apt-get", "update", "-qq"], quiet=True) and run(
        ["apt-get", "install", "-y", "-qq", "chromium"], quiet=True
    )


def download_chromium() -> bool:
    print("Downloading Playwright's Chromium for the browser tests (once)...", flush=True)
    return run([sys.executable, "-m", "playwright", "install", "chromium"])


def main() -> int:
    problem = check()
    steps = {"python -m playwright install chromium": download_chromium}
    if os.geteuid() == 0 and shutil.which("apt-get"):
        steps = {"apt-get install chromium": apt_get_chromium, **steps}
    for step in steps.values():
        if problem and step():
            problem = check()
    if not problem:
        return 0
    outcome = "FAIL (REQUIRE_BROWSER is set)" if required() else "be SKIPPED"
    bar = "!" * 100
    print(
        f"{bar}\nWARNING: the browser tests (tests/e2e/test_demo_browser.py) will {outcome}: {problem}.\n"
        f"Tried: {', then '.join(steps)} (output above). Install chromium, or let Playwright download\n"
        f"its browser, then run `make browser` again.\n{bar}",
        file=sys.stderr,
    )
    return 1 if required() else 0


if __name__ == "__main__":
    sys.exit(main())
