# 致受影响客户的通知（《个人信息保护法》第五十七条）。发出前须经法务批准。
template 1
kind customer-notice
lang zh-CN

section subject
关于您个人信息安全事件的告知（编号 {incident}）

section greeting
尊敬的{customer.name}：

section what-happened
我们在此诚恳地告知您：{company}在日常安全监测中发现，有人在未经授权的情况下查看了我们客户系统中的部分客户信息。我们已第一时间中止了该访问，并正在进行全面核查。

section when
该访问发生在{from}至{to}之间，我们于{discovered}发现此事。

section your-data
经对系统访问记录的逐条核查，与您有关的以下信息在此期间被查看：{customer.exposed}。除上述信息外，您的其他信息未被查看。

section possible-harm
我们目前没有发现这些信息被进一步传播或使用。但为谨慎起见，请您留意：有人可能冒充本公司或他人，以您的姓名和上述信息取得您的信任，向您推销、索要钱款或套取更多信息。

section harm-id when id_number
由于涉及您的身份证号码，请特别留意有人冒用您的身份办理业务。如发现以您名义开立的账户或业务，请及时向相关机构和公安机关反映。

section harm-phone when phone
由于涉及您的手机号码，您可能接到陌生来电或短信。本公司不会通过电话或短信要求您转账、提供验证码或登录陌生网址。

section harm-purchases when transactions
由于涉及您的交易记录，有人可能借此谎称与您的藏品或订单有关。涉及藏品交付、付款或鉴定的任何事宜，请以您熟悉的专属顾问或本公司官方电话核实。

section measures-taken
我们已经采取以下措施：{measures}

section what-you-can-do
您可以这样保护自己：{customer_steps}
如接到自称本公司的可疑来电或消息，请挂断后拨打下方电话核实。

section contact
如您有任何疑问，或希望了解更多情况，请联系我们：
电话：{contact_phone}
电子邮箱：{contact_email}
我们对此事给您带来的困扰深表歉意，并将持续改进对客户信息的保护。

section closing
{company}
