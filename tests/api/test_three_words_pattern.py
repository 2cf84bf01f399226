"""The schema's "at least 3 words" pattern says what the service's word count (``str.split``)
says, for every text: Schemathesis found a justification that the pattern let through (``\\S``
in ECMAScript takes \\x1c as a letter) and the service refused (``str.split`` takes it as space)."""

from __future__ import annotations

import re
from typing import Annotated

from hypothesis import given
from hypothesis import strategies as st
from pydantic import Field, TypeAdapter, ValidationError

from leds.api.schemas import THREE_WORDS

PATTERN = re.compile(THREE_WORDS)
PYDANTIC = TypeAdapter(Annotated[str, Field(pattern=THREE_WORDS)])  # Rust's regex engine


def pydantic_accepts(text: str) -> bool:
    try:
        PYDANTIC.validate_python(text)
    except ValidationError:
        return False
    return True


SPACES = [chr(c) for c in range(0x3001) if chr(c).isspace()]


@given(
    st.lists(
        st.one_of(st.sampled_from(SPACES), st.characters(), st.sampled_from("ab")), max_size=12
    ).map("".join)
)
def test_the_pattern_counts_words_as_the_service_does(text: str) -> None:
    service_accepts = len(text.split()) >= 3
    assert bool(PATTERN.fullmatch(text)) == service_accepts
    assert pydantic_accepts(text) == service_accepts


def test_the_characters_python_splits_on_separate_words() -> None:
    for space in SPACES:
        assert PATTERN.fullmatch(f"one{space}two{space}three"), repr(space)
        assert pydantic_accepts(f"one{space}two{space}three"), repr(space)
        assert not PATTERN.fullmatch(f"one{space}two"), repr(space)
        assert not pydantic_accepts(f"one{space}two"), repr(space)
