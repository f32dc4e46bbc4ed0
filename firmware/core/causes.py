"""Release causes, named and numbered as ITU-T Q.850 names them, with the SIP mapping.

Every leg, whatever its technology, ends with one of these; the adapters translate at
their edge (RFC 3398 for SIP, tones for an analog line).
"""

from __future__ import annotations

import enum


class Cause(enum.IntEnum):
    UNALLOCATED_NUMBER = 1
    NORMAL_CLEARING = 16
    USER_BUSY = 17
    NO_USER_RESPONDING = 18
    NO_ANSWER = 19
    CALL_REJECTED = 21
    # Another phone of the group answered (Q.850 26): the others stop ringing.
    NON_SELECTED_USER_CLEARING = 26
    INVALID_NUMBER_FORMAT = 28
    NORMAL_UNSPECIFIED = 31
    NO_CIRCUIT_AVAILABLE = 34
    NETWORK_OUT_OF_ORDER = 38
    TEMPORARY_FAILURE = 41
    SWITCHING_EQUIPMENT_CONGESTION = 42
    # Q.931 (1988) "outgoing calls barred", kept by Asterisk and PBXs for call barring: the
    # box's own refusal of a call its caller may not make (firmware/pbx/tollguard.py).
    OUTGOING_CALL_BARRED = 52
    BEARER_NOT_AVAILABLE = 58
    RECOVERY_ON_TIMER_EXPIRY = 102
    INTERWORKING = 127


# RFC 3398 section 7.2.4.1 (ISUP cause -> SIP response), for the causes we originate.
_CAUSE_TO_SIP: dict[Cause, int] = {
    Cause.UNALLOCATED_NUMBER: 404,
    Cause.USER_BUSY: 486,
    Cause.NO_USER_RESPONDING: 408,
    Cause.NO_ANSWER: 480,
    Cause.CALL_REJECTED: 403,
    Cause.INVALID_NUMBER_FORMAT: 484,
    Cause.NO_CIRCUIT_AVAILABLE: 503,
    Cause.NETWORK_OUT_OF_ORDER: 502,
    Cause.TEMPORARY_FAILURE: 503,
    Cause.SWITCHING_EQUIPMENT_CONGESTION: 503,
    # RFC 3398 maps the barring causes it lists (55, 57) to 403; 52 follows them.
    Cause.OUTGOING_CALL_BARRED: 403,
    Cause.BEARER_NOT_AVAILABLE: 488,
    Cause.RECOVERY_ON_TIMER_EXPIRY: 504,
}

# RFC 3398 section 8.2.6.1 (SIP response -> ISUP cause), for the responses we receive.
_SIP_TO_CAUSE: dict[int, Cause] = {
    400: Cause.TEMPORARY_FAILURE,
    401: Cause.CALL_REJECTED,
    403: Cause.CALL_REJECTED,
    404: Cause.UNALLOCATED_NUMBER,
    407: Cause.CALL_REJECTED,
    408: Cause.RECOVERY_ON_TIMER_EXPIRY,
    410: Cause.UNALLOCATED_NUMBER,
    480: Cause.NO_USER_RESPONDING,
    484: Cause.INVALID_NUMBER_FORMAT,
    486: Cause.USER_BUSY,
    487: Cause.NORMAL_CLEARING,
    488: Cause.BEARER_NOT_AVAILABLE,
    500: Cause.TEMPORARY_FAILURE,
    502: Cause.NETWORK_OUT_OF_ORDER,
    503: Cause.NO_CIRCUIT_AVAILABLE,
    504: Cause.RECOVERY_ON_TIMER_EXPIRY,
    600: Cause.USER_BUSY,
    603: Cause.CALL_REJECTED,
    604: Cause.UNALLOCATED_NUMBER,
}


def cause_to_sip(cause: Cause) -> int:
    """The SIP final response that reports ``cause`` to a caller (500 when unmapped)."""
    return _CAUSE_TO_SIP.get(cause, 500)


def sip_to_cause(status: int) -> Cause:
    """The Q.850 cause for a SIP final response; 2xx is normal clearing."""
    if 200 <= status < 300:
        return Cause.NORMAL_CLEARING
    if status in _SIP_TO_CAUSE:
        return _SIP_TO_CAUSE[status]
    return {4: Cause.CALL_REJECTED, 5: Cause.TEMPORARY_FAILURE}.get(
        status // 100, Cause.NORMAL_UNSPECIFIED
    )
