"""The kinds of entity, in the order pages list them: shared by ingest's language rules and the build.

A module of its own so that a build, which only reads the types from front matter,
does not import the rules (and compile their regular expressions) to learn them.
"""

TYPES = ("person", "organization", "place")
TYPE_ORDER = {t: i for i, t in enumerate(TYPES)}  # ties between types go to the first
