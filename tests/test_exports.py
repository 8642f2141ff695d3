from __future__ import annotations

import wix_refunds


def test_public_names_are_sorted_and_all_importable() -> None:
    names = wix_refunds.__all__
    assert names == sorted(names)
    for name in names:
        assert hasattr(wix_refunds, name), name


def test_every_public_name_is_defined_in_a_private_module_or_the_package() -> None:
    for name in wix_refunds.__all__:
        if name == "__version__":
            continue
        module = getattr(getattr(wix_refunds, name), "__module__", "wix_refunds")
        assert module == "wix_refunds" or module.split(".")[-1].startswith("_"), (name, module)
