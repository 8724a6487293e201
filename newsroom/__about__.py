__version__ = "0.1.0"
#: The distribution's name on the package index (``pip install newsroom-digest``). The
#: import package and the command are ``newsroom``; the name ``newsroom`` on the index
#: belongs to an unrelated project.
DISTRIBUTION = "newsroom-digest"
