"""Search (issue #5): candidate retrieval on indexed keys in the store, then scoring.

Modules (each function takes a SQLAlchemy ``Connection`` and returns plain dataclasses that
carry the record ids, and person ids, they show, for the caller's audit entry; only
:mod:`leds.service` calls them):

* :mod:`~leds.search.persons` ``search_persons`` (QUEST-like: exact / phonetic / fuzzy,
  wildcards, variants, aliases, dates, description, postcode, identifiers; facets, paging);
* :mod:`~leds.search.vehicles` ``search_vehicles`` (VODS-like partial marks with ``?``/``*``,
  confusables folded; VIN, make, model, colour, keeper postcode, markers);
* :mod:`~leds.search.property` ``search_property``; :mod:`~leds.search.identifiers`
  ``lookup_identifier``; :mod:`~leds.search.text` ``search_text`` (FTS5 / tsvector);
* :mod:`~leds.search.views` ``person_view`` and ``vehicle_view`` (consolidated, with
  provenance and cross-source conflicts);
* :mod:`~leds.search.index` ``build_indexes``, ``index_records`` (after an import),
  ``unindex_record`` (before an erasure); :mod:`~leds.search.weights` ``model_weights``
  (scoring weights from the saved linkage model).
"""

from __future__ import annotations
