"""The OpenAI-compatible provider (chat.py), the sanitizing of its Markdown for pages
(rendering.py), and a document's text as a page to read, a cited passage marked
(reading.py). Imports only settings and its libraries: no models, no engine.
"""
