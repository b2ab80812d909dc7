"""Ordinary police posts are allowed: a family written for this test (never trained on, and not
copied from any evaluation set), in the shapes real traffic takes: one-line arrest reports,
charges with their lists, appeals, court results after a verdict, 'follow us', apps, recruitment,
replies to the public, links, mentions, hashtags and thread numbers."""

from __future__ import annotations

import pytest

from postguard.checks import Checker

ORDINARY = [
    # Neutral arrests and charges.
    "A 41-year-old man was arrested this morning.",
    "Police arrested a man on Main Street last night.",
    "A woman has been arrested in connection with the burglary.",
    "Officers were called to a disturbance on Quarry Lane. He was arrested at his home in Carrbridge this morning.",
    "Thank you for sharing our appeal for the missing quad bike. She has been charged with theft and released on bail.",
    "Two men have been arrested on suspicion of robbery after a shop was targeted in Castleton on Friday.",
    "A 34-year-old man was arrested and charged with robbery. He is due in court on Monday.",
    "#ARRESTED | Officers detained a 27-year-old woman in #Halton this afternoon on suspicion of "
    "assault. She remains in custody. https://t.co/Kd81mQzP2r",
    "Darnell Price, 29, of Westbury has been charged with burglary; theft of a motor vehicle; and "
    "driving while disqualified. He has been remanded to appear at Westbury Magistrates' Court tomorrow.",
    "| Arrest Made | Terrance Bell (B/M, 31) has been charged with Robbery with a Dangerous Weapon "
    "for his involvement in the June 4 robbery on Ramsey St. He is held under a $75,000 bond. "
    "https://t.co/8fJsa0LmQe",
    "UPDATE: The man arrested yesterday has now been released on bail pending further enquiries.",
    "Detectives investigating a stabbing in Eastfield have arrested a 19-year-old man. Enquiries continue.",
    # Appeals, wanted and missing.
    "WANTED | Can you help us find Colin Ashworth? The 38-year-old is wanted in connection with a "
    "burglary in #Ripon. Call 101 quoting 12210345678. https://t.co/Vb2nQpL0aa",
    "Have you seen Amelia? The 14-year-old has been missing from Thornbury since Tuesday. She is "
    "5ft 3in with long dark hair. Call 999 if you see her.",
    "UPDATE: Amelia has been found safe and well. Thank you to everyone who shared our appeal.",
    "Do you recognise this man? We'd like to speak to him about a theft from a shop on High Street on "
    "3 March. Call 101 quoting log 0456. https://t.co/PzX0a8mK2q",
    "We're appealing for witnesses after a collision on the A38 at 7.40pm yesterday. A man in his 50s "
    "was taken to hospital. #RoadSafety",
    # Court results after a verdict.
    "#JAILED | Kevin Morris, 45, has been jailed for six years after admitting supplying heroin in #Leeds.",
    "A man who stole from elderly neighbours has been sentenced to three years in prison at Bristol "
    "Crown Court. Full story: https://t.co/Lm3nB8xQ1z",
    "He is due to appear at Bradford Magistrates' Court on Monday 12 April.",
    # Follow us, apps, recruitment, the public.
    "Follow our new Instagram account for updates!",
    "Download our app to report crime online and get local alerts: https://t.co/AppLink123",
    "We're recruiting! Join us as a PCSO and make a difference in your community. Apply by 30 June: "
    "https://t.co/Join1234ab #PoliceJobs",
    "@jsmith_77 Hi John, thanks for letting us know. Please report it online or call 101 so an officer "
    "can look into it.",
    "@sarah_k Sorry to hear that, Sarah. You can report a lost phone through our website.",
    "1/3 Officers from our Neighbourhood Team will be at the Market Square from 10am on Saturday for a "
    "bike marking event. #BikeSafe",
    "Lock it or lose it: most vehicle crime happens to cars left unlocked overnight. #9PMRoutine",
    "Road closed: the B1234 is shut both ways at Millbrook after a collision. Please avoid the area.",
    "Flood Watch until 10PM. Turn around, don't drown.",
    "Congratulations to PC Amy Hartley, who received a commendation today for her work with young people.",
    "Our thoughts are with the family of retired Sergeant Tom Bell, who passed away peacefully this week.",
    "Officers will be at polling stations across the county on Thursday. Polls are open 7am to 10pm.",
    # Public-health guidance, a vote that is no election, the department's direct messages.
    "Stay at home. Protect the NHS. Save lives. Read the latest guidance: https://t.co/Gv9Rules01",
    "Our two new police puppies need names! Vote for your favourite in the poll below.",
    "Voting is open for our Volunteer of the Year award: pick your winner before Friday.",
    "@dan_r_88 Hi Dan, we've sent you a direct message. Thanks.",
    "@mel_k Sorry to hear this. Please DM us the details and we'll pass them to the local team.",
    # A killing whose victim is only described, not named.
    "Detectives investigating the death of a 52-year-old man in Ravensworth have arrested a second person.",
    "#ARREST | Police investigating the murder of two men in Kettleby Green have arrested a 24-year-old man.",
]

# The same shapes where they do take a side or sell something stay flagged.
NOT_ORDINARY = [
    ("Vote for Councillor Marsh on Thursday, our town needs her back!", "A.iv.political"),
    ("DM us for 10% off at my sister's nail bar this weekend!", "A.iv.private"),
    (
        "Detectives investigating the murder of a 16-year-old boy, Kai Dunmore, have made an arrest.",
        "A.iii.confidential",
    ),
    (
        "Detectives investigating the death of a woman in Halby have DNA from under her fingernails and "
        "await a database match.",
        "A.iii.confidential",
    ),
]


@pytest.mark.parametrize("text", ORDINARY)
def test_an_ordinary_post_is_allowed(checker: Checker, text: str) -> None:
    report = checker.check(text)
    assert report.decision == "allow", [(f.clause, f.evidence, f.trace) for f in report.findings]


@pytest.mark.parametrize(("text", "clause"), NOT_ORDINARY)
def test_the_same_shapes_taking_a_side_or_selling_are_flagged(
    checker: Checker, text: str, clause: str
) -> None:
    assert clause in {f.clause for f in checker.check(text).findings}


def test_a_named_juveniles_arrest_is_confidential_and_not_guilt(checker: Checker) -> None:
    # Naming a 16-year-old needs the written permission (A.iii.confidential); reporting the
    # arrest in the neutral shape, with a name and an age, says nothing of guilt.
    found = {f.clause for f in checker.check("Jordan Price (16) was arrested in Hove on Friday.").findings}
    assert found == {"A.iii.confidential"}
