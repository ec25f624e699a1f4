"""genphys: the package of the book *Generative AI as Physics*.

Each module is one concept of the book, named for it; the chapters import it
and the tests check it against reference libraries.  Importing ``genphys``
reads no files, touches no network and does not import torch.
"""

from genphys.environment import about, versions

#: The version of the package.
__version__ = "0.1.0"
__all__ = ["about", "versions", "__version__"]
