"""`podops run`: one instance, running the scheduler and the web server in one process,
or one of them by role (several instances may share a PostgreSQL database).

Part of the composition root: it gathers the jobs and routes each area
contributes and imports them lazily. Start-up checks say what is missing in
words; shutdown lets running jobs finish (no job cut in half).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import ipaddress
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from podops.errors import ConfigError, PodopsError
from podops.leases import holder_name, singleton
from podops.logs import remember_secrets
from podops.runtime.job_health import JobErrors, beat, forget
from podops.runtime.root import Runtime

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from podops.jobs import JobSpec
    from podops.settings import StoreConfig

log = logging.getLogger("podops.service")
HEARTBEAT_EVERY_S = 30.0

# Each area contributes `jobs(runtime)` and/or `routes(runtime)`.
JOB_MODULES = (
    "sync.intake",
    "sync.pushback",
    "sync.fulfillment_jobs",
    "sync.sheets.mirror",
    "sync.products_csv",
    "sync.notify_job",
    "sync.maintenance",
    "bot.home",
)
ROUTE_MODULES = (
    "sync.webhooks",
    "sync.shopify_webhooks",
    "sync.provider_callbacks",
    "sync.provider_webhooks",
    "sync.easypost_webhooks",
    "bot.http",
    "render.web",
)


class Role(StrEnum):
    ALL = "all"
    WEB = "web"
    WORKER = "worker"


def collect_jobs(runtime: Runtime) -> list[JobSpec]:
    """Every area's jobs, each keeping its last error for `podops status`."""
    errors = JobErrors(runtime.db)
    specs: list[JobSpec] = []
    for name in JOB_MODULES:
        for spec in importlib.import_module(name).jobs(runtime):
            specs.append(dataclasses.replace(spec, func=errors.wrap(spec.name, spec.func)))
    return specs


def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _plain_http_problem(name: str, url: str) -> str | None:
    """Over plain http WooCommerce takes only OAuth 1.0a, which podops does not send
    (nor the keys, unencrypted): accepted only on this machine, for a test shop."""
    from urllib.parse import urlsplit

    if not url.startswith(("https://", "http://")):
        return f"stores.{name}.url must be the shop's address (https://...), not {url!r}"
    if url.startswith("http://") and not _is_loopback(urlsplit(url).hostname or ""):
        return (
            f"stores.{name}.url is plain http ({url}): WooCommerce accepts the keys only "
            "over https (podops never sends them unencrypted); use the shop's https:// "
            "address (plain http is only accepted for localhost)"
        )
    return None


def build_web_app(runtime: Runtime) -> Starlette:
    from podops.runtime.web import build_asgi_app

    factories = [importlib.import_module(name).routes for name in ROUTE_MODULES]
    return build_asgi_app(runtime, factories)


def preflight(runtime: Runtime, role: Role) -> list[str]:
    """Everything that would make the service fail later, as sentences."""
    settings = runtime.settings
    problems: list[str] = []
    for name, store in settings.stores.items():
        if store.platform == "woocommerce":
            problem = _plain_http_problem(name, store.url)
            if problem is not None:
                problems.append(problem)
            if store.ca_bundle and not settings.resolve(store.ca_bundle).is_file():
                problems.append(
                    f"stores.{name}.ca_bundle: no file at {settings.resolve(store.ca_bundle)}"
                )
            for key in ("consumer_key", "consumer_secret"):
                if getattr(store, key) is None:
                    problems.append(
                        f"store '{name}' needs PODOPS_STORES__{name.upper()}__{key.upper()}"
                    )
            if role != Role.WORKER and store.webhook_secret is None:
                log.warning(
                    "store '%s' has no webhook secret: webhooks are refused, polling only", name
                )
        if store.platform == "shopify":
            problems.extend(_shopify_problems(name, store))
    for name, provider in settings.providers.items():
        if provider.kind in ("customcat", "shineon") and provider.api_key is None:
            problems.append(f"provider '{name}' needs PODOPS_PROVIDERS__{name.upper()}__API_KEY")
    if settings.slack.enabled:
        if settings.slack.bot_token is None:
            problems.append("Slack is enabled but PODOPS_SLACK__BOT_TOKEN is not set")
        if settings.slack.socket_mode and settings.slack.app_token is None:
            problems.append("Slack Socket Mode needs PODOPS_SLACK__APP_TOKEN (xapp-...)")
        if not settings.slack.socket_mode and settings.slack.signing_secret is None:
            problems.append("Slack over HTTP needs PODOPS_SLACK__SIGNING_SECRET")
    if settings.sheet.backend == "google":
        if settings.sheet.service_account_json is None:
            problems.append("the Google sheet needs PODOPS_SHEET__SERVICE_ACCOUNT_JSON")
        if not settings.sheet.spreadsheet_id:
            problems.append("sheet.spreadsheet_id is empty (the id in the sheet's URL)")
    return problems


def _quiet_server_class() -> type:
    import uvicorn

    class QuietServer(uvicorn.Server):
        """uvicorn re-raises SIGTERM after its own shutdown, which would kill the
        process before the scheduler lets running jobs finish; we own the signals."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return QuietServer


class Instance:
    """One running podops: scheduler (worker role) and/or web server (web role)."""

    def __init__(self, runtime: Runtime, role: Role = Role.ALL) -> None:
        self.runtime = runtime
        self.role = role
        self.stopping = threading.Event()
        self._scheduler: Any = None
        self._server: Any = None
        self._socket: Any = None
        self._listener: socket.socket | None = None
        self._heartbeat: threading.Thread | None = None
        self.holder = holder_name()
        remember_secrets(runtime.settings.secret_values())

    def check(self) -> None:
        self.runtime.db.check()
        problems = preflight(self.runtime, self.role)
        if problems:
            raise ConfigError("cannot start: " + "; ".join(problems))
        self.runtime.storage.check()  # a wrong bucket or key: exit 2, naming the setting

    def bind(self) -> None:
        """Take the web port before anything starts: a busy port is a configuration
        error found at once, not after the scheduler already pulled orders."""
        if self.role == Role.WORKER:
            return
        server = self.runtime.settings.server
        family = socket.AF_INET6 if ":" in server.host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((server.host, server.port))
        except OSError as exc:
            listener.close()
            raise ConfigError(
                f"cannot listen on {server.host}:{server.port}: {exc.strerror or exc}. "
                "Another program (or another podops) uses the port: stop it, or choose another "
                "with server.port in the config file (or PODOPS_SERVER__PORT)."
            ) from None
        listener.listen(128)
        listener.set_inheritable(True)
        self._listener = listener

    def start_heartbeat(self) -> None:
        """Every role says it is alive (with its real role) until it stops."""
        beat(self.runtime.db, self.holder, self.role.value)
        self._heartbeat = threading.Thread(
            target=self._beat_until_stopped, name="podops-heartbeat", daemon=True
        )
        self._heartbeat.start()

    def _beat_until_stopped(self) -> None:
        while not self.stopping.wait(HEARTBEAT_EVERY_S):
            try:
                beat(self.runtime.db, self.holder, self.role.value)
            except PodopsError as exc:
                log.warning("heartbeat not written: %s", exc.message)

    def start_scheduler(self) -> None:
        from sync.scheduler import build_scheduler

        db = self.runtime.db
        self._scheduler = build_scheduler(
            collect_jobs(self.runtime),
            timezone=self.runtime.settings.timezone,
            guard=lambda name: singleton(db, name),
        )
        self._scheduler.start()
        names = ", ".join(job.id for job in self._scheduler.get_jobs())
        log.info("scheduler started with jobs: %s", names)

    def start_socket_mode(self) -> None:
        """Slack over a websocket, for shops without a public URL (slack.socket_mode)."""
        settings = self.runtime.settings.slack
        if not (settings.enabled and settings.socket_mode):
            return
        from bot.socket import socket_mode_handler

        self._socket = socket_mode_handler(self.runtime)
        if self._socket is not None:
            self._socket.connect()
            log.info("connected to Slack in Socket Mode")

    def run(self, on_ready: Callable[[], None] | None = None) -> None:
        """Run until SIGINT/SIGTERM; then let running jobs finish and exit."""
        self.check()
        self.bind()
        self.start_heartbeat()
        if self.role in (Role.ALL, Role.WORKER):
            self.start_scheduler()
        if self.role in (Role.ALL, Role.WEB):
            self.start_socket_mode()
        try:
            if self.role in (Role.ALL, Role.WEB):
                self._serve(on_ready)
            else:
                self._wait(on_ready)
        finally:
            self.shutdown()

    def _serve(self, on_ready: Callable[[], None] | None) -> None:
        import uvicorn

        config = uvicorn.Config(
            build_web_app(self.runtime),
            host=self.runtime.settings.server.host,
            port=self.runtime.settings.server.port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
        self._server = _quiet_server_class()(config)
        self._install_signal_handlers()
        if on_ready is not None:
            threading.Thread(target=self._announce, args=(on_ready,), daemon=True).start()
        self._server.run(sockets=[self._listener] if self._listener is not None else None)

    def _announce(self, on_ready: Callable[[], None]) -> None:
        while self._server is not None and not self._server.started:
            if self.stopping.wait(0.05):
                return
        on_ready()

    def _install_signal_handlers(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stop())

    def _wait(self, on_ready: Callable[[], None] | None) -> None:
        self._install_signal_handlers()
        if on_ready is not None:
            on_ready()
        self.stopping.wait()

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.should_exit = True

    def shutdown(self) -> None:
        self.stopping.set()
        if self._socket is not None:
            self._socket.close()
        if self._scheduler is not None and self._scheduler.running:
            log.info("stopping: waiting for running jobs to finish")
            self._scheduler.shutdown(wait=True)
        if self._listener is not None:
            self._listener.close()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=5)
            try:
                forget(self.runtime.db, self.holder)
            except PodopsError as exc:
                log.warning("heartbeat not removed: %s", exc.message)
        log.info("stopped")


def _shopify_problems(name: str, store: StoreConfig) -> list[str]:
    """A Shopify store needs its shop, a way to a token, and the secret webhooks are signed with."""
    found = []
    env = f"PODOPS_STORES__{name.upper()}__"
    if not store.shop and not store.url:
        found.append(f"stores.{name}.shop: the shop's domain, like example.myshopify.com")
    if store.access_token is None and not (store.client_id and store.client_secret):
        found.append(f"store '{name}' needs {env}ACCESS_TOKEN, or client_id and {env}CLIENT_SECRET")
    if store.client_secret is None:
        log.warning(
            "store '%s' has no client secret (%sCLIENT_SECRET): webhooks are refused, polling only",
            name,
            env,
        )
    return found
