"""Places, memberships, host sites and their information sheets."""

from sites.models.places import (
    Commune,
    Department,
    HostSite,
    ManagingStructure,
    Membership,
    Region,
    Territory,
)
from sites.models.sheets import (
    AccommodationOffer,
    EquipmentItem,
    InfoSheet,
    KeyContact,
    ReadinessItem,
    SheetEquipment,
    SheetReadiness,
    missing_mandatory_items,
)

__all__ = [
    "AccommodationOffer",
    "Commune",
    "Department",
    "EquipmentItem",
    "HostSite",
    "InfoSheet",
    "KeyContact",
    "ManagingStructure",
    "Membership",
    "ReadinessItem",
    "Region",
    "SheetEquipment",
    "SheetReadiness",
    "Territory",
    "missing_mandatory_items",
]
