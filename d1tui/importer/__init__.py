"""D1's import protocol as a generator of events; the one door is ``run.run_import``.

Where a change goes:

* ``run.py``       the door: ``run_import`` runs the stages in a thread and yields their events.
* ``stages.py``    HASH → INIT → UPLOAD → INGEST → POLL → VERIFY, read top to bottom.
* ``recovery.py``  endings D1 does not report: a lost ingest answer, "not importing", an
                   unreachable API during polls (``patience``), a cancel (stop polling).
* ``counts.py``    row counts before and after, the verdicts told from them, the VERIFY stage.
* ``rerun.py``     before a rerun sends anything: did an interrupted earlier import commit?
* ``records.py``   the small JSON record each import writes before it starts (state dir).
* ``context.py``   ``ImportRun``: client, database, prepared file, options, emit, pause.
* ``options.py``   ``ImportOptions``: every tunable (deadline, poll pacing, patience, force).
* ``prepared.py``  ``PreparedImport``: the finished ``.sql`` file the converters hand over.
"""
