"""Made-up customer names and the reserved contact ranges that keep the demo fictional."""

from __future__ import annotations

FIRST_NAMES = (
    "Aaliyah", "Adam", "Agnes", "Aiden", "Alba", "Aleksander", "Alice", "Amara", "Amir", "Ana",
    "Anders", "Aoife", "Arjun", "Astrid", "Ben", "Bianca", "Bram", "Camille", "Carlos", "Chen",
    "Chloe", "Ciaran", "Daan", "Daniel", "Dara", "Diego", "Eleni", "Elias", "Elif", "Ella",
    "Emma", "Eva", "Fatima", "Felix", "Fenna", "Finn", "Freya", "Gabriel", "Giulia", "Grace",
    "Hamza", "Hana", "Hugo", "Ines", "Isla", "Ivan", "Jakub", "James", "Jana", "Javier",
    "Joana", "Jonas", "Julia", "Kai", "Karim", "Katarzyna", "Kofi", "Laila", "Lars", "Laura",
    "Leon", "Lina", "Lorenzo", "Lucia", "Luis", "Maeve", "Maja", "Marco", "Maria", "Mateo",
    "Maya", "Mehmet", "Mia", "Milan", "Nadia", "Niamh", "Nikos", "Noah", "Nora", "Olivia",
    "Omar", "Oscar", "Paula", "Pedro", "Pieter", "Priya", "Rafael", "Rosa", "Ruby", "Sami",
    "Sara", "Sean", "Sofia", "Sven", "Tariq", "Thea", "Theo", "Tomasz", "Valentina", "Wei",
    "Yara", "Yusuf", "Zara", "Zoe",
)  # fmt: skip

LAST_NAMES = (
    "Abbott", "Achterberg", "Alves", "Andersen", "Baker", "Barros", "Becker", "Bianchi",
    "Blom", "Boateng", "Brennan", "Byrne", "Carvalho", "Castillo", "Costa", "Dalton", "De Jong",
    "Dimitriou", "Doyle", "Dubois", "Eriksen", "Evans", "Fernandes", "Ferrari", "Fischer",
    "Fontaine", "Garcia", "Gallagher", "Greco", "Hansen", "Hartley", "Haddad", "Hoffmann",
    "Horvat", "Hughes", "Iglesias", "Jansen", "Kavanagh", "Keller", "Khan", "Kowalski",
    "Lambert", "Larsen", "Laurent", "Lindgren", "Lopes", "Lombardi", "Marino", "Martin",
    "Meijer", "Mendes", "Moreau", "Morris", "Murphy", "Nielsen", "Novak", "Nowak", "O'Brien",
    "Okafor", "Oliveira", "Papadopoulos", "Patel", "Perez", "Petit", "Quinn", "Ramos",
    "Ricci", "Richter", "Rossi", "Russo", "Santos", "Schmidt", "Schneider", "Silva", "Smits",
    "Sousa", "Svensson", "Taylor", "Thomas", "Torres", "Van Dijk", "Vasquez", "Visser",
    "Wagner", "Walsh", "Weber", "Williams", "Wojcik", "Young", "Zimmermann",
)  # fmt: skip

# Reserved names and numbers only, so no demo message can ever reach a real person:
# domains under the reserved .example and example.* names (RFC 2606), and UK numbers from
# the ranges Ofcom keeps for drama and demonstrations.
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example", "inbox.example")
EMAIL_DOMAIN_WEIGHTS = (0.3, 0.2, 0.15, 0.2, 0.15)
DRAMA_PHONE_PREFIXES = (
    "+442079460", "+441134960", "+441144960", "+441164960", "+441174960", "+441184960",
    "+441214960", "+441314960", "+441414960", "+441514960", "+441614960", "+441914980",
    "+442896496", "+442920180",
)  # fmt: skip
PHONE_BLOCK = 1_000
PHONE_CAPACITY = len(DRAMA_PHONE_PREFIXES) * PHONE_BLOCK

SOCIAL_WORDS = (
    "sky", "wander", "jet", "nomad", "travel", "sunny", "coffee", "runner", "globe", "citylife",
    "weekend", "beach", "mountain", "pixel", "daily",
)  # fmt: skip


def phone_number(index: int) -> str:
    """Return the `index`-th number of the reserved ranges (PHONE_CAPACITY of them)."""
    prefix = DRAMA_PHONE_PREFIXES[index // PHONE_BLOCK]
    return f"{prefix}{index % PHONE_BLOCK:03d}"
