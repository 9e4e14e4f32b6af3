"""Storage beside the pipeline: what is kept between runs.

``cache`` keeps a document's extracted text, passages and index in one SQLite file;
``content`` is the stored-content format shared with the ``library`` (watched folders
of documents asked as one scope); ``settings`` is the user's settings file.
"""
