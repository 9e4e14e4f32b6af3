"""CLI sub-commands, one module each; each exposes ``add_parser(subparsers)``.

``add_parser`` registers the sub-command and sets ``func`` (``args -> int``)
as the parser default. Raise ``UserError`` for bad input: ``cli.main`` turns it
into one ``error:`` line and exit code 2.
"""
