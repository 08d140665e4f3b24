"""What any simulated site may serve: its front server's error page, and the sites' zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def nginx_error(code: int, reason: str) -> str:
    return (
        f"<html>\n<head><title>{code} {reason}</title></head>\n<body>\n"
        f"<center><h1>{code} {reason}</h1></center>\n<hr><center>nginx</center>\n"
        "</body>\n</html>\n"
    )
