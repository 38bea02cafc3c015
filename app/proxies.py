"""Client address, scheme and host behind a reverse proxy (TRUSTED_PROXIES).

`X-Forwarded-*` headers are believed only from the proxies named in TRUSTED_PROXIES (addresses
or networks): from anyone else they are ignored, so a client cannot pick the address that rate
limits, lockouts and the activity log see. Empty: nothing forwarded is believed.
"""
import ipaddress

from werkzeug.middleware.proxy_fix import ProxyFix


def parse_networks(setting):
    """'127.0.0.1, 10.0.0.0/8' → networks; a bad entry is a configuration error, said at start."""
    networks = []
    for entry in setting.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as error:
            raise ValueError(f"TRUSTED_PROXIES: « {entry} » is not an address or a network") from error
    return networks


class TrustedProxyFix:
    """Werkzeug's ProxyFix (one proxy hop: for, proto, host, port, prefix), applied only to
    requests whose peer is a trusted proxy."""

    def __init__(self, wsgi_app, networks):
        self.plain = wsgi_app
        self.fixed = ProxyFix(wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)
        self.networks = networks

    def _trusted(self, peer):
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def __call__(self, environ, start_response):
        if self._trusted(environ.get("REMOTE_ADDR", "")):
            return self.fixed(environ, start_response)
        return self.plain(environ, start_response)


def install(app):
    networks = parse_networks(app.config.get("TRUSTED_PROXIES", ""))
    if networks:
        app.wsgi_app = TrustedProxyFix(app.wsgi_app, networks)
