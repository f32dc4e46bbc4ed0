"""The hub: a Kamailio configuration for the proxy all sites register to (docs/multisite.md).

``minipbx hub render --sites FILE`` reads a sites file (TOML) and prints ``kamailio.cfg``;
with ``--out DIR`` it writes ``kamailio.cfg`` and, when numbers are shared by several
sites, ``dispatcher.list`` there. The sites file::

    [hub]
    listen = "0.0.0.0"        # address Kamailio listens on
    port = 5060               # udp and tcp
    transports = ["udp", "tcp", "tls"]
    tls_port = 5061
    tls_cert = "/etc/kamailio/hub.pem"   # tls only
    tls_key = "/etc/kamailio/hub.key"
    tls_ca = ""               # "" = do not ask the boxes for certificates
    realm = "minipbx"
    flood_requests = 40       # pike: requests per 2 s one address may send
    ban_s = 300               # then ignored this long

    [[site]]
    name = "office1"          # the box's [site] name: its user name at the hub
    prefix = "1xx"            # its short numbers (same syntax as the box's [site] prefix)
    password = "..."          # the box's [hub] password (only its HA1 digest is written)

    [[shared]]                # a number several sites serve: dispatcher, with failover
    number = "500"            # a prefix pattern too
    sites = ["office1", "office2"]   # tried in this order

What the rendered hub does, in its request route:

1. pike and a ban table (htable) drop floods before anything else.
2. REGISTER: digest authentication against the sites' HA1 (htable, no plain passwords in
   the file), the digest user must be the registered name, then ``save("location")``.
3. OPTIONS with no user answers 200 (the boxes' pings of the hub); with a site name as the
   user, it is relayed to that site's registration (pings of a site through the hub).
4. INVITE from a box: proxy digest authentication (the same credentials), then the target
   site: the Request-URI parameter ``site`` (a route with ``via``), else the site whose
   prefix matches the number, else a shared number's dispatcher set. The site's
   registration gives the address (``lookup`` with the site's AOR); the dialled number is
   put back as the Request-URI user. A site not registered: 503 "Site Offline" (the box
   then tries its route's next choice, or its fallback). On 408/5xx from a shared number's
   site, the next site of the set (``ds_next_dst``).
5. Requests inside a dialog follow the Record-Route.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from firmware.config.siteprefix import SitePrefix, parse_prefix
from firmware.core.errors import ConfigError

NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
SHARED_SET_BASE = 1


@dataclass(frozen=True)
class HubSite:
    name: str
    prefix: SitePrefix
    password: str

    def ha1(self, realm: str) -> str:
        return hashlib.md5(f"{self.name}:{realm}:{self.password}".encode()).hexdigest()


@dataclass(frozen=True)
class SharedNumber:
    number: SitePrefix
    sites: tuple[str, ...]


@dataclass(frozen=True)
class HubSpec:
    listen: str = "0.0.0.0"
    port: int = 5060
    transports: tuple[str, ...] = ("udp",)
    tls_port: int = 5061
    tls_cert: str = ""
    tls_key: str = ""
    tls_ca: str = ""
    realm: str = "minipbx"
    flood_requests: int = 40
    ban_s: int = 300
    sites: tuple[HubSite, ...] = ()
    shared: tuple[SharedNumber, ...] = field(default=())
    ctl: str = "unix:/run/kamailio/kamailio_ctl"
    children: int = 4


def load_sites(path: Path, **overrides: object) -> HubSpec:
    """The sites file as a HubSpec; ConfigError naming the file and the key when wrong."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return parse_sites(doc, str(path), **overrides)


def parse_sites(doc: dict[str, object], where: str = "sites", **overrides: object) -> HubSpec:
    hub = doc.get("hub", {})
    if not isinstance(hub, dict):
        raise ConfigError(f"{where}: [hub] must be a table")
    known = {"listen", "port", "transports", "tls_port", "tls_cert", "tls_key", "tls_ca",
             "realm", "flood_requests", "ban_s", "ctl", "children"}
    unknown = sorted(set(hub) - known)
    if unknown:
        raise ConfigError(f"{where}: hub.{unknown[0]} is not a key; known: "
                          f"{', '.join(sorted(known))}")
    values: dict[str, object] = {**hub, **overrides}
    listed = values.get("transports", ("udp",))
    if not isinstance(listed, list | tuple):
        raise ConfigError(f"{where}: hub.transports must be a list such as [\"udp\"]")
    values["transports"] = tuple(listed)
    for t in listed:
        if t not in ("udp", "tcp", "tls"):
            raise ConfigError(f"{where}: hub.transports: {t!r}; use udp, tcp, tls")
    sites = _sites(doc.get("site", []), where)
    names = {s.name for s in sites}
    shared = _shared(doc.get("shared", []), names, sites, where)
    spec = HubSpec(sites=sites, shared=shared, **values)  # type: ignore[arg-type]
    if "tls" in spec.transports and not (spec.tls_cert and spec.tls_key):
        raise ConfigError(f"{where}: hub.transports has tls: set hub.tls_cert and"
                          " hub.tls_key (PEM files)")
    return spec


def _sites(raw: object, where: str) -> tuple[HubSite, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where}: no [[site]] tables; add one per office (name, prefix,"
                          " password)")
    out: list[HubSite] = []
    for i, item in enumerate(raw):
        at = f"{where}: site[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{at} must be a table")
        for key in ("name", "prefix", "password"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise ConfigError(f"{at}.{key}: missing (a string)")
        extra = sorted(set(item) - {"name", "prefix", "password"})
        if extra:
            raise ConfigError(f"{at}.{extra[0]} is not a key; known: name, prefix, password")
        name = str(item["name"])
        if not set(name) <= NAME_CHARS:
            raise ConfigError(f"{at}.name: {name!r}; letters, digits, '_', '.', '-'")
        try:
            prefix = parse_prefix(str(item["prefix"]))
        except ConfigError as exc:
            raise ConfigError(f"{at}.prefix: {exc}") from None
        for j, other in enumerate(out):
            if other.name == name:
                raise ConfigError(f"{at}.name: {name!r} is already site[{j}]")
            both = prefix.overlaps(other.prefix)
            if both is not None:
                raise ConfigError(f"{at}.prefix: site {name} ('{prefix.text}') and site"
                                  f" {other.name} ('{other.prefix.text}') both claim {both}")
        out.append(HubSite(name, prefix, str(item["password"])))
    return tuple(out)


def _shared(raw: object, names: set[str], sites: tuple[HubSite, ...],
            where: str) -> tuple[SharedNumber, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: shared must be [[shared]] tables")
    out: list[SharedNumber] = []
    for i, item in enumerate(raw):
        at = f"{where}: shared[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("number"), str):
            raise ConfigError(f"{at}.number: missing (a string such as \"500\")")
        listed = item.get("sites")
        if not isinstance(listed, list) or len(listed) < 1:
            raise ConfigError(f"{at}.sites: list the sites that serve it, first choice first")
        for name in listed:
            if name not in names:
                raise ConfigError(f"{at}.sites: no site {name!r}; sites: "
                                  f"{', '.join(sorted(names))}")
        number = parse_prefix(str(item["number"]))
        for site in sites:
            both = number.overlaps(site.prefix)
            if both is not None:
                raise ConfigError(f"{at}.number: '{number.text}' is inside site {site.name}'s"
                                  f" numbers ('{site.prefix.text}') at {both}")
        out.append(SharedNumber(number, tuple(str(n) for n in listed)))
    return tuple(out)


def dispatcher_list(spec: HubSpec) -> str:
    """dispatcher.list: one set per shared number; a destination's user names the site
    (the hub finds the address in that site's registration), its priority is the order."""
    lines = ["# setid destination flags priority attrs (written by minipbx hub render)"]
    for i, shared in enumerate(spec.shared):
        setid = SHARED_SET_BASE + i
        for rank, name in enumerate(shared.sites):
            lines.append(f"{setid} sip:{name}@{_host(spec)}:{spec.port} 0 "
                         f"{len(shared.sites) - rank} site={name}")
    return "\n".join(lines) + "\n"


def _host(spec: HubSpec) -> str:
    return "127.0.0.1" if spec.listen in ("0.0.0.0", "::") else spec.listen


def render(spec: HubSpec, list_path: str = "/etc/kamailio/dispatcher.list") -> str:
    """kamailio.cfg for ``spec``; ``list_path`` is where dispatcher.list will be."""
    tls = "tls" in spec.transports
    tcp = "tcp" in spec.transports or tls
    listens = [f"listen=udp:{spec.listen}:{spec.port}"] if "udp" in spec.transports else []
    if "tcp" in spec.transports:
        listens.append(f"listen=tcp:{spec.listen}:{spec.port}")
    if tls:
        listens.append(f"listen=tls:{spec.listen}:{spec.tls_port}")
    modules = ["tm", "sl", "rr", "pv", "maxfwd", "textops", "siputils", "xlog", "usrloc",
               "registrar", "auth", "htable", "pike", "ctl", "kex", "sanity"]
    if spec.shared:
        modules.append("dispatcher")
    if tls:
        modules.insert(0, "tls")
    ha1 = "\n".join(f'    $sht(ha1=>{s.name}) = "{s.ha1(spec.realm)}";' for s in spec.sites)
    # Flat ifs, not one else-if chain: Kamailio's parser nests an else-if per site, and
    # a chain of hundreds no longer matches.
    by_prefix = "\n".join(
        f'    if ($avp(site) == $null && $rU =~ "{s.prefix.regex()}") $avp(site) = "{s.name}";'
        for s in spec.sites)
    shared = "\n".join(
        f'    if ($avp(site) == $null && $rU =~ "{n.number.regex()}") {{\n'
        f'        if (!ds_select_dst("{SHARED_SET_BASE + i}", "8")) {{\n'
        f'            send_reply("503", "No Site Online"); exit;\n        }}\n'
        f'        $avp(site) = $(du{{uri.user}}); $du = $null; $avp(shared) = 1;\n    }}'
        for i, n in enumerate(spec.shared))
    parts = [_HEAD.format(
        listens="\n".join(listens), tcp="no" if tcp else "yes", tls="yes" if tls else "no",
        children=spec.children, sites=", ".join(s.name for s in spec.sites))]
    parts.append("\n".join(f'loadmodule "{m}.so"' for m in modules))
    parts.append(_PARAMS.format(realm=spec.realm, flood=spec.flood_requests, ban=spec.ban_s,
                                ctl=spec.ctl))
    if spec.shared:
        parts.append(f'modparam("dispatcher", "list_file", "{list_path}")\n'
                     'modparam("dispatcher", "flags", 2)\n'
                     'modparam("dispatcher", "ds_ping_interval", 0)\n'
                     'modparam("dispatcher", "xavp_dst", "_dsdst_")\n')
    if tls:
        verify = "1" if spec.tls_ca else "0"
        parts.append(f'modparam("tls", "certificate", "{spec.tls_cert}")\n'
                     f'modparam("tls", "private_key", "{spec.tls_key}")\n'
                     + (f'modparam("tls", "ca_list", "{spec.tls_ca}")\n' if spec.tls_ca else "")
                     + f'modparam("tls", "verify_certificate", {verify})\n'
                     f'modparam("tls", "require_certificate", {verify})\n'
                     'modparam("tls", "tls_method", "TLSv1.2+")\n')
    parts.append(_ROUTES.replace("@HA1@", ha1).replace("@BY_PREFIX@", by_prefix or "    ;")
                 .replace("@SHARED@", shared).replace("@REALM@", spec.realm)
                 .replace("@NEXT_SHARED@", _NEXT_SHARED if spec.shared else "")
                 .replace("@SHARED_NEXT_REGISTERED@",
                          _SHARED_NEXT_REGISTERED if spec.shared else ""))
    return "\n".join(parts)


_HEAD = """#!KAMAILIO
# The minipbx hub: registrar and proxy for the sites {sites}.
# Written by `minipbx hub render`; edit the sites file and render again.
debug=2
log_stderror=no
log_facility=LOG_LOCAL0
memdbg=5
memlog=5
children={children}
tcp_children={children}
disable_tcp={tcp}
enable_tls={tls}
auto_aliases=no
{listens}
"""

_PARAMS = """
modparam("usrloc", "db_mode", 0)
modparam("registrar", "min_expires", 30)
modparam("registrar", "max_expires", 3600)
modparam("htable", "htable", "ha1=>size=6;")
modparam("htable", "htable", "ban=>size=8;autoexpire={ban};")
modparam("pike", "sampling_time_unit", 2)
modparam("pike", "reqs_density_per_unit", {flood})
modparam("pike", "remove_latency", 4)
modparam("ctl", "binrpc", "{ctl}")
modparam("tm", "fr_timer", 4000)
modparam("tm", "fr_inv_timer", 60000)
modparam("rr", "enable_full_lr", 1)
"""

_NEXT_SHARED = """
    if ($avp(shared) != $null && (t_check_status("408|5[0-9][0-9]") || t_branch_timeout())) {
        while (ds_next_dst()) {
            $avp(site) = $(du{uri.user});
            $du = $null;
            if (route(SITE_CONTACT)) {
                t_on_failure("SITE_FAILED");
                t_relay();
                exit;
            }
        }
    }
"""

_SHARED_NEXT_REGISTERED = """        if ($avp(shared) != $null) {
            while (ds_next_dst()) {
                $avp(site) = $(du{uri.user});
                $du = $null;
                if (route(SITE_CONTACT)) {
                    t_on_failure("SITE_FAILED");
                    t_relay();
                    exit;
                }
            }
        }"""

_ROUTES = """
event_route[htable:mod-init] {
@HA1@
}

request_route {
    route(FLOOD);
    if (!mf_process_maxfwd_header("10")) {
        sl_send_reply("483", "Too Many Hops");
        exit;
    }
    if (!sanity_check("17895", "7")) {
        exit;
    }
    if (has_totag()) {
        route(IN_DIALOG);
        exit;
    }
    if (is_method("CANCEL")) {
        if (t_check_trans()) {
            t_relay();
        }
        exit;
    }
    t_check_trans();
    if (is_method("REGISTER")) {
        route(REGISTRAR);
        exit;
    }
    if (is_method("OPTIONS")) {
        route(PING);
        exit;
    }
    if (!is_method("INVITE")) {
        sl_send_reply("405", "Method Not Allowed");
        exit;
    }
    route(AUTH_BOX);
    record_route();
    route(TO_NUMBER);
}

# Floods: pike counts requests per source address; one over the density is banned.
route[FLOOD] {
    if (src_ip == myself) {
        return;
    }
    if ($sht(ban=>$si) != $null) {
        exit;
    }
    if (!pike_check_req()) {
        xlog("L_ALERT", "hub: flood from $si, banned\\n");
        $sht(ban=>$si) = 1;
        exit;
    }
}

# The HA1 of the digest user, "" when there are no credentials or no such site.
route[HA1] {
    $var(ha1) = "";
    if ($au != $null && $sht(ha1=>$au) != $null) {
        $var(ha1) = $sht(ha1=>$au);
    }
}

route[REGISTRAR] {
    route(HA1);
    if ($var(ha1) == "" || !pv_auth_check("@REALM@", "$var(ha1)", "1", "0")) {
        auth_challenge("@REALM@", "0");
        exit;
    }
    if ($au != $tU) {
        xlog("L_WARN", "hub: $au tried to register $tU from $si\\n");
        sl_send_reply("403", "Register Your Own Site");
        exit;
    }
    consume_credentials();
    # One contact per site: a box that restarts (on a new port) replaces its old one.
    if (!save("location", "0x04")) {
        sl_reply_error();
    }
    exit;
}

route[AUTH_BOX] {
    route(HA1);
    if ($var(ha1) == "" || !pv_proxy_authenticate("@REALM@", "$var(ha1)", "1")) {
        proxy_challenge("@REALM@", "0");
        exit;
    }
    consume_credentials();
}

route[PING] {
    if ($rU == $null || uri != myself) {
        sl_send_reply("200", "OK");
        exit;
    }
    $avp(site) = $rU;
    $avp(num) = $rU;
    if (!route(SITE_CONTACT)) {
        sl_send_reply("404", "Site Not Registered");
        exit;
    }
    t_relay();
}

# Which site serves the number; then its registration.
route[TO_NUMBER] {
    $avp(num) = $rU;
    $avp(site) = $(ru{uri.param,site});
    if ($avp(site) == "") {
        $avp(site) = $null;
@BY_PREFIX@
    }
@SHARED@
    if ($avp(site) == $null) {
        send_reply("404", "No Site For This Number");
        exit;
    }
    if (!route(SITE_CONTACT)) {
        xlog("L_NOTICE", "hub: $avp(num) for site $avp(site), which is not registered\\n");
@SHARED_NEXT_REGISTERED@
        send_reply("503", "Site Offline");
        exit;
    }
    t_on_failure("SITE_FAILED");
    if (!t_relay()) {
        sl_reply_error();
    }
    exit;
}

# $ru = the registration of site $avp(site), with $avp(num) as its user.
route[SITE_CONTACT] {
    $var(aor) = "sip:" + $avp(site) + "@@REALM@";
    if (!lookup("location", "$var(aor)")) {
        return -1;
    }
    $rU = $avp(num);
    return 1;
}

failure_route[SITE_FAILED] {
    if (t_is_canceled()) {
        exit;
    }
@NEXT_SHARED@
}

route[IN_DIALOG] {
    if (loose_route()) {
        t_relay();
        exit;
    }
    if (is_method("ACK")) {
        if (t_check_trans()) {
            t_relay();
        }
        exit;
    }
    sl_send_reply("404", "Not Here");
    exit;
}
"""
