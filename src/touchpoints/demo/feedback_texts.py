"""What customers write, by topic and feeling, and how chats, emails and posts are put together."""

from __future__ import annotations

from collections.abc import Sequence

NEGATIVE, NEUTRAL, POSITIVE = 0, 1, 2
COMPANY_HANDLE = "@brightwingair"

# Placeholders: {airport}, {flight}, {delay} and {wait} (minutes of delay or on hold, from the
# linked event when there is one), {minutes} and {hours} (any plausible duration).
TOPIC_SENTENCES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "delay": (
        ("{flight} left {delay} minutes late and nobody told us why.",
         "We sat at the gate in {airport} for {hours} hours with no updates at all.",
         "Another delay. I missed my connection and had to pay for a hotel myself.",
         "The delay was bad enough, but the silence from staff was worse."),
        ("We were delayed a bit but it was handled okay.",
         "A short delay out of {airport}, nothing dramatic.",
         "The flight was late but the captain kept us informed."),
        ("Left and landed right on time, which is all I ask.",
         "{flight} was early into {airport}, great job.",
         "Punctual as always, even on a busy Friday."),
    ),
    "baggage": (
        ("My suitcase never arrived in {airport} and the claim form goes nowhere.",
         "Waited {minutes} minutes at the belt only to find my bag had been damaged.",
         "Lost luggage for the second time this year. Unacceptable."),
        ("Bags took a while at the belt but arrived fine.",
         "The bag drop was quick, the belt at {airport} less so."),
        ("Bags were on the belt before we got there.",
         "Bag drop took two minutes, brilliant.",
         "They found my missing bag and delivered it to the hotel the same evening."),
    ),
    "seat_comfort": (
        ("The seats are cramped and my knees were against the seat in front for {hours} hours.",
         "Broken recline and a dirty tray table on {flight}.",
         "Far too hot in the cabin and the seat was filthy."),
        ("Seats are what you expect for a short flight.",
         "Legroom is tight but fine for an hour or two."),
        ("Comfortable seats and a spotless cabin.",
         "The extra legroom seat was worth every cent.",
         "Clean, quiet cabin, I slept the whole way."),
    ),
    "crew": (
        ("The cabin crew were rude when I asked for water.",
         "Crew ignored the call button for the whole flight."),
        ("Crew were polite but rushed.",
         "Service on board was fine, nothing special."),
        ("The cabin crew were wonderful with our kids.",
         "Friendly, funny crew on {flight}, they made the trip.",
         "A crew member went out of her way to help my elderly mother.",
         "Lovely welcome on board and genuinely kind staff."),
    ),
    "food": (
        ("The sandwich was stale and cost a fortune.",
         "They ran out of food before reaching our row.",
         "Nothing vegetarian on the menu again."),
        ("Food was okay, a bit pricey for what it is.",
         "Coffee was drinkable, snacks were average."),
        ("Surprisingly good hot breakfast on board.",
         "Nice local snacks and decent coffee."),
    ),
    "app_website": (
        ("The app crashed three times during check-in.",
         "Your website would not take my payment and then charged me twice.",
         "Could not download my boarding pass, had to queue at the desk instead.",
         "Changing a date online is impossible, the page just times out."),
        ("The app works, although it is slow to load.",
         "Booking online was fine once I found the right fare."),
        ("Checked in on the app in under a minute.",
         "The app is clear and the boarding pass in the wallet is handy.",
         "Rebooking on the website was quick and easy."),
    ),
    "refund": (
        ("Still waiting for my refund after {hours} weeks.",
         "I was offered a voucher instead of the refund I am entitled to.",
         "The compensation claim for {flight} was rejected without a reason."),
        ("The refund came through eventually.",
         "Refund process is slow but it worked."),
        ("Refund was in my account within five days, thank you.",
         "Compensation for the delay was paid without any hassle."),
    ),
    "check_in_queue": (
        ("The check-in queue in {airport} took over an hour with two desks open.",
         "Huge queue at bag drop and staff sending people back and forth."),
        ("Some queueing at check-in but it moved.",
         "Check-in at {airport} was busy but organised."),
        ("No queue at all at check-in.",
         "Check-in staff in {airport} were fast and friendly."),
    ),
    "price": (
        ("Prices keep going up while the service gets worse.",
         "Paying extra for a seat and a bag makes the cheap fare a joke.",
         "Hidden fees everywhere on the booking page."),
        ("Prices are about the same as everyone else.",
         "Not the cheapest, not the dearest."),
        ("Great value for money on this route.",
         "The sale fare was a bargain and the service was still good."),
    ),
    "loyalty_points": (
        ("My Brightwing Club points from the last three flights never showed up.",
         "I lost my Gold status because points were missing, and support cannot explain it."),
        ("Points arrive, but the rewards are hard to use.",
         "The club is fine, nothing more."),
        ("Love the Brightwing Club, the upgrade with points was easy.",
         "Being Gold really pays off, priority boarding every time."),
    ),
    "boarding": (
        ("Boarding was chaos, no groups, everyone pushing at the gate.",
         "They forced my small cabin bag into the hold at the gate."),
        ("Boarding was a bit slow but okay.",
         "Gate changed once, but it was announced."),
        ("Smooth boarding by groups, very well organised.",
         "Gate staff in {airport} were calm and efficient."),
    ),
    "security_queue": (
        ("Security in {airport} took {minutes} minutes and we nearly missed the flight.",
         "Only one security lane open at six in the morning."),
        ("Security was busy, as usual.",
         "Security queue was long but moved steadily."),
        ("Through security in ten minutes.",
         "Security at {airport} was quick for once."),
    ),
    "customer_service": (
        ("I waited {wait} minutes on hold and then got cut off.",
         "The agent could not help and had no idea what to do.",
         "Three calls, three different answers."),
        ("The agent was polite but I had to explain everything twice.",
         "Got an answer in the end."),
        ("The agent sorted everything out in one call.",
         "Really helpful person on the phone, solved it straight away.",
         "Quick, friendly answer from your support team."),
    ),
}  # fmt: skip

AGENT_REPLIES = {
    "delay": "I am sorry about the delay on {flight}. I have added a meal voucher and "
    "opened a compensation claim for you.",
    "refund": "I can see the refund request; I have escalated it to our billing team "
    "and you will hear back within five working days.",
    "baggage": "I have traced your bag; it is in {airport} and will be delivered to you tomorrow.",
    "app_website": "Sorry for the trouble with the app. I have checked you in from here "
    "and sent the boarding pass by email.",
    "loyalty_points": "I have added the missing points manually; they will show in 24 hours.",
}
DEFAULT_AGENT_REPLY = "Thanks for reaching out, let me look into this for you right away."
CHAT_CLOSINGS = (
    ("That is not good enough. I want to speak to a manager.",
     "Honestly, I am done with Brightwing after this."),
    ("Okay, I will wait and see.",
     "Fine, thanks."),
    ("Perfect, thank you so much!",
     "Great, that was quick. Thanks!"),
)  # fmt: skip
EMAIL_SUBJECTS = {
    "delay": "Delay on flight {flight}",
    "refund": "Refund request",
    "baggage": "Missing bag",
    "customer_service": "Complaint about your service",
    "app_website": "Problem with the website",
}
DEFAULT_EMAIL_SUBJECT = "My recent trip"
REVIEW_TITLES = (
    ("Never again", "Disappointing", "Avoid if you can", "Terrible experience"),
    ("Okay for the price", "Average", "Mixed feelings"),
    ("Great airline", "Lovely trip", "Highly recommended", "Will fly again"),
)  # fmt: skip
APP_TITLES = (
    ("Crashes all the time", "Useless at check-in", "Buggy"),
    ("Does the job", "Could be faster"),
    ("Great app", "Easy check-in", "Love it"),
)  # fmt: skip
SOCIAL_TAGS = ("", "", " #travel", " #fail", " #holiday", " #delayed", " #avgeek")

# A few comments in the languages of the continental stations, with the topic they are about.
LOCAL_SENTENCES: dict[str, tuple[tuple[tuple[str, str], ...], ...]] = {
    "fr": (
        (("delay", "Encore un retard et aucune information."),
         ("baggage", "Ma valise est arrivée abîmée.")),
        (("price", "Correct pour le prix."),
         ("crew", "Service correct, sans plus.")),
        (("crew", "Équipage très aimable, merci !"),
         ("delay", "Vol parfaitement à l'heure.")),
    ),
    "de": (
        (("delay", "Schon wieder Verspätung und keine Durchsagen."),
         ("check_in_queue", "Die Schlange am Check-in war eine Zumutung.")),
        (("seat_comfort", "Sitze eng, aber für kurze Flüge in Ordnung."),
         ("food", "Essen war okay.")),
        (("crew", "Sehr freundliche Crew, gerne wieder."),
         ("app_website", "Check-in mit der App ging schnell.")),
    ),
    "nl": (
        (("baggage", "Mijn koffer is kwijt en niemand helpt."),
         ("delay", "Weer vertraging, zonder uitleg.")),
        (("price", "Prima voor de prijs."),),
        (("crew", "Vriendelijke bemanning en op tijd geland."),
         ("app_website", "Inchecken via de app was heel makkelijk.")),
    ),
    "es": (
        (("delay", "Otro retraso y nadie nos explicó nada."),
         ("refund", "Sigo esperando el reembolso.")),
        (("food", "La comida, normal."),),
        (("crew", "La tripulación fue encantadora."),
         ("delay", "Puntual y cómodo, repetiré.")),
    ),
}  # fmt: skip


def second_topic(draw: int) -> str:
    """Return a topic for a comment's second sentence."""
    topics = sorted(TOPIC_SENTENCES)
    return topics[draw % len(topics)]


def sentence(topic: str, feeling: int, draw: int, context: dict[str, str]) -> str:
    """Return one comment sentence about a topic with a feeling (0 bad, 1 so-so, 2 good)."""
    options = TOPIC_SENTENCES[topic][feeling]
    return options[draw % len(options)].format(**context)


def comment(
    topics: Sequence[str], feelings: Sequence[int], draws: Sequence[int], context: dict[str, str]
) -> str:
    """Return a comment made of one sentence per topic."""
    return " ".join(
        sentence(topic, feeling, draw, context)
        for topic, feeling, draw in zip(topics, feelings, draws, strict=False)
    )


def local_comment(language: str, feeling: int, draw: int) -> tuple[str, str]:
    """Return a comment in a local language and the topic it is about."""
    options = LOCAL_SENTENCES[language][feeling]
    topic, text = options[draw % len(options)]
    return text, topic


def chat_transcript(
    opening: str, topic: str, feeling: int, draw: int, context: dict[str, str]
) -> str:
    """Return a chat with speaker turns: the customer's problem, the agent, the outcome."""
    reply = AGENT_REPLIES.get(topic, DEFAULT_AGENT_REPLY).format(**context)
    closings = CHAT_CLOSINGS[feeling]
    return (
        f"Customer: Hi, {opening[0].lower()}{opening[1:]}\n"
        f"Agent: {reply}\n"
        f"Customer: {closings[draw % len(closings)]}"
    )


def email_message(
    body: str, topic: str, first_name: str, context: dict[str, str]
) -> tuple[str, str]:
    """Return the subject and body of a customer's email to the airline."""
    subject = EMAIL_SUBJECTS.get(topic, DEFAULT_EMAIL_SUBJECT).format(**context)
    return subject, f"Hello Brightwing team,\n\n{body}\n\nKind regards,\n{first_name}"


def social_post(body: str, draw: int) -> str:
    """Return a public post that mentions the airline."""
    return f"{COMPANY_HANDLE} {body}{SOCIAL_TAGS[draw % len(SOCIAL_TAGS)]}"


def title(titles: tuple[tuple[str, ...], ...], feeling: int, draw: int) -> str:
    """Return a review title for a feeling."""
    options = titles[feeling]
    return options[draw % len(options)]
