"""Where each ranked unit stands as of a month: the yellow and red cards it was given up to that
month (黄牌/红牌, oldest first) and whether it was listed for rectification (挂牌整治) then."""
from dataclasses import dataclass, field

from sqlmodel import Session, select

from domain.circulation.models import Card, Listing


@dataclass
class Standing:
    cards: list[dict] = field(default_factory=list)  # [{"month": "2026-08", "colour": "yellow"}, …]
    listing: str | None = None  # listed | delisted | None (never listed up to the month)
    listed_month: str | None = None
    delisted_month: str | None = None

    def as_dict(self) -> dict:
        return {"cards": self.cards, "listing": self.listing, "listed_month": self.listed_month,
                "delisted_month": self.delisted_month}


def as_of(*, session: Session, unit_ids: set[int], month: str) -> dict[int, Standing]:
    """Two queries for all the units of a circulation, whatever their number."""
    result = {unit_id: Standing() for unit_id in unit_ids}
    if not unit_ids:
        return result
    cards = session.exec(select(Card.unit_id, Card.month, Card.colour)
                         .where(Card.unit_id.in_(unit_ids), Card.month <= month)
                         .order_by(Card.month, Card.id)).all()
    for unit_id, card_month, colour in cards:
        result[unit_id].cards.append({"month": card_month, "colour": colour})
    listings = session.exec(select(Listing).where(Listing.unit_id.in_(unit_ids), Listing.listed_month <= month)
                            .order_by(Listing.listed_month, Listing.id)).all()
    for listing in listings:  # the latest listing up to the month decides
        standing = result[listing.unit_id]
        over = listing.delisted_month is not None and listing.delisted_month <= month
        standing.listing = "delisted" if over else "listed"
        standing.listed_month = listing.listed_month
        standing.delisted_month = listing.delisted_month if over else None
    return result
