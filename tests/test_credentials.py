from __future__ import annotations

import pytest

from wix_refunds import InvalidCredentials, WixCredentials

KEY = "IST.eyJraWQiOiJQb3pIX2FDMiIsImFsZyI6IlJTMjU2In0.payload.signature"
ACCOUNT = "f728b4fa-4248-4e3a-8a5d-2f346baa9455"
SITE = "eb1167b3-67a9-4378-bc65-c1e582e2e662"


@pytest.mark.parametrize(
    "pasted",
    [
        SITE,
        f"  {SITE}\n",
        f'"{SITE}"',
        f"'{SITE}'",
        f"\u00a0\u200b{SITE}\ufeff",
        f"“{SITE}”",
        SITE.upper(),
        f"https://manage.wix.com/dashboard/{SITE}/home",
        f"https://manage.wix.com/dashboard/{SITE}",
        f" 'https://manage.wix.com/dashboard/{SITE}/store/orders?referralInfo=sidebar' ",
    ],
)
def test_pasted_site_id_is_cleaned_up(pasted: str) -> None:
    assert WixCredentials(api_key=KEY, account_id=ACCOUNT, site_id=pasted).site_id == SITE


def test_pasted_key_and_account_are_stripped_of_spaces_and_quotes() -> None:
    creds = WixCredentials(api_key=f' "{KEY}"\u200b ', account_id=f"\t{ACCOUNT.upper()} ", site_id=SITE)
    assert creds.api_key == KEY
    assert creds.account_id == ACCOUNT


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("site_id", "", "empty"),
        ("site_id", "my-shop", "neither a GUID nor a dashboard URL"),
        ("site_id", "https://manage.wix.com/dashboard/not-a-guid/home", "neither a GUID"),
        ("site_id", SITE[:-1], "neither a GUID"),
        ("account_id", "  ", "empty"),
        ("account_id", "12345", "not a GUID"),
        ("api_key", "", "empty"),
        ("api_key", "IST.x9q", "too short"),
        ("api_key", "IST.abc def ghi jkl mno pqr", "spaces"),
        ("api_key", "IST.ключ-ключ-ключ-ключ-ключ", "non-ASCII"),
    ],
)
def test_bad_credential_names_the_field_and_what_is_wrong(field: str, value: str, problem: str) -> None:
    values = {"api_key": KEY, "account_id": ACCOUNT, "site_id": SITE, field: value}
    with pytest.raises(InvalidCredentials, match=problem) as info:
        WixCredentials(**values)
    assert info.value.field == field
    if field == "api_key" and value:
        assert value not in str(info.value)


def test_key_is_never_in_repr_or_str() -> None:
    creds = WixCredentials(api_key=KEY, account_id=ACCOUNT, site_id=SITE)
    assert KEY not in repr(creds)
    assert KEY not in str(creds)
    assert "'***'" in repr(creds)
    assert SITE in repr(creds)


def test_from_env_reads_the_three_variables() -> None:
    env = {
        "WIX_API_KEY": KEY,
        "WIX_ACCOUNT_ID": ACCOUNT,
        "WIX_SITE_ID": f"https://manage.wix.com/dashboard/{SITE}/home",
    }
    assert WixCredentials.from_env(env) == WixCredentials(api_key=KEY, account_id=ACCOUNT, site_id=SITE)


@pytest.mark.parametrize("missing", ["WIX_API_KEY", "WIX_ACCOUNT_ID", "WIX_SITE_ID"])
def test_from_env_names_a_missing_variable(missing: str) -> None:
    env = {"WIX_API_KEY": KEY, "WIX_ACCOUNT_ID": ACCOUNT, "WIX_SITE_ID": SITE}
    env[missing] = " "
    with pytest.raises(InvalidCredentials, match=missing):
        WixCredentials.from_env(env)


def test_credentials_are_frozen() -> None:
    creds = WixCredentials(api_key=KEY, account_id=ACCOUNT, site_id=SITE)
    with pytest.raises(AttributeError):
        creds.site_id = ACCOUNT  # type: ignore[misc]
