"""The OpenAI-compatible provider (chat.py) and the sanitizing of its Markdown for pages
(rendering.py). Imports only settings and its libraries: no models, no engine.
"""
