"""Data operations: a catalogue of what data is held, which algorithms ran on it, and what they achieved.

* **held** — every table of the lake: a department's feed or a derived result, its description, rows,
  days, how fresh it is, and where it came from (the feeds and files that landed it, the rows quarantined;
  for a result, the step that wrote it);
* **algorithms** — each analytic step as it last ran: its tables, the edition and the SHA-256 of every
  policy file it applied (``outputs/analysis.json``, written by :mod:`shuzhi.pipeline`), when and how long;
* **measures** — what the work achieved, measured on the lake: how many new cases were already under
  observation when diagnosed (what tracing is for), how long from onset to diagnosis, how many close
  contacts per case, how long they went on unaware before tracing could find them, how long from then to
  their first health check and to their observation, how many of their scheduled tests and daily health
  checks they made.

Everything here is counts and hashes: no personal data, so the catalogue is public
(``GET /public/catalogue``, ``shuzhi catalogue``).
"""

from shuzhi.catalogue.catalogue import Catalogue, catalogue

__all__ = ["Catalogue", "catalogue"]
