# GDPR 第 34 条：致欧洲境内个人信息主体的告知信（可能给其带来高风险时，不得无故拖延）。发送前须经法务批准。
template 1
kind gdpr-34
lang zh-CN

section subject
关于涉及您的个人数据泄露的告知（编号 {incident}）

section greeting
尊敬的{customer.name}：

section nature
根据数据保护法规的要求，我们在此告知您{company}发生的一起个人数据泄露事件：我们的安全监测发现，有人在未经授权的情况下查看了部分客户记录（{event_type}）。该访问发生在{from}至{to}之间，我们于{discovered}发现并立即中止了该访问。

section your-data
经对访问记录的逐条核查，与您有关的以下个人数据被查看：{customer.exposed}。除上述信息外，您的其他个人数据未被查看。

section consequences
我们目前没有发现这些信息被进一步传播或使用。可能的后果是：有人冒充本公司或他人与您联系，向您推销、索要钱款或套取更多信息。

section harm-id when id_number
由于其中包括您的身份证号码，请留意他人冒用您身份的情况；如发现有人以您的名义开立了您未申请的账户，请告知相关机构并报警。

section harm-phone when phone
由于其中包括您的手机号码，您可能会接到陌生来电或短信。本公司绝不会通过电话或短信要求您转账、提供验证码或登录陌生网址。

section measures-taken
我们已经采取和将要采取的措施：{measures}

section what-you-can-do
您可以这样保护自己：{customer_steps}

section contact
数据保护事务联系方式：{company}，电话 {contact_phone}，电子邮箱 {contact_email}。您也有权向监管机构投诉。

section closing
{company}
