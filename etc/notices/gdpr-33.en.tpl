# GDPR Art. 33: notification to the supervisory authority within 72 hours of awareness.
template 1
kind gdpr-33
lang en

section title
Notification of a personal data breach (reference {incident})

section timing
The controller, {company}, became aware of the breach on {discovered}. The unauthorised access took place between {from} and {to}.

section nature
Nature of the breach: {event_type}. Categories of personal data concerned: {categories}. Approximate number of data subjects concerned: {people}. Approximate number of personal data records concerned: {records}.

section consequences
Likely consequences: {harm}

section measures-taken
Measures taken or proposed, including to mitigate possible adverse effects: {measures}

section contact
Contact point: {company}, phone {contact_phone}, e-mail {contact_email}.
