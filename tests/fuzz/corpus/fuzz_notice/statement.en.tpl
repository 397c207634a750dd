# Public statement draft: edited and approved by communications and legal together.
template 1
kind statement
lang en

section headline
About a security incident involving customer information

section what-happened
On {discovered}, {company} found that some customer information had been viewed without authorisation between {from} and {to}, concerning {people} customers. We stopped that access at once.

section measures-taken
What we have done: {measures}

section customers
We are contacting each customer affected. Please be wary of calls or messages that use our name: we will never ask you to transfer money or give a verification code.

section contact
If you have any question, please call {contact_phone} or write to {contact_email}.
