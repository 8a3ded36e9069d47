"""What a session's User-Agent says in words: "Firefox 128 on Windows 10", read by
ua-parser with the rules bundled in ua-parser-builtins (nothing is fetched at run time).
A header no rule knows is shown as it came, cut short."""

from __future__ import annotations

from functools import lru_cache

from ua_parser import BasicResolver, Parser, load_lazy_builtins

# Rules compiled as a header reaches them, not all up front: the first sessions page a
# process serves waits about 0.25 s instead of 0.5 s (measured on the dev machine), and
# no process start pays for a page most never serve. Headers repeat: lru_cache below.
_parser = Parser(BasicResolver(load_lazy_builtins()))
UNKNOWN = "Other"
# A raw header shown when no rule knows it: long enough to tell two apart.
RAW_CHARS = 60


@lru_cache(maxsize=512)
def describe(user_agent: str) -> str:
    """The browser and the system a User-Agent header names, in a few words."""
    user_agent = user_agent.strip()
    if not user_agent:
        return "Unknown browser"
    result = _parser.parse(user_agent)
    browser = _named(result.user_agent)
    system = _named(result.os)
    device = result.device
    if device and device.family not in (UNKNOWN, "Generic Smartphone", "Spider"):
        # A phone's or tablet's model says more than "Android" alone.
        model = " ".join(part for part in (device.brand, device.model) if part)
        system = f"{system} ({model or device.family})" if system else model or device.family
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or system
    return user_agent if len(user_agent) <= RAW_CHARS else user_agent[: RAW_CHARS - 1] + "…"


def _named(part) -> str:
    """ "Chrome 120", "iOS 17.1", or "" when the rules did not know it."""
    if part is None or part.family == UNKNOWN:
        return ""
    version = ".".join(v for v in (part.major, part.minor) if v and v != "0")
    return f"{part.family} {version}".strip()
