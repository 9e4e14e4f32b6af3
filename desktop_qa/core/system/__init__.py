"""The platform under everything: child processes, files, the app's folders, onnxruntime.

``child`` runs jobs in a child process that can be stopped; ``files`` hashes and prunes;
``paths`` says where settings, cache and packs live (platformdirs); ``runtime`` is the
one way onnxruntime is imported.
"""
