"""Where suggestions are generated: the in-process model (server/engine.py) or a remote engine.

Every engine returns a `Completion` made by `base.finish`, so the post-processing, the stop rule
and the caches in completion_service.py are the same whichever engine wrote the raw text.
"""
