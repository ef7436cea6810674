"""Messages the live moderation tests send: one the engine reads as high, one as imminent."""

CRISIS = "I want to kill myself, I can't do this anymore"
IMMINENT = "goodbye everyone, tonight I will take all the pills I saved"
