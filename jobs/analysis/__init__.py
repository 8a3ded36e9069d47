"""The deterministic analysis the kinds run: tables/ (profiling a database table into a
semantic model) and texts/ (documents, sentences, ranking, reviews, deep dives).

May import jobs.models and Django's database layer; never the engine, kinds, provider or
the HTTP layers.
"""
