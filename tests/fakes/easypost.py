"""A fake EasyPost API (v2) on 127.0.0.1, for the official `easypost` client (v10).

Follows api-notes-providers.md section E, docs.easypost.com (Address object,
Address Verification guide, Errors) and the recordings in the client's own
tests (EasyPost/easypost-python tests/cassettes: test_address_create_verify,
test_address_create_verify_strict, test_address_verify_invalid_address,
test_address_create_and_verify, test_error). Point the client at it with
`EasyPostClient(key, api_base=fake.api_base)`.

What it does as EasyPost does:
- `Authorization: Bearer <key>`; an unknown key answers 401 with an error body.
  Keys starting `EZTK` are test keys (`"mode": "test"`), others production.
- JSON bodies wrapped in the object's name (`{"address": {...}}`); JSON answers;
  ids `adr_<32 hex>`; a `Location` header on 201.
- `POST /v2/addresses` creates an Address (201). Verification runs only when
  `verify`, `verify_strict` or `verify_carrier` is present, at the top level or
  inside `address` (any value, even false, as the guide says). `verify` puts the
  outcome in `verifications.delivery` (and `zip4` for US addresses) and still
  answers 201 when the address fails; `verify_strict` answers 422
  `ADDRESS.VERIFY.FAILURE` instead. Without verification, `verifications` is `{}`.
- `POST /v2/addresses/create_and_verify` answers 200 `{"address": {...}}` or 422.
- `GET /v2/addresses/{id}`, `GET /v2/addresses/{id}/verify` (200 `{"address"}` or
  422), `GET /v2/addresses?page_size=` (newest first, `{"addresses", "has_more"}`).
- Errors are `{"error": {"code", "message", "errors": [...]}}`: 422
  `PARAMETER.REQUIRED` for a missing `address`, 404 `NOT_FOUND`, 401
  `APIKEY.REQUIRED` (the code of a bad key is not documented: assumed).
- A verified address comes back corrected the way EasyPost corrects: upper case,
  ZIP+4 for the US, `residential` set, `delivery.details` with latitude,
  longitude and time zone.

Which addresses fail (deterministic, so tests can choose): a `street1` without a
house number (`E.HOUSE_NUMBER.MISSING` and `E.ADDRESS.NOT_FOUND`), a ZIP in
`unknown_zips` or a street in `undeliverable_streets` (`E.ADDRESS.NOT_FOUND`), no
city and no ZIP. Faults per test: queued HTTP errors (`fail_next`, with a JSON
error or an HTML body as a proxy would send), a delay (`latency_s`, e.g. past the
client's timeout), and `down()` (the port refuses connections); a queued failure
may name the path it is for (`Failure(402, path="/buy")`). Shipments, labels and
trackers: `tests/fakes/easypost_labels.py` adds their routes.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

from tests.fakes.customcat import FakeHttpServer, Reply

TEST_KEY = "EZTK-fake-easypost-test-key-0123456789"
PRODUCTION_KEY = "EZAK-fake-easypost-production-key-0123456789"
VERIFY_FLAGS = ("verify", "verify_strict", "verify_carrier")
ADDRESS_FIELDS = (
    "name", "company", "street1", "street2", "city", "state", "zip", "country", "phone", "email",
    "residential", "carrier_facility", "federal_tax_id", "state_tax_id",
)  # fmt: skip
TIME_ZONES = {"US": "America/New_York", "GB": "Europe/London", "DE": "Europe/Berlin"}


def error(status: int, code: str, message: str, errors: list[Any] | None = None) -> Reply:
    """EasyPost's error shape (docs.easypost.com/docs/errors)."""
    return status, {"error": {"code": code, "message": message, "errors": errors or []}}, {}


def field_error(code: str, field: str, message: str) -> dict[str, Any]:
    return {"code": code, "field": field, "message": message, "suggestion": None}


@dataclass
class Failure:
    """One queued answer instead of the real one."""

    status: int
    code: str = "INTERNAL_SERVER_ERROR"
    message: str = "We're sorry, something went wrong."
    html: bool = False
    """An HTML page instead of JSON (a proxy or load balancer in front of EasyPost)."""
    path: str = ""
    """Only for a request whose path contains this (`/buy`); empty: the next request."""
    method: str = ""
    """Only for this HTTP method (`GET`); empty: any."""


class FakeEasyPost(FakeHttpServer):
    def __init__(self) -> None:
        super().__init__()
        self.keys = {TEST_KEY, PRODUCTION_KEY}
        self.addresses: dict[str, dict[str, Any]] = {}
        self.verified: list[dict[str, Any]] = []
        """Every address a verification was asked for, as sent."""
        self.failures: deque[Failure] = deque()
        self.unknown_zips: set[str] = set()
        self.undeliverable_streets: set[str] = set()
        self.route("POST", r"/v2/addresses", self._create)
        self.route("POST", r"/v2/addresses/create_and_verify", self._create_and_verify)
        self.route("GET", r"/v2/addresses", self._list)
        self.route("GET", r"/v2/addresses/(adr_[0-9a-f]+)", self._retrieve)
        self.route("GET", r"/v2/addresses/(adr_[0-9a-f]+)/verify", self._verify_existing)

    @property
    def api_base(self) -> str:
        return f"{self.url}/v2"

    def fail_next(self, failure: Failure, times: int = 1) -> None:
        self.failures.extend([failure] * times)

    def down(self) -> str:
        """Stop answering: the client's connections are refused (an outage). Returns the
        base URL it had, which now has nothing listening."""
        base = self.api_base
        self.stop()
        return base

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # Requests ------------------------------------------------------------------

    def _dispatch(self, http: Any) -> None:
        failure = self._take_failure(http)
        if failure is None:
            super()._dispatch(http)
            return
        length = int(http.headers.get("content-length") or 0)
        if length:
            http.rfile.read(length)
        with self.lock:
            self.requests.append((http.command, http.path))
        if failure.html:
            body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            kind = "text/html"
        else:
            body = _json(error(failure.status, failure.code, failure.message)[1])
            kind = "application/json; charset=utf-8"
        try:
            http.send_response(failure.status)
            http.send_header("content-type", kind)
            http.send_header("content-length", str(len(body)))
            http.end_headers()
            http.wfile.write(body)
        except OSError:  # the client gave up (a timeout test): nothing to answer
            return

    def _take_failure(self, http: Any) -> Failure | None:
        with self.lock:
            for failure in self.failures:
                if (not failure.path or failure.path in http.path) and (
                    not failure.method or failure.method == http.command
                ):
                    self.failures.remove(failure)
                    return failure
            return None

    def _mode(self, http: Any) -> str | None:
        """The key's mode, or None when the key is missing or unknown."""
        header = str(http.headers.get("authorization") or "")
        key = header.removeprefix("Bearer ").strip()
        if not header.startswith("Bearer ") or key not in self.keys:
            return None
        return "test" if key.startswith("EZTK") else "production"

    def _unauthorized(self) -> Reply:
        return error(401, "APIKEY.REQUIRED", "Missing or invalid API key, please see our docs.")

    def _create(self, *, body: Any, http: Any, **_: Any) -> Reply:
        mode = self._mode(http)
        if mode is None:
            return self._unauthorized()
        fields, flags = _address_params(body)
        if fields is None:
            return _blank_address()
        if not flags:
            address = self._store(fields, mode, {})
            return 201, address, {"location": f"/api/v2/addresses/{address['id']}"}
        failures = self._check(fields)
        if failures and "verify_strict" in flags:
            return _verify_failure(failures)
        fixed, verifications = _verified(fields, failures)
        address = self._store(fixed, mode, verifications)
        return 201, address, {"location": f"/api/v2/addresses/{address['id']}"}

    def _create_and_verify(self, *, body: Any, http: Any, **_: Any) -> Reply:
        mode = self._mode(http)
        if mode is None:
            return self._unauthorized()
        fields, _flags = _address_params(body)
        if fields is None:
            return _blank_address()
        failures = self._check(fields)
        if failures:
            return _verify_failure(failures)
        fixed, verifications = _verified(fields, [])
        return 200, {"address": self._store(fixed, mode, verifications)}, {}

    def _list(self, *, query: dict[str, str], http: Any, **_: Any) -> Reply:
        if self._mode(http) is None:
            return self._unauthorized()
        size = int(query.get("page_size") or 20)
        with self.lock:
            found = list(reversed(self.addresses.values()))  # newest first
        return 200, {"addresses": found[:size], "has_more": len(found) > size}, {}

    def _retrieve(self, address_id: str, *, http: Any, **_: Any) -> Reply:
        if self._mode(http) is None:
            return self._unauthorized()
        found = self.addresses.get(address_id)
        if found is None:
            return error(404, "NOT_FOUND", "The requested resource could not be found.")
        return 200, found, {}

    def _verify_existing(self, address_id: str, *, http: Any, **_: Any) -> Reply:
        mode = self._mode(http)
        if mode is None:
            return self._unauthorized()
        found = self.addresses.get(address_id)
        if found is None:
            return error(404, "NOT_FOUND", "The requested resource could not be found.")
        fields = {k: found[k] for k in ADDRESS_FIELDS if found.get(k) is not None}
        failures = self._check(fields)
        if failures:
            return _verify_failure(failures)
        fixed, verifications = _verified(fields, [])
        return 200, {"address": {**found, **fixed, "verifications": verifications}}, {}

    # Verification rules ----------------------------------------------------------

    def _check(self, fields: dict[str, Any]) -> list[dict[str, Any]]:
        """The field errors of an address (empty: it verifies)."""
        with self.lock:
            self.verified.append(dict(fields))
        street = str(fields.get("street1") or "").strip()
        found: list[dict[str, Any]] = []
        if street and not any(ch.isdigit() for ch in street):
            missing = "House number is missing"
            found.append(field_error("E.HOUSE_NUMBER.MISSING", "street1", missing))
        unknown = (
            not street
            or str(fields.get("zip") or "").strip() in self.unknown_zips
            or street.upper() in {s.upper() for s in self.undeliverable_streets}
            or not (fields.get("city") or fields.get("zip"))
        )
        if unknown or found:
            found.insert(0, field_error("E.ADDRESS.NOT_FOUND", "address", "Address not found"))
        return found

    def _store(
        self, fields: dict[str, Any], mode: str, verifications: dict[str, Any]
    ) -> dict[str, Any]:
        now = "2026-12-01T10:00:00+00:00"
        address: dict[str, Any] = {"id": f"adr_{uuid.uuid4().hex}", "object": "Address"}
        address.update({"created_at": now, "updated_at": now})
        address.update({k: fields.get(k) for k in ADDRESS_FIELDS})
        address["country"] = address["country"] or "US"  # EasyPost's default
        address.update(mode=mode, verifications=verifications)
        with self.lock:
            self.addresses[address["id"]] = address
        return address


def _address_params(body: Any) -> tuple[dict[str, Any] | None, set[str]]:
    """The address fields and the verification flags present, wherever they were put."""
    if not isinstance(body, dict) or not isinstance(body.get("address"), dict):
        return None, set()
    inner = dict(body["address"])
    flags = {flag for flag in VERIFY_FLAGS if flag in body or flag in inner}
    fields = {k: v for k, v in inner.items() if k in ADDRESS_FIELDS}
    return fields, flags


def _blank_address() -> Reply:
    errors = [{"field": "address", "message": "cannot be blank"}]
    return error(422, "PARAMETER.REQUIRED", "Missing required parameter.", errors)


def _verify_failure(failures: list[dict[str, Any]]) -> Reply:
    return error(422, "ADDRESS.VERIFY.FAILURE", "Unable to verify address.", failures)


def _verified(
    fields: dict[str, Any], failures: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The address as EasyPost returns it after verification, and `verifications`."""
    country = str(fields.get("country") or "US").upper()
    if failures:
        outcome = {"success": False, "errors": failures, "details": {}}
        verifications: dict[str, Any] = {"delivery": outcome}
        if country == "US":
            verifications["zip4"] = {"success": False, "errors": failures, "details": None}
        return dict(fields), verifications
    fixed = {
        k: (v.upper() if isinstance(v, str) and k not in ("phone", "email") else v)
        for k, v in fields.items()
    }
    fixed["country"] = country
    seed = int(hashlib.sha256(str(sorted(fields.items())).encode()).hexdigest(), 16)
    zip_code = str(fields.get("zip") or "")
    if country == "US" and len(zip_code) == 5 and zip_code.isdigit():
        fixed["zip"] = f"{zip_code}-{seed % 10000:04d}"
    fixed["residential"] = not fields.get("company")
    details = {
        "latitude": round(20 + seed % 3000 / 100, 5),
        "longitude": round(-70 - seed % 5000 / 100, 5),
        "time_zone": TIME_ZONES.get(country, "UTC"),
    }
    verifications = {"delivery": {"success": True, "errors": [], "details": details}}
    if country == "US":
        verifications["zip4"] = {"success": True, "errors": [], "details": None}
    return fixed, verifications


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()
