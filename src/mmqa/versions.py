"""Version constants that name what stored data was built by (a leaf module: it imports nothing).

``PARSER_VERSION`` goes into the index key (``Settings.index_key``): bump it whenever a parser change
alters chunk text or boundaries, so an index built by the old parser is never silently reused.
"""

PARSER_VERSION = "5"
