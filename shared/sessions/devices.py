"""User-agent strings parsed into browser / OS / device, with the maintained ua-parser rules."""

from __future__ import annotations

import functools
from dataclasses import dataclass


@dataclass(frozen=True)
class Device:
    browser: str
    os: str
    device: str


@functools.lru_cache(maxsize=256)
def describe_device(user_agent: str) -> Device:
    if not user_agent:
        return Device("Unknown", "Unknown", "Unknown")
    from ua_parser import parse  # imported on first use: only the sessions function pays for it

    result = parse(user_agent[:512])
    browser = result.user_agent.family if result.user_agent else "Other"
    os_name = result.os.family if result.os else "Other"
    device = result.device.family if result.device else "Other"
    return Device(browser, os_name, device)
