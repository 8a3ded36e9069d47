"""The worker: what runs jobs in a worker process. `process.Worker` owns the job threads,
the keeper (keeper.py), the database slots and the sweep (recovery.py); claiming.py
claims jobs, attempts.py runs one attempt and writes how it ended; supervision.py ends
the process when a thread it cannot run without dies.

Imported only by jobs.engine.tasks (django-q2's entry), jobs.engine.running (a job run
by hand), jobs.apps and jobs.management (pyproject.toml's protected contract): the rest
of the app uses the engine's public modules (submitting, context, registry, timeline).
"""
