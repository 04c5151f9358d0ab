"""Print files in an S3-compatible bucket (AWS S3, Cloudflare R2, MinIO, Google Cloud
Storage's interoperability mode), through obstore (Rust's object_store; see
ARCHITECTURE.md for why not boto3).

An object is `prefix/name`; its location on a line item is `s3://bucket/prefix/name`.
A PUT is atomic (an object appears whole or not at all); files above
MULTIPART_ABOVE go as one multipart upload, which also appears only when completed.
Links: when the web role serves links (a link secret and `render.public_base_url`,
which the local storage this one was given carries), a file's link is the web role's
signed `/files/NAME?exp=..&sig=..` link, valid `render.link_ttl_hours` like local
storage's; the web role checks it and redirects to a presigned URL made at download
time, valid a few minutes (`fresh_link`). Without a web role, links are SigV4
presigned GET URLs valid `presign_hours`, which S3 caps at 7 days: `check()` says so.
Locations that are not in a bucket (files written before `podops storage migrate`)
are handed to the local storage this one was given.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

import obstore
from obstore.exceptions import BaseError, PermissionDeniedError, UnauthenticatedError
from obstore.store import S3Store

from podops.errors import ConfigError, StorageUnavailable
from podops.ports.storage import S3_SCHEME, file_name, is_s3_location, split_s3_location
from podops.settings import StorageConfig, env_name, presign_expiry_note
from providers.storage_local import LocalStorage, check_name

if TYPE_CHECKING:
    from obstore.store import ClientConfig, RetryConfig, S3Config

log = logging.getLogger(__name__)

MULTIPART_ABOVE = 64 * 1024 * 1024
FRESH_LINK_TTL = timedelta(minutes=15)
"""How long the presigned URL the web role redirects to lives: a download starts at
once (S3 checks the expiry when a request begins, not while the bytes flow)."""
PROBE_NAME = ".podops-storage-check"
RETRIES = 2


class S3Storage:
    kind = "s3"

    def __init__(self, config: StorageConfig, local: LocalStorage) -> None:
        self.config = config
        self.bucket = config.bucket.strip()
        self.prefix = config.prefix
        self.local = local
        self.ttl = timedelta(hours=config.presign_hours)
        self.store = _store(config)
        # Links go through the web role when it serves them: they then live
        # render.link_ttl_hours, longer than S3's 7 days.
        self.web_links = local.serves_links

    # Writing and naming -------------------------------------------------------------

    def key_of(self, name: str) -> str:
        return f"{self.prefix}/{check_name(name)}" if self.prefix else check_name(name)

    def location_of(self, name: str) -> str:
        return f"{S3_SCHEME}{self.bucket}/{self.key_of(name)}"

    def put(self, name: str, data: bytes, content_type: str) -> str:
        key = self.key_of(name)
        try:
            obstore.put(
                self.store,
                key,
                data,
                attributes={"Content-Type": content_type},
                use_multipart=len(data) > MULTIPART_ABOVE,
            )
        except (BaseError, OSError, ValueError) as exc:
            raise _unavailable(f"cannot store {name}", exc) from exc
        return self.location_of(name)

    def names_starting(self, start: str) -> list[str]:
        """Listed from just before `start` (S3's start-after), stopping past it."""
        folder = self.prefix or None
        offset = self.key_of(start) if start else None
        names: list[str] = []
        try:
            stream = obstore.list(self.store, prefix=folder, offset=offset, chunk_size=100)
            for chunk in stream:
                for meta in chunk:
                    name = meta["path"].rsplit("/", 1)[-1]
                    if not name.startswith(start):
                        return names
                    names.append(name)
        except (BaseError, OSError, ValueError) as exc:
            raise _unavailable(f"cannot list {start}*", exc) from exc
        return names

    # Reading ------------------------------------------------------------------------

    def _key(self, location: str) -> str:
        bucket, key = split_s3_location(location)
        if bucket != self.bucket:
            raise StorageUnavailable(
                f"{location} is in bucket {bucket!r}, not the configured {self.bucket!r}",
                retryable=False,
            )
        return key

    def read(self, location: str) -> bytes:
        if not is_s3_location(location):
            return self.local.read(location)
        try:
            return bytes(obstore.get(self.store, self._key(location)).bytes())
        except FileNotFoundError:
            raise
        except (BaseError, OSError, ValueError) as exc:
            raise _unavailable(f"cannot read {location}", exc) from exc

    def exists(self, location: str) -> bool:
        if not is_s3_location(location):
            return self.local.exists(location)
        try:
            obstore.head(self.store, self._key(location))
        except FileNotFoundError:
            return False
        except (BaseError, OSError, ValueError) as exc:
            raise _unavailable(f"cannot look up {location}", exc) from exc
        return True

    def delete(self, location: str) -> None:
        if not is_s3_location(location):
            self.local.delete(location)
            return
        try:
            obstore.delete(self.store, self._key(location))
        except FileNotFoundError:
            return
        except (BaseError, OSError, ValueError) as exc:
            raise _unavailable(f"cannot delete {location}", exc) from exc

    def url_for(self, location: str) -> str:
        """The web role's signed link when it serves links (it redirects to the bucket),
        else a presigned GET valid `presign_hours`. Signing either is local arithmetic:
        no request is made."""
        if not is_s3_location(location):
            return self.local.url_for(location)
        key = self._key(location)
        name = file_name(key)
        if self.web_links and key == self.key_of(name):
            return self.local.web_link(name)
        # No web role, or a file kept under another prefix (the web role looks
        # names up under the configured one): a presigned URL.
        return self.presigned(key, self.ttl)

    def presigned(self, key: str, ttl: timedelta) -> str:
        try:
            return obstore.sign(self.store, "GET", key, ttl)
        except (BaseError, OSError, ValueError) as exc:
            raise _unavailable(f"cannot sign a link to {key}", exc) from exc

    # Serving the web role's links ---------------------------------------------------

    def fresh_link(self, name: str) -> str | None:
        """For the web role's `/files/NAME` redirect, once the link's signature and
        expiry are checked: a presigned GET valid FRESH_LINK_TTL (or `presign_hours`
        when shorter) if `name` is a stored file, else None: nothing is signed for a
        key that holds no file. ValueError for a name that is not a plain file name."""
        key = self.key_of(name)
        if self.stored_size(name) is None:
            return None
        return self.presigned(key, min(FRESH_LINK_TTL, self.ttl))

    def stored_size(self, name: str) -> int | None:
        """The stored file's size in bytes (a HEAD request), None if there is none."""
        key = self.key_of(name)
        try:
            return int(obstore.head(self.store, key)["size"])
        except FileNotFoundError:
            return None
        except (BaseError, OSError, ValueError) as exc:
            raise _unavailable(f"cannot look up {name}", exc) from exc

    def owns(self, location: str) -> bool:
        return is_s3_location(location)

    # Start-up -----------------------------------------------------------------------

    def check(self) -> None:
        """Write, read back and delete a small object: the bucket exists, the keys
        may write it. A refusal is the operator's to fix (ConfigError, exit 2)."""
        name = PROBE_NAME.lstrip(".")
        key = f"{self.prefix}/{PROBE_NAME}" if self.prefix else PROBE_NAME
        try:
            obstore.put(self.store, key, b"podops", use_multipart=False)
            obstore.delete(self.store, key)
            if not self.web_links:
                log.warning(presign_expiry_note(self.config.presign_hours, self.local.ttl_s))
        except FileNotFoundError as exc:
            raise ConfigError(
                f"storage.bucket: no bucket {self.bucket!r} at {self._where()} ({name})"
            ) from exc
        except (PermissionDeniedError, UnauthenticatedError) as exc:
            raise ConfigError(
                f"{env_name('storage.access_key_id')} / {env_name('storage.secret_access_key')}: "
                f"the storage at {self._where()} refused them for bucket {self.bucket!r} "
                f"({_first_line(exc)})"
            ) from exc
        except (BaseError, OSError, ValueError) as exc:
            text = _first_line(exc)
            if "NoSuchBucket" in str(exc):
                raise ConfigError(
                    f"storage.bucket: no bucket {self.bucket!r} at {self._where()}"
                ) from exc
            if any(code in str(exc) for code in _CREDENTIAL_CODES):
                raise ConfigError(
                    f"{env_name('storage.access_key_id')} / "
                    f"{env_name('storage.secret_access_key')}: the storage at {self._where()} "
                    f"refused them ({text})"
                ) from exc
            raise ConfigError(
                f"storage.endpoint_url: cannot reach the storage at {self._where()} ({text})"
            ) from exc

    def _where(self) -> str:
        return self.config.endpoint_url or f"AWS S3 ({self.config.region})"


_CREDENTIAL_CODES = (
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AccessDenied",
    "403 Forbidden",
    "401 Unauthorized",
)


def _store(config: StorageConfig) -> S3Store:
    endpoint = config.endpoint_url.strip()
    client: ClientConfig = {
        "timeout": timedelta(seconds=config.timeout_s),
        "connect_timeout": timedelta(seconds=min(5.0, config.timeout_s)),
        "allow_http": endpoint.startswith("http://"),
    }
    retry: RetryConfig = {
        "max_retries": RETRIES,
        "retry_timeout": timedelta(seconds=config.timeout_s),
        "backoff": {
            "init_backoff": timedelta(milliseconds=100),
            "max_backoff": timedelta(seconds=2),
            "base": 2,
        },
    }
    settings: S3Config = {"region": config.region, "virtual_hosted_style_request": False}
    if endpoint:
        settings["endpoint"] = endpoint
    if config.access_key_id is None or config.secret_access_key is None:
        # Never left to the library's own search: it would ask an instance-metadata
        # address, and keys belong in podops' environment (docs/several-hosts.md).
        raise ConfigError(
            f"storage.kind is 's3': set {env_name('storage.access_key_id')} and "
            f"{env_name('storage.secret_access_key')}"
        )
    settings["access_key_id"] = config.access_key_id.get_secret_value()
    settings["secret_access_key"] = config.secret_access_key.get_secret_value()
    try:
        return S3Store(
            config.bucket.strip(),
            config=settings,
            client_options=client,
            retry_config=retry,
        )
    except (BaseError, OSError, ValueError) as exc:
        raise ConfigError(f"storage: {_first_line(exc)}") from exc


def _unavailable(what: str, exc: BaseException) -> StorageUnavailable:
    return StorageUnavailable(f"{what}: {_first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines[:3])[:300] or type(exc).__name__
