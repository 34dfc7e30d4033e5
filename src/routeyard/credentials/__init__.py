"""Content Credentials for deliverables: the lineage signed as C2PA, the
IPTC/XMP AI marking, and an invisible watermark that survives re-encoding.

Data layer: it knows files, lineage trees and the signer, never the store's
internals; ``store.provenance`` calls it while exporting, and ``verify``
reads all three layers back from any file.
"""
