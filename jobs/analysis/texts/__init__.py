"""Texts: documents and their extraction (converting: reStructuredText and HTML;
structure: hard wraps, tables, lists), sentences with offsets, ranking with an offline
vocabulary, answering a question's form, statistics from tables and prose, citing, and
the review and deep-dive analyses. Imports only jobs.models and each other.
"""
