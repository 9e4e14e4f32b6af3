"""OCR of pages without a text layer: Tesseract in a child process (``pages`` drives it).

``engine`` runs one page, ``layout`` puts the words in reading order, ``languages``
finds the language data, ``store`` keeps each page's words so a stopped OCR resumes.
"""
