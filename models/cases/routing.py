"""Where a memo goes: a window when it is plainly one domain, else the coordinator."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from models.cases.concerns import domains_of, has_complex
from models.org.tables import Domain

UNKNOWN_DESTINATION = "unknown"  # the referrer chose わからない


class RouteReason(StrEnum):
    named_window = "named_window"
    single_domain = "single_domain"
    multiple_domains = "multiple_domains"
    complex_concern = "complex_concern"
    referrer_unsure = "referrer_unsure"
    no_domain = "no_domain"


@dataclass(frozen=True)
class Route:
    to_coordinator: bool
    reason: RouteReason
    window_key: str | None = None  # the agency key when routed to a window


def route(
    *,
    concerns: list[str],
    destination: str | None,
    windows_by_domain: dict[Domain, list[str]],
) -> Route:
    """Decide the routing.

    `destination` is a window's agency key, UNKNOWN_DESTINATION, or None (left empty: let the
    concerns decide). `windows_by_domain` lists active window keys per domain, front door first.
    """
    domains = domains_of(concerns)
    if len(domains) >= 2:
        return Route(True, RouteReason.multiple_domains)
    if has_complex(concerns):
        return Route(True, RouteReason.complex_concern)
    if destination == UNKNOWN_DESTINATION:
        return Route(True, RouteReason.referrer_unsure)
    named = {key for keys in windows_by_domain.values() for key in keys}
    if destination and destination in named:
        return Route(False, RouteReason.named_window, destination)
    if len(domains) == 1 and windows_by_domain.get(domains[0]):
        return Route(False, RouteReason.single_domain, windows_by_domain[domains[0]][0])
    return Route(True, RouteReason.no_domain)
