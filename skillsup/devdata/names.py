"""Invented Hong Kong names, shared by the demo and the benchmark data."""

from __future__ import annotations

import random

SURNAMES = (
    "Chan", "Wong", "Cheung", "Lau", "Lee", "Ng", "Ho", "Leung", "Tsang", "Yip", "Kwok",
    "Lam", "Tam", "Mak", "Chow", "Fung", "Siu", "Yuen", "Tse", "Poon", "Lo", "Choi", "Tang",
    "Law", "Au Yeung", "So", "Ma", "Kwan", "Cheng", "Hui", "Chu", "Ip",
)  # fmt: skip
# Given names by the English name they usually go with: (Chinese given names, English names).
GIVEN_NAMES = (
    (
        ("Tai Man", "Chun Hei", "Ho Yin", "Siu Fung", "Ming Hin", "Tsz Chun", "Kin Wah",
         "Chi Ho", "Ka Lok", "Wai Kit", "Tsz Kin", "Chun Yin", "Kwok Leung", "Ka Ho"),
        ("Jason", "Kelvin", "Ivan", "Marcus", "Kenneth", "Alvin", "Raymond", "Edmond",
         "Derek", "Terence", "Eric", "Gordon", "Brian", "Dickson"),
    ),
    (
        ("Ka Yan", "Wing Sze", "Hoi Yan", "Lok Yi", "Pui Shan", "Sau Ling", "Man Yi",
         "Yan Ting", "Wing Yan", "Hoi Ching", "Suk Man", "Mei Yee", "Hiu Tung", "Sze Wing"),
        ("Cheryl", "Mandy", "Tracy", "Chloe", "Winnie", "Janice", "Queenie", "Gigi", "Phoebe",
         "Karen", "Hazel", "Joyce", "Vivian", "Fiona"),
    ),
)  # fmt: skip


def invent_name(rng: random.Random) -> tuple[str, str]:
    """A full name, and the local part of an e-mail address made from it.

    About half the people go by an English name before their Chinese one.
    """
    surname = rng.choice(SURNAMES)
    given_names, english_names = rng.choice(GIVEN_NAMES)
    given = rng.choice(given_names)
    plain_surname = surname.replace(" ", "").lower()
    if rng.random() < 0.55:
        english = rng.choice(english_names)
        return f"{english} {surname} {given}", f"{english.lower()}.{plain_surname}"
    return f"{surname} {given}", f"{plain_surname}.{given.replace(' ', '').lower()}"
