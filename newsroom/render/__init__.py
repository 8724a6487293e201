"""Turning an edition into outputs: themes (:mod:`.themes`, :mod:`.environment`,
:mod:`.jinja_cache`, :mod:`.new_theme`), the render step (:mod:`.rendering`), and what is done
with the web edition: :mod:`.preview` and :mod:`.publishing` (through :mod:`.safe_folder`)."""
