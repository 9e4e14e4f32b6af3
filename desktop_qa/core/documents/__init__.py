"""Stage 1, documents: a file becomes a ``Document`` (text, every character's page and box).

PDF and e-books through PyMuPDF (``pdf``), text files (``decoding``), Office, web and
e-mail files through ``formats``, scanned pages through ``ocr``; checks on the input
before it is read (``inputs``); page furniture, outline and page labels; finding words
(``find``) and drawing pages (``render``) for the viewer. Nothing here knows about
questions, the index or the model.
"""
