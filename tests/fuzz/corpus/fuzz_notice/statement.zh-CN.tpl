# 对外声明草稿：由传播与法务共同编辑、批准。
template 1
kind statement
lang zh-CN

section headline
关于客户信息安全事件的说明

section what-happened
{company}于{discovered}发现，部分客户信息在{from}至{to}期间被未经授权查看，涉及 {people} 位客户。我们已第一时间中止该访问。

section measures-taken
我们已采取的措施：{measures}

section customers
我们正在逐一告知受影响的客户。请广大客户警惕冒用本公司名义的来电和信息：本公司不会要求您转账或提供验证码。

section contact
如有疑问，请致电 {contact_phone} 或发送邮件至 {contact_email}。
