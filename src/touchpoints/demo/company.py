"""The fictional airline of the demo: its stations, journeys, touchpoints, segments and staff."""

from __future__ import annotations

from dataclasses import dataclass

from touchpoints.auth.permissions import Role
from touchpoints.journeys.models import Channel

COMPANY_NAME = "Brightwing Air"
WORKSPACE_NAME = f"{COMPANY_NAME} (demo)"
FLIGHT_PREFIX = "BW"
LOYALTY_PREFIX = "BWC"


@dataclass(frozen=True)
class Station:
    """An airport station: the org unit most data is scoped to."""

    code: str
    name: str
    share: float  # share of customers living near it
    quality: float  # how much better (or worse) the experience is here than on average
    language: str  # the local language some comments are written in
    local_share: float  # share of comments in that language


@dataclass(frozen=True)
class Region:
    """A group of stations run by one regional manager."""

    code: str
    name: str
    stations: tuple[Station, ...]


REGIONS = (
    Region(
        "uk-ie",
        "UK & Ireland",
        (
            Station("LGW", "London Gatwick", 0.20, 0.05, "en", 0.0),
            Station("MAN", "Manchester", 0.12, -0.30, "en", 0.0),
            Station("EDI", "Edinburgh", 0.07, 0.10, "en", 0.0),
            Station("DUB", "Dublin", 0.08, 0.0, "en", 0.0),
        ),
    ),
    Region(
        "west",
        "Western Europe",
        (
            Station("AMS", "Amsterdam", 0.10, 0.20, "nl", 0.12),
            Station("CDG", "Paris Charles de Gaulle", 0.10, -0.10, "fr", 0.18),
            Station("FRA", "Frankfurt", 0.08, 0.05, "de", 0.18),
        ),
    ),
    Region(
        "south",
        "Southern Europe",
        (
            Station("BCN", "Barcelona", 0.07, 0.0, "es", 0.18),
            Station("FCO", "Rome Fiumicino", 0.06, -0.25, "en", 0.0),
            Station("LIS", "Lisbon", 0.06, 0.15, "en", 0.0),
            Station("ATH", "Athens", 0.06, 0.0, "en", 0.0),
        ),
    ),
)
STATIONS = tuple(station for region in REGIONS for station in region.stations)
STATION_REGION = tuple(
    index for index, region in enumerate(REGIONS) for _station in region.stations
)
DESTINATIONS = ("NCE", "PMI", "MAD", "VIE", "CPH", "PRG", "MXP", "AGP", "ZRH", "OSL", "TFS")


@dataclass(frozen=True)
class TouchpointSpec:
    """A touchpoint, the topics customers mention there and how well it usually goes."""

    key: str
    stage: str
    name: str
    description: str
    channel: Channel
    owner: str
    topics: tuple[str, ...]
    effect: float = 0.0
    controllable: bool = True


@dataclass(frozen=True)
class JourneySpec:
    """A journey: its name, purpose and ordered stage names."""

    name: str
    description: str
    stages: tuple[str, ...]


JOURNEYS = (
    JourneySpec(
        "Book & prepare",
        "From the first search to a boarding pass in the pocket.",
        ("Inspire & search", "Book", "Prepare to fly"),
    ),
    JourneySpec(
        "Day of travel",
        "Airport, boarding, the flight itself and the bags at the other end.",
        ("At the airport", "Boarding", "In flight", "Arrival"),
    ),
    JourneySpec(
        "Help & loyalty",
        "Getting help, getting money back, and staying with us.",
        ("Get help", "Refunds & claims", "Loyalty & advocacy"),
    ),
)

_ANY_FLIGHT_TOPIC = ("crew", "seat_comfort", "delay", "food", "price", "baggage")

TOUCHPOINTS = (
    TouchpointSpec(
        "newsletter",
        "Inspire & search",
        "Newsletter & offers",
        "Fare sales and destination ideas.",
        Channel.EMAIL,
        "marketing",
        ("price", "loyalty_points"),
        0.1,
    ),
    TouchpointSpec(
        "website",
        "Inspire & search",
        "Website booking",
        "Search, choose a fare and pay on the website.",
        Channel.WEB,
        "digital",
        ("app_website", "price"),
        0.05,
    ),
    TouchpointSpec(
        "app",
        "Book",
        "Mobile app",
        "Booking, boarding passes and trip updates in the app.",
        Channel.APP,
        "digital",
        ("app_website",),
        0.1,
    ),
    TouchpointSpec(
        "payment",
        "Book",
        "Payment & invoice",
        "Card payment, receipts and VAT invoices.",
        Channel.EMAIL,
        "billing",
        ("price", "refund"),
        -0.05,
    ),
    TouchpointSpec(
        "manage",
        "Prepare to fly",
        "Manage booking",
        "Change dates, add bags, pick seats.",
        Channel.WEB,
        "digital",
        ("app_website", "price"),
        -0.15,
    ),
    TouchpointSpec(
        "online_check_in",
        "Prepare to fly",
        "Online check-in",
        "Check in and get a boarding pass.",
        Channel.APP,
        "digital",
        ("app_website",),
        0.1,
    ),
    TouchpointSpec(
        "check_in_desk",
        "At the airport",
        "Check-in & bag drop",
        "Desks and self-service bag drop.",
        Channel.STORE,
        "ground services",
        ("check_in_queue", "baggage"),
        -0.1,
    ),
    TouchpointSpec(
        "security",
        "At the airport",
        "Airport security queue",
        "Run by the airport, not by us.",
        Channel.STORE,
        "ground services",
        ("security_queue",),
        -0.45,
        controllable=False,
    ),
    TouchpointSpec(
        "gate",
        "Boarding",
        "Boarding gate",
        "Gate announcements, boarding groups, cabin bags.",
        Channel.STORE,
        "ground services",
        ("boarding", "delay"),
        -0.05,
    ),
    TouchpointSpec(
        "punctuality",
        "Boarding",
        "On-time departure",
        "Leaving and arriving on schedule.",
        Channel.OTHER,
        "operations",
        ("delay",),
        -0.2,
    ),
    TouchpointSpec(
        "weather",
        "Boarding",
        "Weather & air-traffic delays",
        "Storms, fog and air-traffic control restrictions.",
        Channel.OTHER,
        "operations",
        ("delay",),
        -0.3,
        controllable=False,
    ),
    TouchpointSpec(
        "crew",
        "In flight",
        "Cabin crew",
        "Welcome, safety and service on board.",
        Channel.OTHER,
        "inflight",
        ("crew",),
        0.45,
    ),
    TouchpointSpec(
        "food",
        "In flight",
        "Food & drinks on board",
        "Buy-on-board menu and drinks.",
        Channel.OTHER,
        "inflight",
        ("food", "price"),
        -0.25,
    ),
    TouchpointSpec(
        "seat",
        "In flight",
        "Seat & cabin comfort",
        "Legroom, cleanliness, temperature.",
        Channel.OTHER,
        "inflight",
        ("seat_comfort",),
        -0.15,
    ),
    TouchpointSpec(
        "baggage",
        "Arrival",
        "Baggage delivery",
        "Bags on the belt, lost and damaged bags.",
        Channel.STORE,
        "ground services",
        ("baggage",),
        -0.2,
    ),
    TouchpointSpec(
        "contact_centre",
        "Get help",
        "Contact centre",
        "Phone support, seven days a week.",
        Channel.PHONE,
        "customer service",
        ("customer_service", "refund"),
        -0.1,
    ),
    TouchpointSpec(
        "chat",
        "Get help",
        "Live chat",
        "Chat with an agent on the website and in the app.",
        Channel.CHAT,
        "customer service",
        ("customer_service", "refund"),
        0.0,
    ),
    TouchpointSpec(
        "support_email",
        "Get help",
        "Support email",
        "Written questions and complaints.",
        Channel.EMAIL,
        "customer service",
        ("refund", "baggage", "customer_service"),
        -0.2,
    ),
    TouchpointSpec(
        "social_care",
        "Get help",
        "Social media care",
        "Replies to posts that mention us.",
        Channel.SOCIAL,
        "customer service",
        ("delay", "customer_service", "crew", "baggage"),
        -0.1,
    ),
    TouchpointSpec(
        "refunds",
        "Refunds & claims",
        "Refunds & compensation",
        "Refunds, vouchers and delay claims.",
        Channel.WEB,
        "billing",
        ("refund",),
        -0.35,
    ),
    TouchpointSpec(
        "loyalty",
        "Loyalty & advocacy",
        "Brightwing Club",
        "Points, tiers and member benefits.",
        Channel.APP,
        "loyalty",
        ("loyalty_points",),
        0.15,
    ),
    TouchpointSpec(
        "review_site",
        "Loyalty & advocacy",
        "Third-party review site",
        "Public reviews on a travel site.",
        Channel.REVIEW_SITE,
        "marketing",
        _ANY_FLIGHT_TOPIC,
        -0.1,
        controllable=False,
    ),
)
TOUCHPOINT_INDEX = {touchpoint.key: index for index, touchpoint in enumerate(TOUCHPOINTS)}

# Touchpoints a post-flight survey asks about, and how often each is the one rated.
FLIGHT_TOUCHPOINTS = ("check_in_desk", "security", "gate", "crew", "food", "seat", "baggage")
FLIGHT_TOUCHPOINT_WEIGHTS = (0.14, 0.08, 0.1, 0.24, 0.14, 0.18, 0.12)

TIERS = ("blue", "silver", "gold", "platinum")
TIER_FEES = (0.0, 39.0, 89.0, 189.0)  # yearly Brightwing Club fee in EUR
TRAVEL_PURPOSES = ("leisure", "business")


@dataclass(frozen=True)
class SegmentSpec:
    """A customer segment and who belongs to it."""

    key: str
    name: str
    description: str


SEGMENTS = (
    SegmentSpec("silver", "Brightwing Club Silver", "Members in the Silver tier."),
    SegmentSpec("gold", "Brightwing Club Gold", "Members in the Gold tier."),
    SegmentSpec("platinum", "Brightwing Club Platinum", "Members in the Platinum tier."),
    SegmentSpec("business", "Business travellers", "Customers who mostly fly for work."),
    SegmentSpec("leisure", "Leisure travellers", "Customers who mostly fly on holiday."),
    SegmentSpec("high_value", "High value", "The top tenth of customers by expected spend."),
)


@dataclass(frozen=True)
class StaffSpec:
    """A demo user: their role and the org unit (region or station code) they are limited to."""

    local_part: str
    display_name: str
    role: Role
    scope: str | None


STAFF = (
    StaffSpec("regional.manager", "Rhea Okafor (UK & Ireland manager)", Role.MANAGER, "uk-ie"),
    StaffSpec("station.manager", "Tom Lindqvist (Manchester station)", Role.MANAGER, "MAN"),
    StaffSpec("analyst", "Priya Raman (CX analyst)", Role.ANALYST, None),
    StaffSpec("agent", "Lukas Meyer (Gatwick agent)", Role.AGENT, "LGW"),
    StaffSpec("viewer", "Ines Duarte (viewer)", Role.VIEWER, None),
)
