"""Client overhead: WixClient.get_order against a bare httpx.Client reading the same URL.

Both talk to FakeWix served on loopback from its own process and reuse one connection; the bare client
sends the same headers and decodes the JSON. Goal: at most 1.15x.
Run: python benchmarks/client_overhead.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from _common import compare, machine
from _server import served

from wix_refunds import WixClient, WixCredentials


def main() -> None:
    with served("--orders", "5") as fake, httpx.Client() as bare_http, httpx.Client() as client_http:
        base_url = fake["base_url"]
        order_id = Path(fake["ids"]).read_text().split()[1]
        credentials = WixCredentials(api_key=fake["api_key"], account_id=fake["account_id"], site_id=fake["site_id"])
        client = WixClient(credentials, base_url=base_url, http_client=client_http, rate_limit=None)
        url = f"{base_url}/ecom/v1/orders/{order_id}"
        headers = {"Authorization": fake["api_key"], "wix-site-id": fake["site_id"], "Accept": "application/json"}

        def bare() -> None:
            response = bare_http.get(url, headers=headers)
            response.raise_for_status()
            response.json()

        def wix() -> None:
            client.get_order(order_id)

        for _ in range(50):  # warm both connections
            bare()
            wix()
        wix_s, bare_s = compare(wix, bare, number=100, rounds=30)
    print(f"machine: {machine()}")
    print(f"bare httpx.Client GET + json: {bare_s * 1e6:8.1f} us per read")
    print(f"WixClient.get_order:          {wix_s * 1e6:8.1f} us per read")
    print(f"ratio: {wix_s / bare_s:.3f}x (goal <= 1.15x)")


if __name__ == "__main__":
    main()
