"""How podops reaches a WooCommerce shop: the keys, TLS trust, redirects, refusals in words.

Authentication (WooCommerce REST API docs, "Authentication"):
- over https the keys go as HTTP Basic auth (`auth = "basic"`, the default), or as
  `consumer_key`/`consumer_secret` query parameters (`auth = "query"`) for hosts
  that strip the Authorization header (CGI/FastCGI, some proxies); WooCommerce
  answers those with 401 "Consumer key is missing" or "Sorry, you cannot list
  resources", and `explain` names the setting;
- over plain http WooCommerce accepts only OAuth 1.0a signatures, which podops
  does not send: podops never puts the keys on an unencrypted request (preflight
  refuses plain http except on this machine), and WooCommerce's 401 is explained.

TLS: `ca_bundle` (a PEM file) replaces the public authorities for a shop behind a
private CA; verification is never switched off.

Redirects: a same-site redirect (http to https, to or from `www.` of the same host)
moves the client to the new address and the request is sent again; a redirect to
another host, to plain http, or away from the API path is refused with the reason,
and no key is sent there.
"""

from __future__ import annotations

import base64
import html
import re
import ssl
from collections.abc import Generator
from pathlib import Path

import httpx

from podops.errors import ConfigError
from podops.settings import StoreConfig, env_name
from providers.http import DEFAULT_TIMEOUT, json_body, make_client

REDIRECTS = frozenset({301, 302, 303, 307, 308})
SNIPPET_CHARS = 160
FIREWALL_HEADERS = (
    ("cf-ray", "", "Cloudflare"),
    ("server", "cloudflare", "Cloudflare"),
    ("x-sucuri-id", "", "Sucuri"),
    ("server", "sucuri", "Sucuri"),
    ("x-iinfo", "", "Imperva (Incapsula)"),
    ("server", "akamaighost", "Akamai"),
    ("x-amzn-waf-action", "", "AWS WAF"),
    ("server", "mod_security", "ModSecurity"),
    ("x-wordfence-blocked", "", "Wordfence"),
)
"""(header, text its value contains or "" for any, the firewall's name)."""
_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
_UNPRINTABLE = re.compile(r"[^\x20-\x7e\u00a0-\uffff]")


class WooCommerceKeys(httpx.Auth):
    """Adds the consumer key and secret to https requests only (Basic or query)."""

    def __init__(self, key: str, secret: str, mode: str) -> None:
        self.key, self.secret, self.mode = key, secret, mode

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if request.url.scheme == "https":
            if self.mode == "query":
                request.url = request.url.copy_merge_params(
                    {"consumer_key": self.key, "consumer_secret": self.secret}
                )
            else:
                token = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
                request.headers["Authorization"] = f"Basic {token}"
        yield request


def build_client(
    key: str,
    config: StoreConfig,
    *,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
    ca_bundle: Path | None = None,
) -> httpx.Client:
    """The httpx client for one shop; `ca_bundle` defaults to the store's setting."""
    url = config.url.strip().rstrip("/")
    if not url.startswith(("https://", "http://")):
        raise ConfigError(
            f"stores.{key}.url: expected the shop's address, like https://shop.example.com"
        )
    if config.consumer_key is None or config.consumer_secret is None:
        key_var = env_name(f"stores.{key}.consumer_key")
        secret_var = env_name(f"stores.{key}.consumer_secret")
        raise ConfigError(f"store {key!r} has no WooCommerce keys: set {key_var} and {secret_var}")
    keys = WooCommerceKeys(
        config.consumer_key.get_secret_value(),
        config.consumer_secret.get_secret_value(),
        config.auth,
    )
    bundle = ca_bundle or (Path(config.ca_bundle) if config.ca_bundle else None)
    return make_client(
        url + "/", timeout=timeout, auth=keys, transport=transport, verify=trust(key, bundle)
    )


def trust(key: str, bundle: Path | None) -> ssl.SSLContext | bool:
    """The certificate authorities to trust: the public ones, or the store's bundle."""
    if bundle is None:
        return True
    try:
        return ssl.create_default_context(cafile=str(bundle))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"stores.{key}.ca_bundle: cannot read {bundle} as PEM certificates ({exc})"
        ) from exc


def same_site(origin: httpx.URL, target: httpx.URL) -> bool:
    """The same host, or the same host with or without `www.`; never a downgrade to http."""
    if origin.scheme == "https" and target.scheme != "https":
        return False

    def bare(host: str) -> str:
        host = host.lower().rstrip(".")
        return host[4:] if host.startswith("www.") else host

    return bare(origin.host) == bare(target.host)


def redirected_base(base: httpx.URL, response: httpx.Response) -> httpx.URL | str:
    """The shop's new base address after a redirect, or why podops will not follow it."""
    request_url = response.request.url
    location = response.headers.get("location", "")
    if not location:
        return f"answered {response.status_code} without saying where to (no Location)"
    target = request_url.join(location)
    shown = f"{target.scheme}://{target.host}{target.path}"
    if target.scheme == "http" and request_url.scheme == "https":
        return f"redirects to plain http ({shown}): podops never sends the keys unencrypted"
    if not same_site(request_url, target):
        return (
            f"redirects to another host ({target.host}): podops does not send the keys "
            "there; if the shop moved, set its url to the new address"
        )
    asked = request_url.path[len(base.path.rstrip("/")) :]
    if not target.path.endswith(asked):
        return f"redirects the API to {shown}, which is not the REST API: check the url"
    new_path = target.path[: len(target.path) - len(asked)] + "/"
    return target.copy_with(path=new_path, query=None, fragment=None)


def explain(response: httpx.Response, store: str = "NAME") -> str:
    """A refusal in words a shop owner understands."""
    body = json_body(response)
    code = str(body.get("code", "")) if isinstance(body, dict) else ""
    message = str(body.get("message", "")) if isinstance(body, dict) else ""
    status = response.status_code
    said = f": {message}" if message else ""
    if status in (401, 403) and not code:
        return _not_woocommerce(response)
    if status == 401 and response.request.url.scheme == "http":
        return (
            f"WooCommerce refused the request (401){said}; over plain http it accepts only "
            "OAuth 1.0a signatures, which podops does not send (the keys never travel "
            "unencrypted): use the shop's https:// address"
        )
    if status == 401 and _header_may_be_stripped(response, code, message):
        return (
            f"WooCommerce refused the consumer key (401){said}; the key went in the "
            "Authorization header: if the key is right, the host strips that header "
            "(CGI/FastCGI, some proxies): "
            f'set auth = "query" in [stores.{store}] to send it as query parameters'
        )
    if status in (401, 403):
        return f"WooCommerce refused the consumer key ({status}){said}"
    if status == 404 and code == "rest_no_route":
        return (
            f"WooCommerce has no {response.request.url.path} (404): check the store URL, "
            "pretty permalinks, and the Shipment Tracking extension"
        )
    if status == 404:
        return "WooCommerce has no such order (404)"
    if status == 429:
        return "WooCommerce is rate limiting requests (429); will try again later"
    if status >= 500:
        return f"WooCommerce failed ({status}){said}"
    return f"WooCommerce refused the request ({status}){said}"


def _header_may_be_stripped(response: httpx.Response, code: str, message: str) -> bool:
    """Basic was sent, yet WooCommerce saw no key at all."""
    if "authorization" not in response.request.headers:
        return False
    return code == "woocommerce_rest_cannot_view" or "consumer key is missing" in message.lower()


def _not_woocommerce(response: httpx.Response) -> str:
    """A 401/403 without WooCommerce's error code: something in front of the shop answered."""
    who = (
        firewall_name(response.headers)
        or "something in front of WooCommerce (a firewall, a security plugin or the host)"
    )
    snippet = body_snippet(response)
    said = f"; it said: {snippet!r}" if snippet else ""
    return (
        f"the shop answered {response.status_code} without a WooCommerce error, so the keys "
        f"were not what was refused: {who} refused the request{said}"
    )


def firewall_name(headers: httpx.Headers) -> str | None:
    """The web application firewall a response's headers name, if any."""
    for header, contains, name in FIREWALL_HEADERS:
        value = headers.get(header)
        if value is not None and contains in value.lower():
            return name
    return None


def body_snippet(response: httpx.Response) -> str:
    """The start of a body as plain one-line text (tags, entities and controls removed)."""
    text = response.content[:4096].decode("utf-8", errors="replace")
    text = _UNPRINTABLE.sub(" ", html.unescape(_TAGS.sub(" ", text)))
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"
