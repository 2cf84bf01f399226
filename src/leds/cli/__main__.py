"""``python -m leds.cli``: the same as the ``leds`` command."""

from leds.cli import main

main()
