"""Linkage: one person across the source systems (Splink model, person index, review).

Import the submodules you need (kept free of heavy imports here):

* :mod:`leds.link.names` - name normalisation, nickname/transliteration variants, phonetic keys;
* :mod:`leds.link.frame` - person records from the store as a linkage frame;
* :mod:`leds.link.model` - train / save / load the Splink model;
* :mod:`leds.link.predict` - scored pairs (full or incremental);
* :mod:`leds.link.explain` - per-comparison match weights of two records;
* :mod:`leds.link.run` - ``link_full`` / ``link_incremental`` (model + person index);
* :mod:`leds.link.index`, :mod:`leds.link.review`, :mod:`leds.link.evaluate` - the person
  index, the review queue and evaluation.
"""
