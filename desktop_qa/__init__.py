"""desktop-qa: offline find-in-document question answering."""

__version__ = "0.1.0"
