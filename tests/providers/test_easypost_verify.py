"""The EasyPost adapter, through the official `easypost` client, against the fake
EasyPost API: verdicts for deliverable and undeliverable addresses in the
carrier's words, and every way the service can fail to answer told apart from a
bad address (outage, timeout, HTML from a proxy, rate limit, a refused key)."""

from __future__ import annotations

from collections.abc import Iterator

import easypost
import pytest

from podops.ports.address import AddressServiceDown, PostalAddress
from podops.settings import EasyPostConfig
from providers.easypost_verify import EasyPostVerifier
from tests.fakes.easypost import TEST_KEY, Failure, FakeEasyPost

GOOD = PostalAddress(
    name="Jack Sparrow",
    company="",
    line1="388 Townsend St",
    line2="Apt 20",
    city="San Francisco",
    state="CA",
    postcode="94107",
    country="US",
    phone="5555555555",
)


@pytest.fixture
def fake() -> Iterator[FakeEasyPost]:
    server = FakeEasyPost().start()
    yield server
    server.stop()


def verifier(base: str, key: str = TEST_KEY, timeout_s: int = 5) -> EasyPostVerifier:
    return EasyPostVerifier(
        EasyPostConfig(base_url=base, api_key=key, timeout_s=timeout_s)  # type: ignore[arg-type]
    )


def test_a_deliverable_address_verifies_with_easypost_corrections(fake: FakeEasyPost) -> None:
    verdict = verifier(fake.api_base).verify(GOOD)
    assert verdict.deliverable
    assert verdict.suggestions["city"] == "SAN FRANCISCO"
    assert verdict.suggestions["postcode"].startswith("94107-")
    assert fake.verified[-1]["street1"] == "388 Townsend St"
    assert fake.requests[-1] == ("POST", "/v2/addresses")


def test_an_undeliverable_address_is_a_verdict_in_the_carriers_words(fake: FakeEasyPost) -> None:
    no_number = verifier(fake.api_base).verify(
        PostalAddress("Ana", "", "Main Street", "", "Springfield", "IL", "62701", "US")
    )
    assert not no_number.deliverable
    assert no_number.reasons == ("Address not found", "House number is missing")
    fake.unknown_zips.add("00001")
    unknown = verifier(fake.api_base).verify(
        PostalAddress("Ana", "", "000 Unknown St", "", "Not A City", "ZZ", "00001", "US")
    )
    assert unknown.reasons == ("Address not found",)
    assert "Address not found" in unknown.reason


@pytest.mark.parametrize(
    "failure",
    [
        Failure(500),
        Failure(503, "SERVICE.UNAVAILABLE", "Service unavailable"),
        Failure(502, html=True),
        Failure(429, "RATE_LIMITED", "You have exceeded your rate limit."),
    ],
)
def test_an_outage_is_not_a_bad_address(fake: FakeEasyPost, failure: Failure) -> None:
    fake.fail_next(failure)
    with pytest.raises(AddressServiceDown) as raised:
        verifier(fake.api_base).verify(GOOD)
    assert raised.value.retryable
    assert verifier(fake.api_base).verify(GOOD).deliverable  # the next call is answered


def test_no_answer_in_time_and_no_server_are_outages(fake: FakeEasyPost) -> None:
    fake.latency_s = 2.5
    with pytest.raises(AddressServiceDown) as slow:
        verifier(fake.api_base, timeout_s=1).verify(GOOD)
    assert slow.value.retryable and "did not answer" in slow.value.message
    base = fake.down()
    with pytest.raises(AddressServiceDown) as gone:
        verifier(base).verify(GOOD)
    assert gone.value.retryable


def test_a_refused_key_needs_a_person_and_is_never_shown(fake: FakeEasyPost) -> None:
    wrong = "EZTK-not-the-key-9999999999"
    from podops.logs import remember_secrets

    remember_secrets([wrong])
    with pytest.raises(AddressServiceDown) as raised:
        verifier(fake.api_base, key=wrong).verify(GOOD)
    assert not raised.value.retryable
    assert "401" in raised.value.message and "PODOPS_EASYPOST__API_KEY" in raised.value.message
    assert wrong not in raised.value.message


def test_the_fake_answers_the_official_client_as_documented(fake: FakeEasyPost) -> None:
    client = easypost.EasyPostClient(TEST_KEY, api_base=fake.api_base)
    plain = client.address.create(street1="417 Montgomery St", city="SF", zip="94104")
    assert plain.id.startswith("adr_") and plain.mode == "test"
    assert plain.verifications.to_dict() == {}
    assert client.address.retrieve(plain.id).street1 == "417 Montgomery St"
    assert client.address.verify(plain.id).street1 == "417 MONTGOMERY ST"

    strict = {"street1": "Main Street", "city": "Springfield", "zip": "62701"}
    with pytest.raises(easypost.errors.InvalidRequestError) as refused:
        client.address.create(verify_strict=True, **strict)
    assert refused.value.code == "ADDRESS.VERIFY.FAILURE"
    assert refused.value.errors[0]["code"] == "E.ADDRESS.NOT_FOUND"
    with pytest.raises(easypost.errors.InvalidRequestError):
        client.address.create_and_verify(**strict)
    made = client.address.create_and_verify(street1="1 Main St", city="Springfield", zip="62701")
    assert made.verifications.delivery.success is True
    listed = client.address.all(page_size=1)  # a refused address is not stored
    assert [a.id for a in listed["addresses"]] == [made.id] and listed["has_more"] is True
    with pytest.raises(easypost.errors.NotFoundError):
        client.address.retrieve("adr_" + "0" * 32)
