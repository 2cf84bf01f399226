"""A child process for the audit log's reliability tests (run as a script, never imported).

    python log_child.py append TARGET KEYFILE COUNT     append COUNT events, print each seq
    python log_child.py reads  DATA LIMIT_BYTES COUNT  audited reads under a file-size limit

``append`` prints ``ready`` once the log is open, then ``ack <seq>`` after each commit (the
acknowledgement a caller would get). ``reads`` imports nothing first: it sets a file-size
limit (so writes fail with EFBIG as on a full disk), then prints ``ok <seq>`` for each
returned response and ``refused`` for each operation refused because it could not be recorded.
"""

from __future__ import annotations

import resource
import signal
import sys
from pathlib import Path


def main() -> None:
    mode, target, arg, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if mode == "reads":
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead
        limit = int(arg)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    from leds.errors import AuditFailure
    from leds.governance.audit import AuditEvent
    from leds.governance.audit.keys import load_or_create_signer
    from leds.governance.audit.log import AuditLog
    from leds.governance.authn import AuthenticatedUser
    from leds.governance.identity import Actor, PurposeStatement
    from leds.model.codes import AuditKind
    from leds.service import Service
    from leds.store import open_store

    if mode == "append":
        store = open_store(target)
        log = AuditLog(store, load_or_create_signer(Path(arg)), checkpoint_every=50)
        actor = Actor("writer", "constable", "WYP")
        purpose = PurposeStatement.of("stop", "reliability test of the audit log")
        print("ready", flush=True)
        for i in range(count):
            event = AuditEvent(AuditKind.CONSULTATION, "search_person", actor, purpose, {"i": i})
            with store.transaction() as conn:
                seq = log.append(conn, event)
            print("ack", seq, flush=True)
        return
    service = Service.open(Path(target))
    actor = AuthenticatedUser(Actor("steward1", "data-steward", "LEDS"), True, True, "password")
    purpose = PurposeStatement.of("admin-process", "reading under a full disk")
    print("ready", flush=True)
    for _ in range(count):
        try:
            result = service.list_imports(actor, purpose)
        except AuditFailure:
            print("refused", flush=True)
        else:
            print("ok", result.audit_seq, flush=True)


if __name__ == "__main__":
    main()
