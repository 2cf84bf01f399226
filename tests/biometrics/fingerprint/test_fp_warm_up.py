"""The server compiles the fingerprint search's kernels before its first request."""

from __future__ import annotations

from leds.biometrics.fingerprint import _vote, gallery, mcc_match


def test_warm_up_compiles_every_search_kernel() -> None:
    gallery.warm_up()
    for kernel in (
        _vote._cells,
        _vote._partition,
        _vote._sum_and_best,
        mcc_match._many,
    ):
        assert kernel.signatures, kernel  # compiled (or loaded from the cache) for a search
