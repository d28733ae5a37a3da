"""Synthetic e-mail addresses: realistic-looking, lowercase and unique per person.

Every person the simulator invents (customer, newsletter-only subscriber,
referred friend who never bought) has a *person key*, an integer unique across
the data set; the address embeds it, so addresses never collide.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

FIRST_NAMES = (
    "olivia",
    "emma",
    "ava",
    "sophia",
    "mia",
    "amelia",
    "harper",
    "evelyn",
    "abigail",
    "emily",
    "ella",
    "chloe",
    "lucy",
    "grace",
    "hannah",
    "lea",
    "marie",
    "julia",
    "sarah",
    "laura",
    "clara",
    "anna",
    "ines",
    "lucia",
    "sofia",
    "noah",
    "liam",
    "oliver",
    "elijah",
    "james",
    "william",
    "lucas",
    "henry",
    "jack",
    "leo",
    "thomas",
    "louis",
    "paul",
    "hugo",
    "max",
    "felix",
    "jonas",
    "daniel",
    "pablo",
    "mateo",
    "david",
    "samuel",
)
LAST_NAMES = (
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "wilson",
    "taylor",
    "anderson",
    "thomas",
    "moore",
    "martin",
    "jackson",
    "white",
    "harris",
    "clark",
    "lewis",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "green",
    "baker",
    "adams",
    "nelson",
    "hill",
    "campbell",
    "mitchell",
    "roberts",
    "murphy",
    "tremblay",
    "roy",
    "gagnon",
    "muller",
    "schmidt",
    "schneider",
    "fischer",
    "weber",
    "dubois",
    "moreau",
    "laurent",
    "bernard",
    "devries",
    "jansen",
    "bakker",
    "fernandez",
    "lopez",
    "martinez",
    "sanchez",
)
DOMAINS = (
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "proton.me",
    "gmx.de",
    "web.de",
    "orange.fr",
    "btinternet.com",
    "live.nl",
    "shaw.ca",
)
DOMAIN_WEIGHTS = np.array([40, 9, 12, 8, 10, 2, 4, 3, 4, 3, 2, 3], dtype=float)


def make_emails(person_keys: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """One address per person key, e.g. ``emma.garcia1042@gmail.com``.

    Four local-part shapes (``first.last``, ``first_last``, ``flast``, ``firstlast``)
    followed by the person key; the key makes every address unique.
    """
    n = len(person_keys)
    first = pa.array(FIRST_NAMES).take(pa.array(rng.integers(0, len(FIRST_NAMES), n)))
    last = pa.array(LAST_NAMES).take(pa.array(rng.integers(0, len(LAST_NAMES), n)))
    domain = pa.array(DOMAINS).take(
        pa.array(rng.choice(len(DOMAINS), n, p=DOMAIN_WEIGHTS / DOMAIN_WEIGHTS.sum()))
    )
    shape = pa.array(rng.choice(4, n, p=[0.45, 0.2, 0.2, 0.15]).astype(np.int8))
    initial = pc.utf8_slice_codeunits(first, 0, 1)
    local = pc.choose(
        shape,
        pc.binary_join_element_wise(first, last, "."),
        pc.binary_join_element_wise(first, last, "_"),
        pc.binary_join_element_wise(initial, last, ""),
        pc.binary_join_element_wise(first, last, ""),
    )
    number = pc.cast(pa.array(np.asarray(person_keys, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(local, number, "@", domain, "")


def break_emails(emails: pa.Array) -> pa.Array:
    """Make addresses invalid (no ``@``): ``emma.garcia1042.at.gmail.com``."""
    return pc.replace_substring(emails, "@", ".at.")
