"""Privacy at the door: keyed pseudonyms replace ID numbers before anything is stored.

``shuzhi.privacy.pseudonym`` owns the secret key file and the ID number → ``person_key`` mapping.
"""

from shuzhi.privacy.pseudonym import Pseudonymiser, load_or_create_key

__all__ = ["Pseudonymiser", "load_or_create_key"]
