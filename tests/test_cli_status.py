"""wix-refunds status: where a refund made with a reference stands, as a subprocess against FakeWix."""

from __future__ import annotations

from wix_refunds.testing import FakeWix

from .command import cli, records


def test_status_shows_a_refund_made_with_a_reference_as_succeeded_and_writes_nothing(
    fake: FakeWix, served: str
) -> None:
    oid = fake.add_order(total="80")
    done = cli(fake, served, "refund", oid, "--amount", "20", "--reference", "ticket-881", "--yes")
    assert done.returncode == 0, done.stderr
    writes = list(fake.writes)
    result = cli(fake, served, "status", oid, "ticket-881")
    assert result.returncode == 0, result.stderr
    assert f"order {oid}, reference ticket-881: SUCCEEDED" in result.stdout
    assert "succeeded 20.00 USD" in result.stdout
    assert fake.writes == writes
    [record] = records(cli(fake, served, "status", oid, "ticket-881", "--json").stdout)
    assert record["type"] == "status"
    assert (record["state"], record["succeeded"], record["pending"], record["currency"]) == (
        "SUCCEEDED",
        "20.00",
        "0.00",
        "USD",
    )
    assert len(record["refund_ids"]) == 1


def test_status_of_a_refund_the_provider_has_not_settled_says_pending_and_to_ask_later(
    fake: FakeWix, served: str
) -> None:
    oid = fake.add_order(total="80")
    fake.refund_status = "PENDING"
    assert cli(fake, served, "refund", oid, "--reference", "r-1", "--yes").returncode == 0
    result = cli(fake, served, "status", oid, "r-1")
    assert result.returncode == 0, result.stderr
    assert "PENDING" in result.stdout
    assert "ask again later" in result.stdout
    assert "pending 80.00 USD" in result.stdout


def test_status_of_a_reference_no_refund_carries_says_not_found(fake: FakeWix, served: str) -> None:
    oid = fake.add_order(total="80")
    assert cli(fake, served, "refund", oid, "--amount", "5", "--reference", "r-1", "--yes").returncode == 0
    result = cli(fake, served, "status", oid, "r-12")
    assert result.returncode == 0, result.stderr
    assert "NOT_FOUND (no refund on Wix carries this reference)" in result.stdout
    [record] = records(cli(fake, served, "status", oid, "r-12", "--json").stdout)
    assert (record["state"], record["refund_ids"]) == ("NOT_FOUND", [])


def test_status_with_a_malformed_order_id_or_reference_is_a_usage_error(fake: FakeWix, served: str) -> None:
    oid = fake.add_order()
    bad_id = cli(fake, served, "status", "not-a-guid", "r-1")
    assert bad_id.returncode == 2
    assert "order_id" in bad_id.stderr
    bad_reference = cli(fake, served, "status", oid, "has space]")
    assert bad_reference.returncode == 2
    assert "reference" in bad_reference.stderr
    assert fake.requests == []


def test_status_of_an_order_wix_does_not_have_exits_1_naming_it(fake: FakeWix, served: str) -> None:
    missing = "00000000-0000-4000-8000-00000000abcd"
    result = cli(fake, served, "status", missing, "r-1", "--json")
    assert result.returncode == 1
    assert missing in result.stderr
    assert records(result.stdout)[-1]["type"] == "summary"
