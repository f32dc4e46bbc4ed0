"""pjsip's C API through ctypes: the declarations the screen and the MWI sender share.

pjsua2 wraps only part of pjsip; the wheel (and the source build) export the rest of its
C symbols, so a few jobs pjsua2 cannot do are done by calling them directly: the SIP screen
(firmware/sip/screen.py) registers a module and sends stateless responses, the MWI sender
(firmware/sip/mwisend.py) sends NOTIFYs outside any dialog. Only structures whose layout
is the same in every pjproject 2.x build are declared here; anything that depends on build
options is found at run time by a probe, never trusted from a header.

Every function is called on the thread that polls pjsua2 (the loop thread).
"""

from __future__ import annotations

import ctypes
import sys

import pjsua2 as pj

PJ_TRUE = 1
PJ_FALSE = 0
PJ_SUCCESS = 0

RxCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)


class PjStr(ctypes.Structure):
    """pj_str_t: a pointer and a length, not NUL-terminated."""

    _fields_ = (("ptr", ctypes.c_char_p), ("slen", ctypes.c_ssize_t))


def pj_str(data: bytes) -> PjStr:
    """A pj_str_t over ``data``; the caller keeps ``data`` alive while pjsip reads it."""
    return PjStr(data, len(data))


class HdrListHead(ctypes.Structure):
    """A pjsip_hdr used as a list head: only ``prev`` and ``next`` are read; the rest
    pads it to a whole pjsip_hdr (type, name, sname, vptr)."""

    _fields_ = (("prev", ctypes.c_void_p), ("next", ctypes.c_void_p),
                ("rest", ctypes.c_char * 64))


class PjsipModule(ctypes.Structure):
    """pjsip_module (pjsip/sip_module.h), whose layout is the same in every 2.x."""

    _fields_ = (
        ("prev", ctypes.c_void_p), ("next", ctypes.c_void_p),
        ("name", PjStr), ("id", ctypes.c_int), ("priority", ctypes.c_int),
        ("load", ctypes.c_void_p), ("start", ctypes.c_void_p), ("stop", ctypes.c_void_p),
        ("unload", ctypes.c_void_p),
        ("on_rx_request", RxCallback), ("on_rx_response", RxCallback),
        ("on_tx_request", ctypes.c_void_p), ("on_tx_response", ctypes.c_void_p),
        ("on_tsx_state", ctypes.c_void_p),
    )


def library() -> ctypes.CDLL:
    """The loaded pjsua2 extension, which carries pjsip (the wheel's, or a source build's)."""
    pj.Endpoint  # noqa: B018 - makes the wheel load its binding
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if name.rsplit(".", 1)[-1] == "_pjsua2" and path:
            return ctypes.CDLL(path)
    raise OSError("the pjsua2 extension module is not loaded")


def endpoint_api(lib: ctypes.CDLL) -> ctypes.CDLL:
    """Declare the endpoint functions both users call (the same declarations each time)."""
    lib.pjsua_get_pjsip_endpt.restype = ctypes.c_void_p
    lib.pjsua_get_pjsip_endpt.argtypes = ()
    lib.pjsip_endpt_register_module.argtypes = (ctypes.c_void_p, ctypes.c_void_p)
    lib.pjsip_endpt_unregister_module.argtypes = (ctypes.c_void_p, ctypes.c_void_p)
    # (endpt, const pj_str_t *dst_uri, const pjsip_tpselector *sel, const void *data,
    #  pj_size_t len, void *token, pjsip_tp_send_callback cb): pjsip copies the data.
    lib.pjsip_endpt_send_raw_to_uri.restype = ctypes.c_int
    lib.pjsip_endpt_send_raw_to_uri.argtypes = (
        ctypes.c_void_p, ctypes.POINTER(PjStr), ctypes.c_void_p, ctypes.c_char_p,
        ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p)
    return lib
