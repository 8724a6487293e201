"""The contract every stage and plugin shares, at the bottom of the house: the data
(:mod:`.model`), what is safe to show (:mod:`.sanitize`), the component base classes and
their contexts (:mod:`.components`, :mod:`.transport`), the hooks (:mod:`.hookspecs`), how
plugins are found and registered (:mod:`.plugins`, :mod:`.registry`), and the errors and
exit codes. It imports nothing from the folders above it."""
