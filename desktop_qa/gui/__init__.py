"""The Qt desktop window: a thin view over the Qt-free core.

``session.Session`` holds the state (document, model, query, answers) and runs
the core's plain generators in worker threads; the widgets only display it and
dispatch user actions. Nothing in ``desktop_qa.core`` imports this package.
"""
