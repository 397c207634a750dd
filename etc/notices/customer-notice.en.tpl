# The letter to a customer affected (PIPL Art. 57, GDPR Art. 34). Legal approves it before it is sent.
template 1
kind customer-notice
lang en

section subject
About the security of your personal information (reference {incident})

section greeting
Dear {customer.name},

section what-happened
We are writing to let you know that {company}'s security monitoring found that someone viewed part of our customer records without authorisation. We stopped that access as soon as we found it and are reviewing it in full.

section when
The access took place between {from} and {to}. We found it on {discovered}.

section your-data
We have checked our access records one by one. During that time, the following information about you was viewed: {customer.exposed}. No other information about you was viewed.

section possible-harm
We have found no sign that this information has been passed on or used. To be careful, please keep in mind that someone could use your name and the information above to win your trust while pretending to be us or someone else, in order to sell to you, ask you for money or ask for more details.

section harm-id when id_number
Because your national ID number was among it, please watch for anyone using your identity. If you find an account or service opened in your name that you did not ask for, tell the organisation concerned and the police.

section harm-phone when phone
Because your phone number was among it, you may receive calls or messages from strangers. We will never ask you by phone or text message to transfer money, give a verification code or sign in at an unfamiliar address.

section harm-purchases when transactions
Because your purchase records were among it, someone may pretend to call about your pieces or orders. For anything about delivery, payment or authentication, please check with your usual adviser or our official number.

section measures-taken
What we have done: {measures}

section what-you-can-do
What you can do: {customer_steps}
If you receive a suspicious call or message claiming to be from us, please hang up and call us on the number below.

section contact
If you have any question or would like to know more, please contact us:
Phone: {contact_phone}
E-mail: {contact_email}
We are sorry for the concern this causes you and will keep improving how we protect our customers' information.

section closing
{company}
