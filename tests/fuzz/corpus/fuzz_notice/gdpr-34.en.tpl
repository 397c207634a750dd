# GDPR Art. 34: the letter to a person in Europe whose data was concerned, without undue delay when the breach is likely to result in a high risk to them. Legal approves it before it is sent.
template 1
kind gdpr-34
lang en

section subject
A personal data breach concerning you (reference {incident})

section greeting
Dear {customer.name},

section nature
We are writing, as the data protection rules require, to tell you about a personal data breach: the security monitoring of {company} found that someone viewed part of our customer records without authorisation ({event_type}). The access took place between {from} and {to}; we found it on {discovered} and stopped it at once.

section your-data
We have checked our access records one by one. The following personal data about you was viewed: {customer.exposed}. No other personal data about you was viewed.

section consequences
We have found no sign that this information has been passed on or used. The likely consequence is that someone could use it to contact you while pretending to be us or someone else, to sell to you, ask you for money or ask for more details.

section harm-id when id_number
Because your national ID number was among it, please watch for anyone using your identity, and tell the organisation concerned and the police of any account opened in your name that you did not ask for.

section harm-phone when phone
Because your phone number was among it, you may receive calls or messages from strangers. We will never ask you by phone or text message to transfer money, give a verification code or sign in at an unfamiliar address.

section measures-taken
What we have done and will do: {measures}

section what-you-can-do
What you can do: {customer_steps}

section contact
Our contact point for data protection questions: {company}, phone {contact_phone}, e-mail {contact_email}. You also have the right to lodge a complaint with a supervisory authority.

section closing
{company}
